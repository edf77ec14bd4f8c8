package dev.tdemu.core.pc;

import dev.tdemu.core.platform.ManualClock;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** INIT and start-up IPIs between two vCPUs on a bus, as Linux and kvm-unit-tests bring up an AP. */
class MpInitStateTest {
    private static final int INIT = 5 << 8, STARTUP = 6 << 8, ASSERT = 1 << 14, LEVEL = 1 << 15;

    private final ManualClock clock = new ManualClock();
    private final ApicBus bus = new ApicBus((source, icr, why) -> { throw new AssertionError(why); });
    private final LocalApic bspApic = new LocalApic(0, true, clock, bus);
    private final LocalApic apApic = new LocalApic(1, false, clock, bus);
    private final MpInitState bsp = new MpInitState(bspApic);
    private final MpInitState ap = new MpInitState(apApic);

    MpInitStateTest() {
        bus.attach(bspApic);
        bus.attach(apApic);
        bspApic.write(ApicRegister.SVR.offset(), 4, 0x1FF);
    }

    /** The BSP writes ICR high then low, destination APIC 1. */
    private void toAp(int low) {
        bspApic.write(ApicRegister.ICR_HIGH.offset(), 4, 1L << 24);
        bspApic.write(ApicRegister.ICR_LOW.offset(), 4, low);
    }

