package dev.tdemu.core.pc;

import dev.tdemu.core.platform.ManualClock;
import dev.tdemu.core.platform.MmioBus;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The I/O APIC at register level and with local APICs on an {@link ApicBus}. */
class IoApicTest {
    private static final int FIXED = 0, LOWEST = 1 << 8, SMI = 2 << 8, NMI = 4 << 8, INIT = 5 << 8, EXTINT = 7 << 8;
    private static final int LOGICAL = 1 << 11, ACTIVE_LOW = 1 << 13, REMOTE_IRR = 1 << 14, LEVEL = 1 << 15, MASKED = 1 << 16;

    /** vCPUs with software-enabled APICs, the bus, and an I/O APIC at 0xFEC00000 on an MMIO bus. */
    private static final class Machine {
        final ManualClock clock = new ManualClock();
        final List<String> undeliverable = new ArrayList<>();
        final ApicBus bus = new ApicBus((source, icr, why) -> undeliverable.add(why));
        final List<LocalApic> apics = new ArrayList<>();
        final IoApic ioapic = new IoApic(bus);
        final MmioBus mmio = new MmioBus();

        Machine(int vcpus) {
            for (int i = 0; i < vcpus; i++) {
                LocalApic apic = new LocalApic(i, i == 0, clock, bus);
                apic.write(ApicRegister.SVR.offset(), 4, 0x1FF);
                apic.setEoiListener(ioapic);
                bus.attach(apic);
                apics.add(apic);
            }
            mmio.register("ioapic", IoApic.DEFAULT_BASE, IoApic.MMIO_SIZE, ioapic);
        }

        int readRegister(int index) {
            mmio.write(IoApic.DEFAULT_BASE + IoApic.IOREGSEL, 4, index);
            return (int) mmio.read(IoApic.DEFAULT_BASE + IoApic.IOWIN, 4);
        }

        void writeRegister(int index, int value) {
            mmio.write(IoApic.DEFAULT_BASE + IoApic.IOREGSEL, 4, index);
            mmio.write(IoApic.DEFAULT_BASE + IoApic.IOWIN, 4, Integer.toUnsignedLong(value));
        }

        /** Programs IOREDTBL[pin] the way Linux does: high half (destination) first, then low half. */
        void route(int pin, int low, int destination) {
            writeRegister(IoApic.IOREDTBL + 2 * pin + 1, destination << 24);
            writeRegister(IoApic.IOREDTBL + 2 * pin, low);
        }

        int low(int pin) {
            return readRegister(IoApic.IOREDTBL + 2 * pin);
        }

        boolean remoteIrr(int pin) {
            return (low(pin) & REMOTE_IRR) != 0;
        }

        LocalApic cpu(int n) {
            return apics.get(n);
        }

        boolean pending(int cpu, int vector) {
            return cpu(cpu).pendingVector().equals(OptionalInt.of(vector));
        }

        List<Boolean> pendingOn(int vector) {
            return apics.stream().map(a -> a.pendingVector().equals(OptionalInt.of(vector))).toList();
        }

        boolean tmr(int cpu, int vector) {
            long slot = cpu(cpu).read(ApicRegister.TMR.offset() + 16L * (vector >>> 5), 4);
            return (slot & (1L << (vector & 31))) != 0;
        }

        /** The CPU takes the interrupt and its handler ends with an EOI; returns the vector. */
        int handle(int cpu) {
            int vector = cpu(cpu).acknowledge().vector();
            cpu(cpu).write(ApicRegister.EOI.offset(), 4, 0);
            return vector;
        }
    }

    // ---- registers ----

    @Test
    void theVersionRegisterSaysVersion0x20With24EntriesAndIsReadOnly() {
        Machine m = new Machine(1);
        assertEquals(0x0017_0020, m.readRegister(IoApic.IOAPICVER));
        m.writeRegister(IoApic.IOAPICVER, 0xFFFF_FFFF);
        assertEquals(0x0017_0020, m.readRegister(IoApic.IOAPICVER));
    }

