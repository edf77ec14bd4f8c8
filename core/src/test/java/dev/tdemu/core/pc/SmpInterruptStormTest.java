package dev.tdemu.core.pc;

import dev.tdemu.core.platform.ManualClock;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Two vCPU threads in x2APIC mode play IPI ping-pong with two tokens through the {@link ApicBus} while a device
 * thread raises a level-triggered, lowest-priority I/O APIC line that whichever vCPU takes it
 * lowers before its EOI. Every lock path runs at once: ICR writes into the other APIC, EOIs into
 * the I/O APIC, I/O APIC deliveries into both APICs, arbitration reading both PPRs. Nothing waits
 * on time: each thread waits on the state it needs, and the joins only guard against a deadlock.
 */
class SmpInterruptStormTest {
    private static final int PING_PONGS = 2_000;
    private static final int DEVICE_INTERRUPTS = 500;
    private static final int DEVICE_VECTOR = 0x70;
    private static final int DEVICE_PIN = 9;
    private static final int ICR = 0x830, EOI = 0x80B;

    private final ManualClock clock = new ManualClock();
    private final List<String> undeliverable = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final ApicBus bus = new ApicBus((source, icr, why) -> undeliverable.add(why));
    private final IoApic ioapic = new IoApic(bus);
    private final List<LocalApic> apics = new ArrayList<>();
    private final AtomicInteger deviceHandled = new AtomicInteger();
    private final int[] ipisReceived = new int[2];
    private final int[] deviceInterruptsTaken = new int[2];
    private volatile boolean deviceDone;
    private final AtomicInteger failures = new AtomicInteger();
    private volatile Throwable failure;

    /**
     * Two tokens bounce between the vCPUs at once, token {@code t} started by vCPU {@code t}; each
     * direction of each token has its own vector, so exactly one IPI of a vector is ever in flight
     * and none can fold into an IRR bit already set. (Two IPIs of one vector in flight would fold
     * into one IRR bit, as on hardware: the APIC services by priority, not in arrival order.)
     */
    private static int ipiVector(int from, int token) {
        return 0x40 + 0x10 * from + token;
    }

    private void send(int from, int token) {
        long icr = (Integer.toUnsignedLong(1 - from) << 32) | (1 << 14) | ipiVector(from, token);
        if (apics.get(from).writeX2apicMsr(ICR, icr) != MsrWrite.DONE) {
            throw new AssertionError("ICR write refused");
        }
    }

    private void vcpu(int n, CyclicBarrier start) {
        try {
            LocalApic apic = apics.get(n);
            int[] forwarded = new int[2];
            start.await();
            send(n, n); // this vCPU starts token n
            forwarded[n]++;
            while (ipisReceived[n] < 2 * PING_PONGS || !deviceDone || apic.hasInterrupt()) {
                if (!apic.hasInterrupt()) {
                    Thread.yield(); // three threads share two cores here
                    continue;
                }
                int vector = apic.acknowledge().vector();
                if (vector == DEVICE_VECTOR) {
                    ioapic.pin(DEVICE_PIN).lower(); // the handler quietens the device, then EOIs
                    apic.writeX2apicMsr(EOI, 0);
                    deviceInterruptsTaken[n]++;
                    deviceHandled.incrementAndGet();
                } else {
                    apic.writeX2apicMsr(EOI, 0);
                    int token = vector - ipiVector(1 - n, 0);
                    if (token != 0 && token != 1) {
                        throw new AssertionError(String.format("vCPU %d took vector 0x%x", n, vector));
                    }
                    ipisReceived[n]++;
                    if (forwarded[token] < PING_PONGS) {
                        send(n, token);
                        forwarded[token]++;
                    }
                }
            }
        } catch (Throwable t) {
            failure = t;
            failures.incrementAndGet();
        }
    }

    private void device(CyclicBarrier start) {
        try {
            start.await();
            for (int k = 0; k < DEVICE_INTERRUPTS; k++) {
                ioapic.pin(DEVICE_PIN).raise();
                while (deviceHandled.get() <= k) {
                    Thread.yield(); // three threads share two cores here
                }
            }
            deviceDone = true;
        } catch (Throwable t) {
            failure = t;
            failures.incrementAndGet();
        }
    }

    @Test
    void ipiPingPongAndALevelTriggeredLowestPriorityLineFinishWithEveryInterruptTakenOnce() throws Exception {
        for (int i = 0; i < 2; i++) {
            LocalApic apic = new LocalApic(i, i == 0, clock, bus);
            apic.write(ApicRegister.SVR.offset(), 4, 0x1FF);
            assertEquals(MsrWrite.DONE, apic.writeApicBase(apic.readApicBase() | ApicBase.X2APIC_ENABLE));
            apic.setEoiListener(ioapic);
            bus.attach(apic);
            apics.add(apic);
        }
        ioapic.write(IoApic.IOREGSEL, 4, IoApic.IOREDTBL + 2 * DEVICE_PIN + 1);
        ioapic.write(IoApic.IOWIN, 4, 0xFF00_0000L); // broadcast: both x2APIC CPUs are candidates
        ioapic.write(IoApic.IOREGSEL, 4, IoApic.IOREDTBL + 2 * DEVICE_PIN);
        ioapic.write(IoApic.IOWIN, 4, (1 << 15) | (1 << 8) | DEVICE_VECTOR); // level, lowest priority

        CyclicBarrier start = new CyclicBarrier(3);
        List<Thread> threads = List.of(new Thread(() -> vcpu(0, start), "vcpu0"), new Thread(() -> vcpu(1, start), "vcpu1"),
                new Thread(() -> device(start), "device"));
        for (Thread t : threads) {
            t.setDaemon(true); // a deadlocked thread must not keep the test JVM alive
            t.start();
        }
        for (Thread t : threads) {
            t.join(120_000); // only a guard: a deadlock or a lost interrupt would never end
            assertFalse(t.isAlive(), t.getName() + " did not finish: deadlock or lost interrupt");
        }
        assertNull(failure);
        assertEquals(2 * PING_PONGS, ipisReceived[0], "each token bounced PING_PONGS times each way");
        assertEquals(2 * PING_PONGS, ipisReceived[1]);
        assertEquals(DEVICE_INTERRUPTS, deviceInterruptsTaken[0] + deviceInterruptsTaken[1], "each raise taken exactly once");
        assertFalse(ioapic.entry(DEVICE_PIN).remoteIrr());
        assertEquals(List.of(), undeliverable);
    }
}
