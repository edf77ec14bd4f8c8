package dev.tdemu.core.pc;

import dev.tdemu.core.platform.Clock;
import dev.tdemu.core.platform.InterruptLine;
import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.platform.PortBus;
import dev.tdemu.core.platform.PortDevice;
import dev.tdemu.core.platform.TimedDevice;

/**
 * The ACPI fixed hardware of a PIIX4-style power-management block, where {@link AcpiTables}'
 * FADT points: PM1a_EVT (PM1_STS at base, PM1_EN at base + 2), PM1a_CNT at base + 4 and the PM
 * timer at base + 8 (QEMU's PIIX4 base is 0x600). Register names follow the ACPI specification.
 *
 * <p>The PM timer is a 24-bit counter at 3.579545 MHz derived from the {@link Clock} (TMR_VAL_EXT
 * is not set in the FADT); TMR_STS is set each time its bit 23 changes. PM1_STS bits are
 * write-1-to-clear. The SCI (IRQ 9, level) is asserted while an enabled status bit is set (timer,
 * global lock, power button, sleep button, RTC), as a {@link TimedDevice} for the timer's
 * carry. SCI_EN reads 1 from reset and cannot be cleared: with SMI_CMD 0 in the FADT there is no
 * legacy mode, as in QEMU without SMM. {@link #pressPowerButton} is the host's power button.
 * Writing SLP_EN with SLP_TYP 0, the DSDT's {@code \_S5}, asks the {@link PowerOffListener} to
 * power off; other sleep types (S1-S4 would need the machine to sleep and wake) fail loudly.
 * GBL_RLS (releasing the global lock to firmware) is ignored: there is no firmware to tell.
 */
public final class AcpiPm implements TimedDevice {
    /** The PM timer's rate, Hz. */
    public static final long PM_TIMER_FREQUENCY = 3_579_545;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    public static final int TMR_STS = 1 << 0;
    public static final int BM_STS = 1 << 4;
    public static final int GBL_STS = 1 << 5;
    public static final int PWRBTN_STS = 1 << 8;
    public static final int SLPBTN_STS = 1 << 9;
    public static final int RTC_STS = 1 << 10;
    public static final int WAK_STS = 1 << 15;
    /** PM1_EN bits, at the positions of their status bits. */
    public static final int PM1_EN_MASK = TMR_STS | GBL_STS | PWRBTN_STS | SLPBTN_STS | RTC_STS;

    public static final int SCI_EN = 1 << 0;
    public static final int BM_RLD = 1 << 1;
    public static final int GBL_RLS = 1 << 2;
    public static final int SLP_TYP_SHIFT = 10;
    public static final int SLP_TYP_MASK = 7 << SLP_TYP_SHIFT;
    public static final int SLP_EN = 1 << 13;
    /** SLP_TYP of soft-off (S5) in the DSDT's {@code \_S5}. */
    public static final int SLP_TYP_S5 = 0;

    /** Told when the guest enters soft-off. */
    @FunctionalInterface
    public interface PowerOffListener {
        void powerOffRequested();
    }

    private final int base;
    private final Clock clock;
    private final InterruptLine sci;
    private final PowerOffListener powerOff;
    private final Block evtPorts;
    private final Block cntPorts;
    private final Block tmrPorts;

    private int status; // PM1_STS bits other than TMR_STS
    private int enable;
    private int control; // BM_RLD and SLP_TYP as written
    /** The timer's bit-23 epoch at the last TMR_STS clear: TMR_STS is set while the epoch differs. */
    private long timerEpochCleared;
    private boolean sciLevel;

    public AcpiPm(int base, Clock clock, InterruptLine sci, PowerOffListener powerOff) {
        this.base = base;
        this.clock = clock;
        this.sci = sci;
        this.powerOff = powerOff;
        this.evtPorts = new EventBlock(base);
        this.cntPorts = new ControlBlock(base + 4);
        this.tmrPorts = new TimerBlock(base + 8);
        reset();
    }

    /** At QEMU's PIIX4 base, 0x600. */
    public static AcpiPm piix4(Clock clock, InterruptLine sci9, PowerOffListener powerOff) {
        return new AcpiPm(AcpiTables.PIIX4_PM_BASE, clock, sci9, powerOff);
    }

    /** Claims PM1a_EVT (4 ports), PM1a_CNT (2) and PM_TMR (4); base + 6 and + 7 stay unclaimed. */
    public void attachTo(PortBus bus) {
        bus.register("acpi-pm1a-evt", base, 4, evtPorts);
        bus.register("acpi-pm1a-cnt", base + 4, 2, cntPorts);
        bus.register("acpi-pm-tmr", base + 8, 4, tmrPorts);
    }

    public void reset() {
        status = 0;
        enable = 0;
        control = 0;
        timerEpochCleared = timerTicks(clock.nanos()) >>> 23;
        updateSci();
    }