    @Test
    void onlyIdBits27To24AreWritableAndTheArbitrationRegisterFollowsTheId() {
        Machine m = new Machine(1);
        assertEquals(0, m.readRegister(IoApic.IOAPICID), "ID 0, as the MADT says");
        m.writeRegister(IoApic.IOAPICID, 0xFFFF_FFFF);
        assertEquals(0x0F00_0000, m.readRegister(IoApic.IOAPICID));
        assertEquals(0x0F00_0000, m.readRegister(IoApic.IOAPICARB));
        m.writeRegister(IoApic.IOAPICARB, 0);
        assertEquals(0x0F00_0000, m.readRegister(IoApic.IOAPICARB), "read-only");
    }

    @Test
    void ioregselIsAnEightBitIndexThatReadsBack() {
        Machine m = new Machine(1);
        m.mmio.write(IoApic.DEFAULT_BASE, 4, 0x1234_5611);
        assertEquals(0x11, m.mmio.read(IoApic.DEFAULT_BASE, 4));
        assertEquals(0x11, m.mmio.read(IoApic.DEFAULT_BASE, 1));
    }

    @Test
    void undefinedRegistersReadZeroAndIgnoreWrites() {
        Machine m = new Machine(1);
        for (int index : new int[] {0x03, 0x0F, 0x40, 0xFF}) {
            m.writeRegister(index, 0xFFFF_FFFF);
            assertEquals(0, m.readRegister(index), Integer.toHexString(index));
        }
        assertEquals(0, m.mmio.read(IoApic.DEFAULT_BASE + 0x20, 4));
    }

    @Test
    void iowinNeedsDwordAccessesAsInQemu() {
        Machine m = new Machine(1);
        m.mmio.write(IoApic.DEFAULT_BASE + IoApic.IOREGSEL, 4, IoApic.IOAPICVER);
        assertEquals(0, m.mmio.read(IoApic.DEFAULT_BASE + IoApic.IOWIN, 2));
        m.mmio.write(IoApic.DEFAULT_BASE + IoApic.IOREGSEL, 4, IoApic.IOAPICID);
        m.mmio.write(IoApic.DEFAULT_BASE + IoApic.IOWIN, 1, 0xFF);
        assertEquals(0, m.readRegister(IoApic.IOAPICID));
    }

    @Test
    void theRegistersRepeatEvery256BytesOfThePage() {
        Machine m = new Machine(1);
        m.mmio.write(IoApic.DEFAULT_BASE + 0x300, 4, IoApic.IOAPICVER);
        assertEquals(0x0017_0020, m.mmio.read(IoApic.DEFAULT_BASE + 0x310, 4));
    }

    @Test
    void afterResetEveryEntryIsMasked() {
        Machine m = new Machine(1);
        for (int pin = 0; pin < IoApic.PINS; pin++) {
            assertEquals(MASKED, m.low(pin));
            assertEquals(0, m.readRegister(IoApic.IOREDTBL + 2 * pin + 1));
        }
        m.route(3, 0x33, 1);
        m.ioapic.reset();
        assertEquals(IoApicRedirectionEntry.RESET, m.ioapic.entry(3));
    }

    @Test
    void entriesKeepWhatIsWrittenExceptTheReadOnlyDeliveryStatusAndRemoteIrr() {
        Machine m = new Machine(1);
        m.writeRegister(IoApic.IOREDTBL + 2 * 5, 0xFFFF_FFFF);
        assertEquals(0xFFFF_FFFF & ~((1 << 12) | REMOTE_IRR), m.low(5), "reserved bits 31:17 are kept, as QEMU and KVM");
        m.writeRegister(IoApic.IOREDTBL + 2 * 5 + 1, 0xAB00_1234);
        assertEquals(0xAB00_1234, m.readRegister(IoApic.IOREDTBL + 2 * 5 + 1));
        IoApicRedirectionEntry e = m.ioapic.entry(5);
        assertEquals(0xAB, e.destination());
        assertEquals(0xFF, e.vector());
        assertEquals(ApicDeliveryMode.EXTINT, e.deliveryMode());
        assertTrue(e.logical() && e.activeLow() && e.masked());
        assertEquals(ApicTriggerMode.LEVEL, e.triggerMode());
    }

