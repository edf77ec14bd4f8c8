package dev.tdemu.core.pc;

import dev.tdemu.core.platform.ManualClock;
import dev.tdemu.core.platform.PortBus;
import dev.tdemu.core.platform.TimedDevice;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The devices on one port bus, wired to the PIC as on a PC: no port is claimed twice and interrupts arrive as vectors. */
class PcDevicesTogetherTest {
    private final ManualClock clock = new ManualClock();
    private final RecordingLine intr = new RecordingLine();
    private final PortBus bus = new PortBus();
    private final Pic8259Pair pic = new Pic8259Pair(intr);
    private final Pit8254 pit = new Pit8254(pic.irq(0), clock);
    private final Mc146818Rtc rtc = new Mc146818Rtc(pic.irq(8), clock, 0);
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final Uart16550 com1 = Uart16550.com1(pic.irq(4), clock, console::write);
    private final AcpiPm pm = AcpiPm.piix4(clock, pic.irq(9), () -> { });
    private final List<Long> exits = new ArrayList<>();
    private final List<TimedDevice> timed = List.of(pit, rtc, com1, pm);

    PcDevicesTogetherTest() {
        pic.attachTo(bus);
        pit.attachTo(bus);
        new NmiStatusControl(pit).attachTo(bus);
        rtc.attachTo(bus);
        com1.attachTo(bus, "com1");
        pm.attachTo(bus);
        IsaDebugExit.forKvmUnitTests(exits::add).attachTo(bus);
        FwCfg.builder().build().attachTo(bus);
        new PostCodePort().attachTo(bus);
        PciConfigMechanism1.withI440fx().attachTo(bus);
        // Linux's init_8259A.
        int[][] init = {{0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01}, {0xA0, 0x11}, {0xA1, 0x28}, {0xA1, 0x02}, {0xA1, 0x01}};
        for (int[] w : init) {
            bus.out(w[0], 1, w[1]);
        }
    }

    /** The emulator's loop: expire whatever is due, up to {@code nanos}. */
    private void runUntil(long nanos) {
        while (true) {
            TimedDevice next = timed.stream().min((a, b) -> Long.compare(a.nextDeadline(), b.nextDeadline())).orElseThrow();
            if (next.nextDeadline() > nanos) {
                break;
            }
            clock.set(Math.max(clock.nanos(), next.nextDeadline()));
            next.expire(clock.nanos());
        }
        clock.set(nanos);
    }

    @Test
    void theTimerTickArrivesAsVector0x20() {
        bus.out(0x43, 1, 0x34);
        bus.out(0x40, 1, 1193 & 0xFF);
        bus.out(0x40, 1, 1193 >> 8); // 1 kHz
        runUntil(1_000_000);
        assertTrue(pic.intr());
        assertEquals(0x20, pic.interruptAcknowledge());
        bus.out(0x20, 1, 0x20);
        assertFalse(pic.intr());
        runUntil(2_000_000);
        assertEquals(0x20, pic.interruptAcknowledge());
    }

    @Test
    void theRtcPeriodicInterruptArrivesThroughTheSlaveAsVector0x28() {
        bus.out(0x21, 1, 0x01); // the PIT's 18.2 Hz stays masked
        bus.out(0x70, 1, 0x0B);
        bus.out(0x71, 1, 0x42);
        runUntil(1_000_000);
        assertEquals(0x28, pic.interruptAcknowledge());
        bus.out(0xA0, 1, 0x20);
        bus.out(0x20, 1, 0x20);
        bus.out(0x70, 1, 0x0C);
        assertEquals(0xC0, bus.in(0x71, 1));
        runUntil(2_000_000);
        assertEquals(0x28, pic.interruptAcknowledge(), "the next period after C was read");
    }

    @Test
    void theSerialPortsThrEmptyInterruptArrivesAsVector0x24AndTheExitPortEndsTheRun() {
        bus.out(0x21, 1, 0x01);
        bus.out(0x3FC, 1, 0x08); // OUT2
        bus.out(0x3F9, 1, 0x02);
        assertEquals(0x24, pic.interruptAcknowledge());
        bus.out(0x3F8, 1, 'k');
        assertEquals("k", console.toString());
        bus.out(0xF4, 4, 0);
        assertEquals(List.of(1L), exits);
    }
}