    @Test
    void anInitAndTheSipiRightBehindItStartTheApHoweverTheApsThreadInterleavesItsAccepts() throws Exception {
        // The sender writes INIT then SIPI while the AP's thread takes its events in a loop; after both
        // arrived and were taken, the AP runs. Taken one by one, the pair could be split: SIPI started the
        // AP and the INIT taken next put it back to wait for a SIPI that was already gone.
        java.util.concurrent.Phaser rounds = new java.util.concurrent.Phaser(2);
        java.util.concurrent.atomic.AtomicBoolean sent = new java.util.concurrent.atomic.AtomicBoolean();
        int total = 20_000;
        Thread sender = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < total; i++) {
                rounds.arriveAndAwaitAdvance();
                toAp(INIT | ASSERT);
                toAp(STARTUP | ASSERT | 0x9A);
                sent.set(true);
                rounds.arriveAndAwaitAdvance();
            }
        });
        try {
            for (int i = 0; i < total; i++) {
                sent.set(false);
                rounds.arriveAndAwaitAdvance();
                while (!sent.get()) {
                    ap.acceptEvents();
                }
                ap.acceptEvents();
                assertEquals(MpInitState.State.RUNNABLE, ap.state(), "round " + i);
                rounds.arriveAndAwaitAdvance();
            }
        } finally {
            rounds.forceTermination();
            sender.join();
        }
    }

    @Test
    void startupIpisAreAcceptedBySoftwareDisabledApics() {
        assertFalse(apApic.softwareEnabled());
        toAp(INIT | ASSERT);
        assertEquals(new MpInitAction.Init(true), ap.acceptEvents());
    }

    @Test
    void atPowerUpTheBspRunsAndTheApWaitsForSipi() {
        assertEquals(MpInitState.State.RUNNABLE, bsp.state());
        assertEquals(MpInitState.State.WAIT_FOR_SIPI, ap.state());
        assertFalse(ap.runnable());
        assertEquals(MpInitAction.NONE, ap.acceptEvents());
    }

    @Test
    void initSipiSipiStartsTheApInRealModeAtTheVectorTimes4096AndTheSecondSipiIsIgnored() {
        toAp(INIT | LEVEL | ASSERT);
        assertEquals(new MpInitAction.Init(true), ap.acceptEvents());
        toAp(INIT | LEVEL); // the INIT level de-assert Linux still sends: no INIT
        assertEquals(MpInitAction.NONE, ap.acceptEvents());
        toAp(STARTUP | ASSERT | 0x9A);
        MpInitAction first = ap.acceptEvents();
        assertEquals(new MpInitAction.Startup(0x9A), first);
        MpInitAction.Startup start = (MpInitAction.Startup) first;
        assertEquals(0x9A00, start.csSelector());
        assertEquals(0x9A000, start.csBase());
        assertEquals(0x9A000, start.startAddress());
        assertEquals(0, start.rip());
        assertTrue(ap.runnable());
        toAp(STARTUP | ASSERT | 0x9A);
        assertEquals(new MpInitAction.SipiIgnored(0x9A), ap.acceptEvents(), "a SIPI to a running CPU is ignored");
        assertTrue(ap.runnable());
    }

    @Test
    void aSipiToAFreshlyResetApStartsIt() {
        toAp(STARTUP | ASSERT | 0x10);
        assertEquals(new MpInitAction.Startup(0x10), ap.acceptEvents());
    }

    @Test
    void initAndSipiTakenTogetherStartTheAp() {
        toAp(STARTUP | ASSERT | 0x10);
        ap.acceptEvents(); // running
        toAp(INIT | ASSERT);
        toAp(STARTUP | ASSERT | 0x20);
        assertEquals(new MpInitAction.Startup(0x20), ap.acceptEvents());
        assertTrue(ap.runnable());
    }

    @Test
    void aSipiThatCameBeforeTheInitIsDropped() {
        toAp(STARTUP | ASSERT | 0x10);
        ap.acceptEvents(); // running
        toAp(STARTUP | ASSERT | 0x30); // ignored by a running CPU ...
        toAp(INIT | ASSERT); // ... and superseded by the INIT before the vCPU looked
        assertEquals(new MpInitAction.Init(true), ap.acceptEvents());
        assertEquals(MpInitState.State.WAIT_FOR_SIPI, ap.state());
    }

    @Test
    void initOnTheBspRestartsAtTheResetVectorWithoutWaitingForSipi() {
        bspApic.write(ApicRegister.ICR_LOW.offset(), 4, INIT | ASSERT | (1 << 18)); // INIT to self
        assertEquals(new MpInitAction.Init(false), bsp.acceptEvents());
        assertTrue(bsp.runnable());
    }

    @Test
    void initResetsTheApsLocalApicButKeepsItsIdAndX2apicMode() {
        apApic.write(ApicRegister.SVR.offset(), 4, 0x1FF);
        assertEquals(MsrWrite.DONE, apApic.writeApicBase(apApic.readApicBase() | ApicBase.X2APIC_ENABLE));
        apApic.writeX2apicMsr(0x808, 0x50);
        bspApic.write(ApicRegister.ICR_HIGH.offset(), 4, 0xFFL << 24);
        bspApic.write(ApicRegister.ICR_LOW.offset(), 4, INIT | ASSERT | (3 << 18)); // all excluding self
        assertEquals(new MpInitAction.Init(true), ap.acceptEvents());
        assertTrue(apApic.x2apicMode());
        assertEquals(new MsrRead.Value(1), apApic.readX2apicMsr(0x802));
        assertEquals(new MsrRead.Value(0), apApic.readX2apicMsr(0x808), "TPR back to 0");
        assertEquals(new MsrRead.Value(0xFF), apApic.readX2apicMsr(0x80F), "software-disabled again");
    }

    @Test
    void aPendingInitWakesTheVcpuWhateverItsStateButASipiOnlyWhileItWaitsForOne() {
        toAp(STARTUP | ASSERT | 0x10);
        assertTrue(ap.eventPending(), "a SIPI for an AP waiting for one");
        ap.acceptEvents(); // running: from here a halted AP (even after CLI) can only be woken by INIT
        assertFalse(ap.eventPending());
        toAp(STARTUP | ASSERT | 0x10);
        assertFalse(ap.eventPending(), "a SIPI to a running or halted CPU is ignored, so it wakes nothing");
        ap.acceptEvents();
        toAp(INIT | ASSERT);
        assertTrue(ap.eventPending(), "INIT is not maskable");
        ap.acceptEvents();
        assertFalse(ap.eventPending(), "taken");
        toAp(INIT | LEVEL);
        assertFalse(ap.eventPending(), "an INIT level de-assert is no INIT");
    }

    @Test
    void aStartupVectorIsOneByte() {
        assertThrows(IllegalArgumentException.class, () -> new MpInitAction.Startup(0x100));
    }

    // ---- a TD: INIT/SIPI blocked, APs woken through the ACPI Multiprocessor Wakeup mailbox ----

    private static MpWakeupMailbox.Request mailbox(int command, long apicId, long vector) {
        byte[] b = new byte[MpWakeupMailbox.REQUEST_SIZE];
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putShort(0, (short) command).putInt(4, (int) apicId)
                .putLong(8, vector);
        return MpWakeupMailbox.Request.decode(b);
    }

    @Test
    void aTdsApplicationProcessorWaitsForTheWakeupMailboxAndItsBspRuns() {
        assertEquals(MpInitState.State.RUNNABLE, MpInitState.trustDomain(bspApic).state());
        MpInitState td = MpInitState.trustDomain(apApic);
        assertEquals(MpInitState.State.WAIT_FOR_WAKEUP, td.state());
        assertFalse(td.runnable());
    }

    @Test
    void initAndSipiToATdsApplicationProcessorAreBlockedAndWakeNothing() {
        MpInitState td = MpInitState.trustDomain(apApic);
        toAp(INIT | ASSERT);
        toAp(STARTUP | ASSERT | 0x9A);
        assertFalse(td.eventPending(), "blocked INIT/SIPI wake no halted TD vCPU");
        assertEquals(new MpInitAction.BlockedInTd(true, 0x9A), td.acceptEvents());
        assertEquals(MpInitState.State.WAIT_FOR_WAKEUP, td.state());
        assertEquals(MpInitAction.NONE, td.acceptEvents(), "taken once");
    }

    @Test
    void aWakeupCommandForItsApicIdStartsTheApAtTheVectorOnce() {
        MpInitState td = MpInitState.trustDomain(apApic);
        MpWakeupMailbox.Request wake = mailbox(MpWakeupMailbox.COMMAND_WAKEUP, 1, 0x1234_5000L);
        assertTrue(td.wakeupPending(wake));
        assertEquals(new MpInitAction.Wakeup(0x1234_5000L), td.acceptWakeup(wake));
        assertTrue(td.runnable());
        assertFalse(td.wakeupPending(wake), "a woken AP is the OS's: it polls no more");
        assertEquals(MpInitAction.NONE, td.acceptWakeup(wake));
    }

    @Test
    void aWakeupForAnotherApOrANoopLeavesTheApWaiting() {
        MpInitState td = MpInitState.trustDomain(apApic);
        for (MpWakeupMailbox.Request r : new MpWakeupMailbox.Request[] {mailbox(MpWakeupMailbox.COMMAND_WAKEUP, 2, 0x8000),
            mailbox(MpWakeupMailbox.COMMAND_NOOP, 1, 0x8000)}) {
            assertFalse(td.wakeupPending(r), r.toString());
            assertEquals(MpInitAction.NONE, td.acceptWakeup(r), r.toString());
            assertEquals(MpInitState.State.WAIT_FOR_WAKEUP, td.state());
        }
    }

    @Test
    void aCommandMailboxVersion0DoesNotDefineIsReportedAndWakesNothing() {
        MpInitState td = MpInitState.trustDomain(apApic);
        assertEquals(new MpInitAction.UnknownMailboxCommand(2), td.acceptWakeup(mailbox(2, 1, 0)));
        assertEquals(MpInitState.State.WAIT_FOR_WAKEUP, td.state());
    }

    @Test
    void outsideATdTheMailboxWakesNothing() {
        MpWakeupMailbox.Request wake = mailbox(MpWakeupMailbox.COMMAND_WAKEUP, 1, 0x8000);
        assertFalse(ap.wakeupPending(wake));
        assertEquals(MpInitAction.NONE, ap.acceptWakeup(wake));
        assertEquals(MpInitState.State.WAIT_FOR_SIPI, ap.state());
    }

    @Test
    void theMailboxRequestDecodesLittleEndianFields() {
        MpWakeupMailbox.Request r = mailbox(1, 0xFFFF_FFFEL, 0x8000_0000_1234_5678L);
        assertEquals(1, r.command());
        assertEquals(0xFFFF_FFFEL, r.apicId());
        assertEquals(0x8000_0000_1234_5678L, r.wakeupVector());
        assertThrows(IllegalArgumentException.class, () -> MpWakeupMailbox.Request.decode(new byte[15]));
    }
}