    @Test
    void pinsOutsideTheTableAreRefused() {
        Machine m = new Machine(1);
        assertThrows(IllegalArgumentException.class, () -> m.ioapic.pin(24));
        assertThrows(IllegalArgumentException.class, () -> m.ioapic.entry(-1));
    }

    // ---- edge-triggered pins ----

    @Test
    void aPitLikeEdgeLineOnPin2InterruptsApic0WithItsVector() {
        Machine m = new Machine(2);
        m.route(2, FIXED | 0x30, 0);
        m.ioapic.pin(2).pulse();
        assertEquals(List.of(true, false), m.pendingOn(0x30));
        assertFalse(m.tmr(0, 0x30), "edge: TMR clear, so no EOI broadcast");
        assertEquals(0x30, m.handle(0));
        assertFalse(m.remoteIrr(2));
        m.ioapic.pin(2).pulse();
        assertTrue(m.pending(0, 0x30), "every rising edge is a new interrupt");
    }

    @Test
    void aLineHeldHighIsOneEdge() {
        Machine m = new Machine(1);
        m.route(14, FIXED | 0x76, 0);
        m.ioapic.pin(14).raise();
        assertEquals(0x76, m.handle(0));
        m.ioapic.pin(14).raise();
        assertFalse(m.pending(0, 0x76));
    }

    @Test
    void anEdgeOnAMaskedPinIsLost() {
        Machine m = new Machine(1);
        m.route(14, MASKED | FIXED | 0x81, 0);
        m.ioapic.pin(14).pulse();
        m.route(14, FIXED | 0x81, 0);
        assertFalse(m.pending(0, 0x81));
        m.ioapic.pin(14).raise();
        assertTrue(m.pending(0, 0x81), "the next edge after unmasking is delivered");
    }

    @Test
    void simultaneousEdgesWaitInTheIrrAndTheHigherVectorGoesFirst() {
        Machine m = new Machine(1);
        m.route(14, FIXED | 0x78, 0);
        m.route(15, FIXED | 0x66, 0);
        m.ioapic.pin(15).pulse();
        m.ioapic.pin(14).pulse();
        assertEquals(0x78, m.handle(0));
        assertEquals(0x66, m.handle(0));
    }

    // ---- level-triggered pins ----

    @Test
    void aLevelLineSetsRemoteIrrAndIsDeliveredAgainAfterTheEoiWhileStillAsserted() {
        Machine m = new Machine(1);
        m.route(14, LEVEL | FIXED | 0x9A, 0);
        m.ioapic.pin(14).raise();
        assertTrue(m.remoteIrr(14));
        assertTrue(m.tmr(0, 0x9A), "level: TMR set, so the EOI is broadcast");
        assertEquals(0x9A, m.handle(0)); // the handler does not lower the line
        assertTrue(m.pending(0, 0x9A), "redelivered on the EOI");
        assertTrue(m.remoteIrr(14));
        m.cpu(0).acknowledge();
        m.ioapic.pin(14).lower(); // this time the handler quietens the device
        m.cpu(0).write(ApicRegister.EOI.offset(), 4, 0);
        assertFalse(m.remoteIrr(14));
        assertFalse(m.pending(0, 0x9A));
    }

    @Test
    void aLevelLineToggledWhileRemoteIrrIsSetIsCoalesced() {
        Machine m = new Machine(1);
        m.route(14, LEVEL | FIXED | 0x98, 0);
        m.ioapic.pin(14).raise();
        m.cpu(0).acknowledge();
        m.ioapic.pin(14).lower();
        m.ioapic.pin(14).raise(); // while in service: the remote IRR holds it
        assertFalse(m.pending(0, 0x98));
        m.ioapic.pin(14).lower();
        m.cpu(0).write(ApicRegister.EOI.offset(), 4, 0);
        assertFalse(m.pending(0, 0x98), "one interrupt (kvm-unit-tests' level coalesce)");
    }

