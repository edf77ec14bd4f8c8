package dev.tdemu.core.pc;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NmiStateTest {
    private static final int NMI_SELF = (4 << 8) | (1 << 14) | (1 << 18);

    private final LocalApicFixture f = new LocalApicFixture().enabled();
    private final NmiState nmi = new NmiState(f.apic);

    private void nmiIpiToSelf() {
        f.write(ApicRegister.ICR_LOW, NMI_SELF);
    }

    @Test
    void anNmiIsDeliveredOnceAndBlocksTheNextUntilIret() {
        nmiIpiToSelf();
        assertTrue(nmi.deliverable());
        assertTrue(nmi.takePending());
        assertTrue(nmi.blocked());
        assertFalse(nmi.takePending());
        nmi.iret();
        assertFalse(nmi.blocked());
        assertFalse(nmi.takePending(), "only one was sent");
    }

    @Test
    void whileBlockedOneNmiIsLatchedAndTheOthersAreLost() {
        nmiIpiToSelf();
        assertTrue(nmi.takePending());
        for (int i = 0; i < 10; i++) { // kvm-unit-tests' pending NMI test: ten NMIs sent from the handler
            nmiIpiToSelf();
            assertFalse(nmi.takePending(), "blocked");
        }
        assertEquals(1, nmi.latched());
        nmi.iret();
        assertTrue(nmi.takePending(), "the latched one follows the IRET");
        nmi.iret();
        assertFalse(nmi.takePending(), "exactly two in all");
    }

    @Test
    void twoNmisArrivingBeforeTheCoreLooksAreBothDelivered() {
        nmiIpiToSelf();
        f.write(ApicRegister.LVT_LINT1, 4 << 8); // LINT1 in NMI mode
        f.apic.lint1().raise();
        assertEquals(2, nmi.latched(), "not blocked yet: KVM keeps two (kvm-unit-tests' multiple NMI test)");
        assertTrue(nmi.takePending());
        nmi.iret();
        assertTrue(nmi.takePending());
        nmi.iret();
        assertFalse(nmi.deliverable());
    }

    @Test
    void nestedNmisNeverDeliverWhileTheFirstHandlerRuns() {
        nmiIpiToSelf();
        assertTrue(nmi.takePending());
        nmiIpiToSelf();
        for (int i = 0; i < 3; i++) {
            assertFalse(nmi.deliverable());
            assertFalse(nmi.takePending());
        }
        assertTrue(nmi.blocked());
    }

    @Test
    void anIretUnblocksEvenWhenItEndsSomethingElse() {
        nmiIpiToSelf();
        nmi.takePending();
        nmi.iret(); // e.g. a #PF handler inside the NMI handler returned: the SDM says IRET unblocks
        nmiIpiToSelf();
        assertTrue(nmi.takePending());
    }

    @Test
    void anIoApicNmiEntryReachesTheCoreThroughTheApic() {
        ApicBus bus = new ApicBus((source, icr, why) -> { });
        LocalApic apic = new LocalApic(0, true, new dev.tdemu.core.platform.ManualClock(), bus);
        bus.attach(apic);
        NmiState state = new NmiState(apic);
        IoApic ioapic = new IoApic(bus);
        ioapic.write(IoApic.IOREGSEL, 4, IoApic.IOREDTBL + 2 * 3);
        ioapic.write(IoApic.IOWIN, 4, 4 << 8);
        ioapic.pin(3).raise();
        assertTrue(state.takePending());
    }

    @Test
    void resetForgetsLatchedNmisAndBlocking() {
        nmiIpiToSelf();
        nmi.takePending();
        nmiIpiToSelf();
        assertEquals(1, nmi.latched());
        nmi.reset();
        assertFalse(nmi.blocked());
        assertEquals(0, nmi.latched());
    }
}