    /** The host pressed the power button: PWRBTN_STS, and an SCI if the guest enabled it. */
    public void pressPowerButton() {
        status |= PWRBTN_STS;
        updateSci();
    }

    /** The PM timer's 24-bit value now. */
    public int pmTimer() {
        return (int) (timerTicks(clock.nanos()) & 0xFF_FFFF);
    }

    static long timerTicks(long nanos) {
        return nanos / NANOS_PER_SECOND * PM_TIMER_FREQUENCY + nanos % NANOS_PER_SECOND * PM_TIMER_FREQUENCY / NANOS_PER_SECOND;
    }

    static long nanosForTimerTicks(long ticks) {
        return ticks / PM_TIMER_FREQUENCY * NANOS_PER_SECOND
                + (ticks % PM_TIMER_FREQUENCY * NANOS_PER_SECOND + PM_TIMER_FREQUENCY - 1) / PM_TIMER_FREQUENCY;
    }

    private int pm1Status(long now) {
        return status | ((timerTicks(now) >>> 23) != timerEpochCleared ? TMR_STS : 0);
    }

    private void updateSci() {
        boolean level = (pm1Status(clock.nanos()) & enable & PM1_EN_MASK) != 0;
        if (level != sciLevel) {
            sciLevel = level;
            if (level) {
                sci.raise();
            } else {
                sci.lower();
            }
        }
    }

    @Override
    public long nextDeadline() {
        long now = clock.nanos();
        if ((enable & TMR_STS) == 0 || (pm1Status(now) & TMR_STS) != 0) {
            return Long.MAX_VALUE;
        }
        return nanosForTimerTicks((timerEpochCleared + 1) << 23);
    }

    @Override
    public void expire(long now) {
        updateSci();
    }

    /** A register block read and written by byte lanes; a byte past its end reads all-ones. */
    private abstract class Block implements PortDevice {
        private final int first;
        private final int count;

        Block(int first, int count) {
            this.first = first;
            this.count = count;
        }

        /** The block's value now (all its bytes, little-endian); read once per access, so a 32-bit timer read is consistent. */
        abstract long value();

        /** The guest wrote {@code bytes} under the byte mask {@code mask}. */
        abstract void write(long bytes, long mask);

        @Override
        public final long in(int port, int size) {
            long v = value();
            long r = 0;
            for (int i = 0; i < size; i++) {
                int o = port + i - first;
                r |= (o < count ? v >>> (8 * o) & 0xFF : 0xFF) << (8 * i);
            }
            return r;
        }

        @Override
        public final void out(int port, int size, long value) {
            long bytes = 0;
            long mask = 0;
            for (int i = 0; i < size; i++) {
                int o = port + i - first;
                if (o < count) {
                    bytes |= (value >>> (8 * i) & 0xFF) << (8 * o);
                    mask |= 0xFFL << (8 * o);
                }
            }
            write(bytes, mask);
            updateSci();
        }
    }

    /** PM1_STS (write 1 to clear) and PM1_EN. */
    private final class EventBlock extends Block {
        EventBlock(int first) {
            super(first, 4);
        }

        @Override
        long value() {
            return (pm1Status(clock.nanos()) & 0xFFFFL) | (long) enable << 16;
        }

        @Override
        void write(long bytes, long mask) {
            int clear = (int) (bytes & mask) & 0xFFFF;
            status &= ~clear;
            if ((clear & TMR_STS) != 0) {
                timerEpochCleared = timerTicks(clock.nanos()) >>> 23;
            }
            int enMask = (int) (mask >>> 16) & 0xFFFF;
            enable = (enable & ~enMask) | ((int) (bytes >>> 16) & enMask & PM1_EN_MASK);
        }
    }

    /** PM1_CNT. */
    private final class ControlBlock extends Block {
        ControlBlock(int first) {
            super(first, 2);
        }

        @Override
        long value() {
            return control | SCI_EN;
        }

        @Override
        void write(long bytes, long mask) {
            int value = (int) (bytes & mask);
            int kept = (int) mask & (BM_RLD | SLP_TYP_MASK);
            control = (control & ~kept) | (value & kept);
            if ((value & SLP_EN) != 0) {
                int slpTyp = (control & SLP_TYP_MASK) >>> SLP_TYP_SHIFT;
                if (slpTyp != SLP_TYP_S5) {
                    throw new NotModelledException("ACPI PM", "sleep with SLP_TYP=" + slpTyp + " (only soft-off, SLP_TYP=0, the DSDT's \\_S5)");
                }
                powerOff.powerOffRequested();
            }
        }
    }

    /** PM_TMR, read-only. */
    private final class TimerBlock extends Block {
        TimerBlock(int first) {
            super(first, 4);
        }

        @Override
        long value() {
            return pmTimer();
        }

        @Override
        void write(long bytes, long mask) {
            // PM_TMR is read-only.
        }
    }
}