    @Test
    void aLevelPinAssertedWhileMaskedIsDeliveredWhenUnmasked() {
        Machine m = new Machine(1);
        m.route(14, MASKED | LEVEL | FIXED | 0x82, 0);
        m.ioapic.pin(14).raise();
        assertFalse(m.pending(0, 0x82));
        assertFalse(m.remoteIrr(14));
        m.route(14, LEVEL | FIXED | 0x82, 0);
        assertTrue(m.pending(0, 0x82));
        assertTrue(m.remoteIrr(14));
    }

    @Test
    void maskingInTheHandlerHoldsTheRedeliveryUntilTheEntryIsUnmasked() {
        Machine m = new Machine(1);
        m.route(14, LEVEL | FIXED | 0x83, 0);
        m.ioapic.pin(14).raise();
        m.cpu(0).acknowledge();
        m.route(14, MASKED | LEVEL | FIXED | 0x83, 0);
        m.cpu(0).write(ApicRegister.EOI.offset(), 4, 0);
        assertFalse(m.remoteIrr(14));
        assertFalse(m.pending(0, 0x83));
        m.route(14, LEVEL | FIXED | 0x83, 0);
        assertTrue(m.pending(0, 0x83), "kvm-unit-tests' retriggered level interrupt with mask");
    }

    @Test
    void theEoiRegisterClearsRemoteIrrOfTheEntriesWithThatVector() {
        Machine m = new Machine(1);
        m.route(9, LEVEL | FIXED | 0x49, 0);
        m.route(10, LEVEL | FIXED | 0x49, 0);
        m.ioapic.pin(9).raise();
        m.ioapic.pin(10).raise();
        m.cpu(0).acknowledge(); // the handler will not EOI its local APIC (directed-EOI style)
        m.ioapic.pin(9).lower();
        m.ioapic.pin(10).lower();
        m.mmio.write(IoApic.DEFAULT_BASE + IoApic.EOI, 4, 0x48); // another vector: nothing
        assertTrue(m.remoteIrr(9));
        m.mmio.write(IoApic.DEFAULT_BASE + IoApic.EOI, 2, 0x49); // not 32 bits: dropped, as in QEMU
        assertTrue(m.remoteIrr(9));
        m.mmio.write(IoApic.DEFAULT_BASE + IoApic.EOI, 4, 0x149); // bits 7:0 are the vector
        assertFalse(m.remoteIrr(9));
        assertFalse(m.remoteIrr(10), "every entry with the vector");
    }

    @Test
    void anEoiRegisterWriteForAStillAssertedPinSendsItAgain() {
        Machine m = new Machine(1);
        m.route(9, LEVEL | FIXED | 0x49, 0);
        m.ioapic.pin(9).raise();
        m.cpu(0).acknowledge();
        m.mmio.write(IoApic.DEFAULT_BASE + IoApic.EOI, 4, 0x49);
        assertTrue(m.remoteIrr(9), "sent again at once, accepted into the IRR");
        assertTrue(m.cpu(0).pendingVector().isEmpty(), "while 0x49 is still in service");
        m.cpu(0).write(ApicRegister.EOI.offset(), 4, 0);
        assertTrue(m.pending(0, 0x49));
    }

    @Test
    void writingAnEntryAsEdgeTriggeredClearsAStuckRemoteIrr() {
        Machine m = new Machine(1);
        m.route(10, LEVEL | FIXED | 0x4A, 0);
        m.ioapic.pin(10).raise();
        m.ioapic.pin(10).lower();
        assertTrue(m.remoteIrr(10));
        // Linux's EOI emulation without the EOI register: mask, switch to edge, back to level.
        m.route(10, MASKED | FIXED | 0x4A, 0);
        assertFalse(m.remoteIrr(10));
        m.route(10, LEVEL | FIXED | 0x4A, 0);
        assertFalse(m.remoteIrr(10));
    }

    @Test
    void remoteIrrCannotBeWrittenBySoftware() {
        Machine m = new Machine(1);
        m.route(11, LEVEL | FIXED | REMOTE_IRR | MASKED | 0x4B, 0);
        assertFalse(m.remoteIrr(11));
    }

