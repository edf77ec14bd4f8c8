package dev.tdemu.core.pc;

import dev.tdemu.core.platform.ManualClock;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalApicIpiTest {
    private static final int FIXED = 0, NMI = 4 << 8, INIT = 5 << 8, STARTUP = 6 << 8, LOWEST = 1 << 8;
    private static final int LOGICAL = 1 << 11, ASSERT = 1 << 14, LEVEL = 1 << 15;
    private static final int SELF = 1 << 18, ALL_INCLUDING_SELF = 2 << 18, ALL_EXCLUDING_SELF = 3 << 18;

    private static void sendIpi(LocalApicFixture f, int low, int destination) {
        f.write(ApicRegister.ICR_HIGH, destination << 24);
        f.write(ApicRegister.ICR_LOW, low);
    }

    @Test
    void aSelfIpiByShorthandSetsTheIrrAndNeverReachesTheSink() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        sendIpi(f, SELF | FIXED | ASSERT | 0xF1, 0);
        assertTrue(f.irr(0xF1));
        assertTrue(f.sent.isEmpty());
        assertEquals(0xF1, f.acknowledgeAndEoi());
    }

    @Test
    void anIpiToTheApicsOwnPhysicalIdIsASelfIpi() {
        LocalApicFixture f = new LocalApicFixture(2, true).enabled();
        sendIpi(f, FIXED | ASSERT | 0x44, 2);
        assertTrue(f.irr(0x44));
        assertTrue(f.sent.isEmpty());
    }

    @Test
    void theIcrReadsBackWithDeliveryStatusIdle() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        sendIpi(f, SELF | FIXED | ASSERT | 0xF1 | (1 << 12) | (1 << 13) | 0xFFF0_0000, 0);
        assertEquals(SELF | FIXED | ASSERT | 0xF1, f.read(ApicRegister.ICR_LOW), "status, bit 13 and bits 31:20 read 0");
    }

    @Test
    void everyOtherDestinationGoesToTheSink() {
        LocalApicFixture f = new LocalApicFixture(0, true).enabled();
        sendIpi(f, FIXED | ASSERT | 0x40, 1);
        sendIpi(f, FIXED | ASSERT | 0x41, 0xFF);
        sendIpi(f, ALL_EXCLUDING_SELF | INIT | ASSERT, 0);
        sendIpi(f, LOGICAL | FIXED | ASSERT | 0x42, 0x01);
        assertEquals(List.of(0x40, 0x41, 0, 0x42), f.sent.stream().map(ApicIcr::vector).toList());
        assertEquals(1, f.sent.get(0).xapicDestination());
        assertEquals(ApicDeliveryMode.INIT, f.sent.get(2).deliveryMode());
        assertEquals(ApicIcr.Shorthand.ALL_EXCLUDING_SELF, f.sent.get(2).shorthand());
        assertFalse(f.irr(0x41), "the sink delivers broadcasts, the sender included");
    }

    @Test
    void aFixedIpiWithAnIllegalVectorIsNotSentAndSetsSendIllegalVector() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        sendIpi(f, FIXED | ASSERT | 0x0F, 1);
        sendIpi(f, SELF | FIXED | 0x03, 0);
        assertTrue(f.sent.isEmpty());
        assertEquals(0, f.read(ApicRegister.IRR, 0));
        assertEquals(LocalApic.ESR_SEND_ILLEGAL_VECTOR, f.esr());
    }

    @Test
    void aLowestPriorityIpiIsSentForTheBusToArbitrateAndSetsNoRedirectableIpiError() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        sendIpi(f, LOWEST | ASSERT | 0x50, 1);
        assertEquals(1, f.sent.size());
        assertEquals(ApicDeliveryMode.LOWEST_PRIORITY, f.sent.get(0).deliveryMode());
        assertEquals(0, f.esr());
    }

    @Test
    void aLowestPriorityIpiWithAnIllegalVectorSetsSendIllegalVector() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        sendIpi(f, LOWEST | ASSERT | 0x0E, 1);
        assertTrue(f.sent.isEmpty());
        assertEquals(LocalApic.ESR_SEND_ILLEGAL_VECTOR, f.esr());
    }

    @Test
    void anNmiToSelfBecomesAnNmiRequestForTheCore() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        sendIpi(f, NMI, 0);
        assertTrue(f.apic.nmiPending());
        assertTrue(f.apic.takeNmi());
        assertFalse(f.apic.takeNmi());
    }

    @Test
    void nmiRequestsSaturateAtTwo() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        for (int i = 0; i < 5; i++) {
            sendIpi(f, NMI, 0);
        }
        assertTrue(f.apic.takeNmi());
        assertTrue(f.apic.takeNmi());
        assertFalse(f.apic.takeNmi());
    }

    @Test
    void initLevelDeassertIsNotAnInit() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        sendIpi(f, INIT | LEVEL, 0);
        assertFalse(f.apic.takeInit());
        sendIpi(f, INIT | LEVEL | ASSERT, 0);
        assertTrue(f.apic.takeInit());
    }

    @Test
    void aStartupIpiCarriesItsVector() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        sendIpi(f, STARTUP | ASSERT | 0x9A, 0);
        assertEquals(OptionalInt.of(0x9A), f.apic.takeStartup());
        assertEquals(OptionalInt.empty(), f.apic.takeStartup());
    }

    @Test
    void aLevelTriggeredFixedIpiSetsTheTmr() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        sendIpi(f, SELF | FIXED | LEVEL | ASSERT | 0x66, 0);
        assertTrue(f.tmr(0x66));
        f.acknowledgeAndEoi();
        assertEquals(List.of(0x66), f.eois);
    }

    // ---- the bus between APICs ----

    private static final class Machine {
        final ManualClock clock = new ManualClock();
        final List<String> undeliverable = new ArrayList<>();
        final ApicBus bus = new ApicBus((source, icr, why) -> undeliverable.add(why));
        final List<LocalApic> apics = new ArrayList<>();

        Machine(int vcpus) {
            for (int i = 0; i < vcpus; i++) {
                LocalApic apic = new LocalApic(i, i == 0, clock, bus);
                apic.write(ApicRegister.SVR.offset(), 4, 0x1FF);
                bus.attach(apic);
                apics.add(apic);
            }
        }

        void send(int from, int low, int destination) {
            LocalApic apic = apics.get(from);
            apic.write(ApicRegister.ICR_HIGH.offset(), 4, Integer.toUnsignedLong(destination << 24));
            apic.write(ApicRegister.ICR_LOW.offset(), 4, low);
        }

        List<Boolean> pending(int vector) {
            return apics.stream().map(a -> a.pendingVector().equals(OptionalInt.of(vector))).toList();
        }
    }

    @Test
    void aPhysicalBroadcastReachesEveryApicTheSenderIncluded() {
        Machine m = new Machine(3);
        m.send(1, FIXED | ASSERT | 0xCF, 0xFF);
        assertEquals(List.of(true, true, true), m.pending(0xCF));
    }

    @Test
    void onOneVcpuAPhysicalBroadcastComesBackToTheSender() {
        Machine m = new Machine(1);
        m.send(0, FIXED | ASSERT | 0xCF, 0xFF);
        assertEquals(List.of(true), m.pending(0xCF));
    }

    @Test
    void shorthandsSelectTheSenderOrTheOthers() {
        Machine m = new Machine(3);
        m.send(1, ALL_EXCLUDING_SELF | FIXED | ASSERT | 0x50, 0);
        assertEquals(List.of(true, false, true), m.pending(0x50));
        m.send(2, ALL_INCLUDING_SELF | FIXED | ASSERT | 0x60, 0);
        assertEquals(List.of(true, true, true), m.pending(0x60));
    }

    @Test
    void aPhysicalDestinationSelectsOneApicId() {
        Machine m = new Machine(3);
        m.send(0, FIXED | ASSERT | 0x70, 2);
        assertEquals(List.of(false, false, true), m.pending(0x70));
    }

    @Test
    void logicalFlatDestinationsMatchAnyCommonBitOfTheLdr() {
        Machine m = new Machine(3);
        for (int i = 0; i < 3; i++) {
            m.apics.get(i).write(ApicRegister.LDR.offset(), 4, Integer.toUnsignedLong((1 << i) << 24));
        }
        m.send(0, LOGICAL | FIXED | ASSERT | 0x80, 0b110);
        assertEquals(List.of(false, true, true), m.pending(0x80));
    }

    @Test
    void logicalClusterDestinationsMatchTheClusterThenTheMember() {
        Machine m = new Machine(3);
        int[] logicalIds = {0x11, 0x12, 0x21};
        for (int i = 0; i < 3; i++) {
            m.apics.get(i).write(ApicRegister.DFR.offset(), 4, 0x0FFF_FFFF);
            m.apics.get(i).write(ApicRegister.LDR.offset(), 4, Integer.toUnsignedLong(logicalIds[i] << 24));
        }
        m.send(0, LOGICAL | FIXED | ASSERT | 0x90, 0x13);
        assertEquals(List.of(true, true, false), m.pending(0x90));
    }

    @Test
    void anNmiIpiReachesAnotherCore() {
        Machine m = new Machine(2);
        m.send(0, NMI | ASSERT, 1);
        assertFalse(m.apics.get(0).nmiPending());
        assertTrue(m.apics.get(1).nmiPending());
    }

    @Test
    void aGloballyDisabledApicIsNoDestination() {
        Machine m = new Machine(2);
        m.apics.get(1).writeApicBase(ApicBase.DEFAULT_BASE);
        m.send(0, FIXED | ASSERT | 0x70, 0xFF);
        assertEquals(List.of(true, false), m.pending(0x70));
    }

    @Test
    void twoVcpusSendingEachOtherIpisAtOnceDoNotDeadlock() throws Exception {
        Machine m = new Machine(2);
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
        Thread[] senders = new Thread[2];
        for (int i = 0; i < 2; i++) {
            int from = i;
            senders[i] = new Thread(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                for (int n = 0; n < 20_000; n++) {
                    m.send(from, FIXED | ASSERT | (0x40 + from), 1 - from);
                }
            });
            senders[i].setDaemon(true); // a deadlocked pair must not keep the test JVM alive
            senders[i].start();
        }
        for (Thread t : senders) {
            t.join(60_000); // only a guard: a deadlock would never end
            assertFalse(t.isAlive(), "IPIs between two APICs deadlocked");
        }
        assertEquals(List.of(false, true), m.pending(0x40));
        assertEquals(List.of(true, false), m.pending(0x41));
    }

    @Test
    void aLowestPriorityIpiGoesToTheOneDestinationWithTheLowestPriorityClass() {
        Machine m = new Machine(3);
        m.apics.get(0).setCr8(2);
        m.apics.get(1).setCr8(5);
        m.apics.get(2).setCr8(1);
        m.send(0, LOWEST | ASSERT | 0xA0, 0xFF); // a physical broadcast: one of all is chosen
        assertEquals(List.of(false, false, true), m.pending(0xA0));
        m.apics.get(2).setCr8(6);
        m.send(1, LOGICAL | LOWEST | ASSERT | 0xA1, 0x00); // no logical destination: nobody
        assertEquals(List.of(false, false, false), m.pending(0xA1));
        assertTrue(m.undeliverable.isEmpty());
    }

    @Test
    void aLowestPriorityIpiCountsTheClassInServiceToo() {
        Machine m = new Machine(2);
        m.apics.get(0).acceptInterrupt(0xE0, ApicTriggerMode.EDGE);
        m.apics.get(0).acknowledge(); // PPR class 0xE on vCPU 0
        m.apics.get(1).setCr8(3);
        m.send(0, LOWEST | ASSERT | 0xF0, 0xFF);
        assertEquals(List.of(false, true), m.pending(0xF0));
    }

    @Test
    void aLowestPriorityIpiToTheSendersOwnIdStaysLocal() {
        LocalApicFixture f = new LocalApicFixture(3, true).enabled();
        sendIpi(f, LOWEST | ASSERT | 0x52, 3);
        assertTrue(f.irr(0x52));
        assertTrue(f.sent.isEmpty());
    }

    @Test
    void aReservedDeliveryModeIsReportedAsUndeliverable() {
        Machine m = new Machine(2);
        m.send(0, (7 << 8) | ASSERT | 0x30, 1);
        assertEquals(1, m.undeliverable.size());
        assertEquals(List.of(false, false), m.pending(0x30));
    }
}