    @Test
    void aLevelMessageNobodyAcceptsLeavesRemoteIrrClear() {
        Machine m = new Machine(1);
        m.route(5, LEVEL | FIXED | 0x45, 7); // no APIC 7
        m.ioapic.pin(5).raise();
        assertFalse(m.remoteIrr(5));
        m.route(5, LEVEL | FIXED | 0x45, 0); // the destination fixed: the asserted pin is sent at once
        assertTrue(m.pending(0, 0x45));
        assertTrue(m.remoteIrr(5));
    }

    @Test
    void anActiveLowPinIsAssertedWhileItsLineIsLow() {
        Machine m = new Machine(1);
        m.ioapic.pin(16).raise(); // idle high, as an active-low PCI INTx line
        m.route(16, ACTIVE_LOW | LEVEL | FIXED | 0x60, 0);
        assertFalse(m.pending(0, 0x60));
        m.ioapic.pin(16).lower();
        assertTrue(m.ioapic.asserted(16));
        assertTrue(m.pending(0, 0x60));
        m.cpu(0).acknowledge();
        m.ioapic.pin(16).raise();
        m.cpu(0).write(ApicRegister.EOI.offset(), 4, 0);
        assertFalse(m.pending(0, 0x60));
    }

    @Test
    void anActiveLowEdgePinInterruptsOnTheFallingEdgeOfItsLine() {
        Machine m = new Machine(1);
        m.ioapic.pin(17).raise();
        m.route(17, ACTIVE_LOW | FIXED | 0x61, 0);
        m.ioapic.pin(17).lower();
        assertTrue(m.pending(0, 0x61));
        m.handle(0);
        m.ioapic.pin(17).raise();
        assertFalse(m.pending(0, 0x61));
    }

    // ---- destinations and delivery modes ----

    @Test
    void aPhysicalDestinationSelectsOneApicAnd0xFfBroadcasts() {
        Machine m = new Machine(3);
        m.route(3, FIXED | 0x53, 2);
        m.ioapic.pin(3).pulse();
        assertEquals(List.of(false, false, true), m.pendingOn(0x53));
        m.route(4, FIXED | 0x54, 0xFF);
        m.ioapic.pin(4).pulse();
        assertEquals(List.of(true, true, true), m.pendingOn(0x54));
    }

    @Test
    void logicalFlatDestinationsReachEveryApicWithACommonLdrBit() {
        Machine m = new Machine(4);
        for (int i = 0; i < 4; i++) {
            m.cpu(i).write(ApicRegister.LDR.offset(), 4, Integer.toUnsignedLong((1 << i) << 24));
        }
        m.route(14, LOGICAL | LEVEL | FIXED | 0x86, 0xD);
        m.ioapic.pin(14).raise();
        assertEquals(List.of(true, false, true, true), m.pendingOn(0x86), "kvm-unit-tests' logical destination 0xd");
    }

    @Test
    void logicalClusterDestinationsMatchTheClusterThenTheMembers() {
        Machine m = new Machine(3);
        int[] logicalIds = {0x11, 0x12, 0x21};
        for (int i = 0; i < 3; i++) {
            m.cpu(i).write(ApicRegister.DFR.offset(), 4, 0x0FFF_FFFF);
            m.cpu(i).write(ApicRegister.LDR.offset(), 4, Integer.toUnsignedLong(logicalIds[i] << 24));
        }
        m.route(6, LOGICAL | FIXED | 0x56, 0x13);
        m.ioapic.pin(6).pulse();
        assertEquals(List.of(true, true, false), m.pendingOn(0x56));
        m.route(7, LOGICAL | FIXED | 0x57, 0x21);
        m.ioapic.pin(7).pulse();
        assertEquals(List.of(false, false, true), m.pendingOn(0x57));
    }

    @Test
    void aLowestPriorityEntryGoesToTheDestinationWithTheLowestPriorityClass() {
        Machine m = new Machine(3);
        for (int i = 0; i < 3; i++) {
            m.cpu(i).write(ApicRegister.LDR.offset(), 4, Integer.toUnsignedLong(0x07 << 24)); // flat: each in every set
        }
        m.cpu(0).setCr8(4);
        m.cpu(1).setCr8(1);
        m.cpu(2).setCr8(2);
        m.route(8, LOGICAL | LOWEST | 0x90, 0x07);
        m.ioapic.pin(8).pulse();
        assertEquals(List.of(false, true, false), irrOf(m, 0x90), "TPR classes 4, 1, 2: the one at 1 takes it");
        m.cpu(1).setCr8(3);
        m.ioapic.pin(8).pulse();
        assertEquals(List.of(false, true, true), irrOf(m, 0x90), "now classes 4, 3, 2");
    }

    /** Whether each APIC has {@code vector} in its IRR (whatever its TPR lets through). */
    private static List<Boolean> irrOf(Machine m, int vector) {
        return m.apics.stream()
                .map(a -> (a.read(ApicRegister.IRR.offset() + 16L * (vector >>> 5), 4) & (1L << (vector & 31))) != 0).toList();
    }

    @Test
    void lowestPriorityTiesGoRoundRobin() {
        Machine m = new Machine(3);
        m.route(8, LOWEST | 0x91, 0xFF);
        List<Integer> winners = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            m.ioapic.pin(8).pulse();
            for (int cpu = 0; cpu < 3; cpu++) {
                if (m.pending(cpu, 0x91)) {
                    winners.add(cpu);
                    m.handle(cpu);
                }
            }
        }
        assertEquals(List.of(0, 1, 2, 0, 1, 2), winners, "one APIC per interrupt, in turn");
    }

    @Test
    void aLowestPriorityEntrySkipsSoftwareDisabledApics() {
        Machine m = new Machine(2);
        m.cpu(0).write(ApicRegister.SVR.offset(), 4, 0xFF);
        m.route(8, LOWEST | 0x92, 0xFF);
        m.ioapic.pin(8).pulse();
        assertTrue(m.pending(1, 0x92));
    }

    @Test
    void anNmiEntryRaisesAnNmiOnTheEdgeAndNeverSetsRemoteIrrEvenIfProgrammedLevel() {
        Machine m = new Machine(2);
        m.route(12, LEVEL | NMI, 1);
        m.ioapic.pin(12).raise();
        assertTrue(m.cpu(1).takeNmi());
        assertFalse(m.cpu(0).nmiPending());
        assertFalse(m.remoteIrr(12));
        m.ioapic.pin(12).raise();
        assertFalse(m.cpu(1).nmiPending(), "a line held high is one NMI");
    }

    @Test
    void smiAndInitEntriesReachTheCore() {
        Machine m = new Machine(2);
        m.route(13, SMI, 1);
        m.route(15, INIT, 1);
        m.ioapic.pin(13).pulse();
        m.ioapic.pin(15).pulse();
        assertTrue(m.cpu(1).takeSmi());
        assertTrue(m.cpu(1).takeInit());
    }

    @Test
    void anExtIntEntryLetsTheDestinationTakeTheVectorFromThePic() {
        Machine m = new Machine(2);
        boolean[] picPending = {true};
        m.cpu(1).setExtIntSource(new ApicExtIntSource() {
            @Override
            public boolean pending() {
                return picPending[0];
            }

            @Override
            public int acknowledge() {
                picPending[0] = false;
                return 0x20;
            }
        });
        assertFalse(m.cpu(1).hasInterrupt(), "AP: LINT0 masked, no ExtINT path yet");
        m.route(0, EXTINT, 1);
        m.ioapic.pin(0).raise();
        assertTrue(m.cpu(1).hasInterrupt());
        assertEquals(new ApicInterrupt.ExtInt(0x20), m.cpu(1).acknowledge());
        picPending[0] = true;
        assertFalse(m.cpu(1).hasInterrupt(), "one INTA per ExtINT message");
    }

    @Test
    void reservedDeliveryModesReachNoProcessorAreReportedAndLeaveTheEntryUsable() {
        Machine m = new Machine(1);
        m.route(6, (3 << 8) | LEVEL | 0x66, 0); // 011
        m.ioapic.pin(6).raise();
        m.route(7, (6 << 8) | 0x67, 0); // 110
        m.ioapic.pin(7).raise();
        assertEquals(2, m.undeliverable.size());
        assertTrue(m.undeliverable.get(0).contains("011"), m.undeliverable.get(0));
        assertTrue(m.undeliverable.get(1).contains("110"), m.undeliverable.get(1));
        assertFalse(m.remoteIrr(6));
        assertTrue(m.cpu(0).pendingVector().isEmpty());
        assertFalse(m.cpu(0).takeStartup().isPresent(), "110 is not a start-up IPI from an I/O APIC");
        m.route(6, LEVEL | FIXED | 0x66, 0);
        assertTrue(m.pending(0, 0x66), "reprogrammed, the asserted pin is delivered");
    }

    // ---- no recursion ----

    @Test
    void aLevelLineThatStaysAssertedThroughSynchronousEoisIsServedByALoopNotByRecursion() {
        List<Integer> depths = new ArrayList<>();
        IoApic[] holder = new IoApic[1];
        // A sink whose "CPU" EOIs at once, inside the delivery: each EOI asks for the next delivery.
        IoApic ioapic = new IoApic(message -> {
            depths.add(Thread.currentThread().getStackTrace().length);
            if (depths.size() == 1_000) {
                holder[0].pin(9).lower(); // the device quietens after 1000 interrupts
            }
            holder[0].eoi(message.vector());
            return 1;
        });
        holder[0] = ioapic;
        ioapic.write(IoApic.IOREGSEL, 4, IoApic.IOREDTBL + 2 * 9);
        ioapic.write(IoApic.IOWIN, 4, LEVEL | FIXED | 0x49);
        ioapic.pin(9).raise();
        assertEquals(1_000, depths.size());
        assertEquals(1, depths.stream().distinct().count(), "every delivery at the same stack depth: " + depths.subList(0, 3));
        assertFalse(ioapic.entry(9).remoteIrr());
    }

    @Test
    void aPinRaisedFromInsideADeliveryIsSentAfterIt() {
        List<Integer> order = new ArrayList<>();
        IoApic[] holder = new IoApic[1];
        IoApic ioapic = new IoApic(message -> {
            order.add(message.vector());
            if (message.vector() == 0x41) {
                holder[0].pin(2).pulse();
                order.add(-1); // the nested raise returned before its message was sent
            }
            return 1;
        });
        holder[0] = ioapic;
        for (int pin : new int[] {1, 2}) {
            ioapic.write(IoApic.IOREGSEL, 4, IoApic.IOREDTBL + 2 * pin);
            ioapic.write(IoApic.IOWIN, 4, FIXED | (0x40 + pin));
        }
        ioapic.pin(1).pulse();
        assertEquals(List.of(0x41, -1, 0x42), order);
    }

    // ---- kvm-unit-tests' self-reconfiguration ----

    @Test
    void aHandlerThatRetargetsBothLevelEntriesStillClearsTheirRemoteIrrByVector() {
        Machine m = new Machine(2);
        m.route(0xD, LEVEL | FIXED | 0x64, 0);
        m.route(0xE, LEVEL | FIXED | 0x84, 0);
        m.ioapic.pin(0xD).raise();
        assertEquals(0x64, m.cpu(0).acknowledge().vector());
        m.ioapic.pin(0xE).raise(); // the higher vector waits in CPU 0's IRR (IF = 0 in the handler)
        for (int pin : new int[] {0xE, 0xD}) {
            m.ioapic.pin(pin).lower();
            assertTrue(m.remoteIrr(pin));
            m.writeRegister(IoApic.IOREDTBL + 2 * pin + 1, 1 << 24); // destination now CPU 1
        }
        m.cpu(0).write(ApicRegister.EOI.offset(), 4, 0);
        assertFalse(m.remoteIrr(0xD));
        assertEquals(0x84, m.handle(0));
        assertFalse(m.remoteIrr(0xE));
    }
}
