package dev.tdemu.core.pc;

import dev.tdemu.core.platform.Clock;
import dev.tdemu.core.platform.InterruptLine;
import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.platform.PortBus;
import dev.tdemu.core.platform.TimedDevice;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * The PC's Motorola MC146818 real-time clock and CMOS RAM behind the index port 0x70 (bit 7
 * disables NMI on a PC) and the data port 0x71, raising IRQ 8. Register names follow Linux's
 * {@code mc146818rtc.h}.
 *
 * <p>Time is a fixed start time plus the {@link Clock}, kept to the second by a 32.768 kHz
 * divider chain: the time and date registers in BCD or binary (register B's DM) and 12 or 24
 * hours, the alarm registers (0xC0-0xFF is "don't care"), the century byte 0x32 (0x37 aliases it,
 * as in QEMU); register A's divider control (010 runs, 11x holds the divider in reset; the first
 * update comes half a second after it is released) and rate select, with UIP high in the last
 * 244 µs before each update; register B (SET stops updates so the guest can write the time, and
 * clears UIE); register C's IRQF, PF, AF and UF flags, cleared when C is read; register D's VRT.
 * IRQ 8 follows IRQF, so a guest gets its next interrupt after reading C, as on a PC. Periodic,
 * update-ended and alarm events are found from the clock whenever the guest looks, and, while
 * enabled, are {@link TimedDevice} deadlines. A time written field by field (with SET) is read back
 * raw and normalised when the clock runs again (61 seconds become the next minute), as QEMU does;
 * the day of the week always follows the date.
 *
 * <p>Not modelled, failing loudly: divider settings for other crystals (DV other than 010 and
 * 11x) and daylight-saving mode (DSE). SQWE is kept and ignored: a PC does not wire the SQW pin.
 * The 128 CMOS bytes from 0x0E are plain battery-backed memory; {@link #setPcConfiguration} fills
 * the standard ones as QEMU's {@code pc} machine does.
 */
public final class Mc146818Rtc extends ByteWidePortDevice implements TimedDevice {
    public static final int INDEX_PORT = 0x70;
    public static final int DATA_PORT = 0x71;
    public static final int IRQ = 8;
    public static final int CMOS_SIZE = 128;

    public static final int RTC_SECONDS = 0x00;
    public static final int RTC_SECONDS_ALARM = 0x01;
    public static final int RTC_MINUTES = 0x02;
    public static final int RTC_MINUTES_ALARM = 0x03;
    public static final int RTC_HOURS = 0x04;
    public static final int RTC_HOURS_ALARM = 0x05;
    public static final int RTC_DAY_OF_WEEK = 0x06;
    public static final int RTC_DAY_OF_MONTH = 0x07;
    public static final int RTC_MONTH = 0x08;
    public static final int RTC_YEAR = 0x09;
    public static final int RTC_REG_A = 0x0A;
    public static final int RTC_REG_B = 0x0B;
    public static final int RTC_REG_C = 0x0C;
    public static final int RTC_REG_D = 0x0D;
    public static final int RTC_CENTURY = 0x32;
    public static final int RTC_IBM_PS2_CENTURY_BYTE = 0x37;

    public static final int RTC_UIP = 0x80;
    public static final int RTC_DIV_CTL = 0x70;
    public static final int RTC_REF_CLCK_32KHZ = 0x20;
    public static final int RTC_RATE_SELECT = 0x0F;

    public static final int RTC_SET = 0x80;
    public static final int RTC_PIE = 0x40;
    public static final int RTC_AIE = 0x20;
    public static final int RTC_UIE = 0x10;
    public static final int RTC_SQWE = 0x08;
    public static final int RTC_DM_BINARY = 0x04;
    public static final int RTC_24H = 0x02;
    public static final int RTC_DST_EN = 0x01;

    public static final int RTC_IRQF = 0x80;
    public static final int RTC_PF = 0x40;
    public static final int RTC_AF = 0x20;
    public static final int RTC_UF = 0x10;
    public static final int RTC_VRT = 0x80;

    /** The divider chain's rate. */
    static final long DIVIDER_HZ = 32_768;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    /** UIP goes high 8 divider ticks (244 µs) before each update. */
    private static final long UIP_TICKS = 8;

    private final InterruptLine irq;
    private final Clock clock;
    private final byte[] cmos = new byte[CMOS_SIZE];

    private int index;
    private boolean nmiDisabled;

    private int regA;
    private int regB;
    private int regC;

    /** The calendar time, epoch seconds UTC, while the clock runs (the registers hold it while frozen). */
    private long seconds;
    /** When the divider chain last started, and the divider tick count up to which events are accounted. */
    private long dividerOrigin;
    private long accountedTicks;
    /** The divider tick (mod 32768) at which updates happen: 0 at power-on, 16384 after a divider reset. */
    private long updatePhase;
    private boolean irqLevel;

    /** An RTC whose clock reads {@code startEpochSecond} (UTC) at the {@link Clock}'s present time. */
    public Mc146818Rtc(InterruptLine irq8, Clock clock, long startEpochSecond) {
        super(INDEX_PORT, 2);
        this.irq = irq8;
        this.clock = clock;
        // Power-on as a PC BIOS leaves it: 32.768 kHz divider, 1024 Hz rate, BCD, 24 hours.
        regA = RTC_REF_CLCK_32KHZ | 0x06;
        regB = RTC_24H;
        seconds = startEpochSecond;
        dividerOrigin = clock.nanos();
        accountedTicks = 0;
        updatePhase = 0;
    }

    public void attachTo(PortBus bus) {
        bus.register("rtc-cmos", INDEX_PORT, 2, this);
    }

    /** The RESET pin (a system reset): clears PIE, AIE, UIE, SQWE and the flags; time and CMOS are kept. */
    public void reset() {
        advance(clock.nanos());
        regB &= ~(RTC_PIE | RTC_AIE | RTC_UIE | RTC_SQWE);
        regC = 0;
        updateIrq();
    }

    /** Whether the guest disabled NMIs with bit 7 of the index port. */
    public boolean nmiDisabled() {
        return nmiDisabled;
    }

    /** The calendar time now, epoch seconds UTC (as the registers would read it while the clock runs). */
    public long epochSecond() {
        long now = clock.nanos();
        advance(now);
        return updating() ? seconds : parseTimeRegisters();
    }

    /** A battery-backed CMOS byte (0x0E-0x7F) as the firmware would have left it. */
    public void setCmosByte(int address, int value) {
        if (address < 0x0E || address >= CMOS_SIZE || address == RTC_CENTURY || address == RTC_IBM_PS2_CENTURY_BYTE) {
            throw new IllegalArgumentException(String.format("CMOS: 0x%x is not a plain memory byte (0x0e-0x7f without the century)", address));
        }
        cmos[address] = (byte) value;
    }

    public int cmosByte(int address) {
        return cmos[address] & 0xFF;
    }

    /**
     * The standard bytes QEMU's {@code pc} machine sets: base memory (0x15-0x16, KiB up to 640),
     * extended memory above 1 MiB (0x17-0x18 and 0x30-0x31, KiB, at most 65535), memory between
     * 16 MiB and 4 GiB (0x34-0x35, 64 KiB units), memory above 4 GiB (0x5B-0x5D, 64 KiB units), the
     * CPU count less one (0x5F; 0 beyond 256 CPUs), the equipment byte (0x14: FPU and PS/2 mouse, no
     * floppy) and no floppy or hard disk (0x10, 0x12).
     */
    public void setPcConfiguration(long ramBelow4G, long ramAbove4G, int cpus) {
        long kib = 1024;
        long mib = kib * kib;
        setWord(0x15, Math.min(ramBelow4G / kib, 640));
        long extended = Math.min(ramBelow4G > mib ? (ramBelow4G - mib) / kib : 0, 65535);
        setWord(0x17, extended);
        setWord(0x30, extended);
        setWord(0x34, Math.min(ramBelow4G > 16 * mib ? (ramBelow4G - 16 * mib) / (64 * kib) : 0, 65535));
        long high = ramAbove4G / (64 * kib);
        cmos[0x5B] = (byte) high;
        cmos[0x5C] = (byte) (high >>> 8);
        cmos[0x5D] = (byte) (high >>> 16);
        cmos[0x5F] = (byte) (cpus > 256 ? 0 : cpus - 1);
        cmos[0x14] = 0x06;
        cmos[0x10] = 0;
        cmos[0x12] = 0;
    }

    private void setWord(int address, long value) {
        cmos[address] = (byte) value;
        cmos[address + 1] = (byte) (value >>> 8);
    }

    // ---- ports ----

    @Override
    int readByte(int port) {
        if (port == INDEX_PORT) {
            return 0xFF; // the index register is write-only
        }
        long now = clock.nanos();
        advance(now);
        int value = switch (index) {
            case RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK, RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY ->
                    updating() ? timeRegister(index, seconds) : cmos[index] & 0xFF;
            case RTC_REG_A -> regA | (uip(now) ? RTC_UIP : 0);
            case RTC_REG_B -> regB;
            case RTC_REG_C -> {
                int c = regC;
                regC = 0;
                updateIrq();
                yield c;
            }
            case RTC_REG_D -> RTC_VRT;
            default -> cmos[index] & 0xFF;
        };
        return value;
    }

    @Override
    void writeByte(int port, int value) {
        if (port == INDEX_PORT) {
            nmiDisabled = (value & 0x80) != 0;
            index = value & 0x7F;
            if (index == RTC_IBM_PS2_CENTURY_BYTE) {
                index = RTC_CENTURY;
            }
            return;
        }
        long now = clock.nanos();
        advance(now);
        switch (index) {
            case RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK, RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY -> {
                if (updating()) {
                    freezeIntoRegisters();
                    cmos[index] = (byte) value;
                    seconds = parseTimeRegisters(); // written while running: takes effect at once
                } else {
                    cmos[index] = (byte) value;
                }
            }
            case RTC_REG_A -> writeRegA(now, value);
            case RTC_REG_B -> writeRegB(value);
            case RTC_REG_C, RTC_REG_D -> { } // read-only
            default -> cmos[index] = (byte) value;
        }
        updateIrq();
    }

    private void writeRegA(long now, int value) {
        int dv = value & RTC_DIV_CTL;
        if (dv != RTC_REF_CLCK_32KHZ && (dv & 0x60) != 0x60) {
            throw new NotModelledException("MC146818 RTC", String.format("divider control DV=%d%d%d (only 010, 32.768 kHz, and 11x, reset)",
                    dv >> 6 & 1, dv >> 5 & 1, dv >> 4 & 1));
        }
        boolean wasRunning = dividerRunning();
        boolean wasUpdating = updating();
        if (wasUpdating && dv != RTC_REF_CLCK_32KHZ) {
            freezeIntoRegisters();
        }
        regA = value & 0x7F;
        if (!wasRunning && dividerRunning()) {
            dividerOrigin = now;
            accountedTicks = 0;
            updatePhase = DIVIDER_HZ / 2; // the first update comes half a second after the reset is removed
        }
        if (!wasUpdating && updating()) {
            seconds = parseTimeRegisters();
        }
    }

    private void writeRegB(int value) {
        if ((value & RTC_DST_EN) != 0) {
            throw new NotModelledException("MC146818 RTC", "daylight-saving mode (register B DSE)");
        }
        boolean wasUpdating = updating();
        if ((value & RTC_SET) != 0) {
            if (wasUpdating) {
                freezeIntoRegisters(); // in the format they had: changing DM or 24/12 converts nothing
            }
            value &= ~RTC_UIE; // SET clears UIE
        }
        regB = value;
        if (!wasUpdating && updating()) {
            seconds = parseTimeRegisters(); // in the format now selected
        }
    }

    // ---- time ----

    private boolean dividerRunning() {
        return (regA & RTC_DIV_CTL) == RTC_REF_CLCK_32KHZ;
    }

    /** The time advances: the divider runs and SET is clear. */
    private boolean updating() {
        return dividerRunning() && (regB & RTC_SET) == 0;
    }

    private long dividerTicks(long now) {
        long d = now - dividerOrigin;
        return d / NANOS_PER_SECOND * DIVIDER_HZ + d % NANOS_PER_SECOND * DIVIDER_HZ / NANOS_PER_SECOND;
    }

    private long nanosForTick(long tick) {
        return dividerOrigin + tick / DIVIDER_HZ * NANOS_PER_SECOND + (tick % DIVIDER_HZ * NANOS_PER_SECOND + DIVIDER_HZ - 1) / DIVIDER_HZ;
    }

    /** Divider ticks between periodic interrupts: RS 3-15 give 2^(RS-1); RS 1 and 2 repeat RS 8 and 9 (256, 128 Hz). */
    private long periodTicks() {
        int rs = regA & RTC_RATE_SELECT;
        if (rs == 0) {
            return 0;
        }
        return 1L << ((rs < 3 ? rs + 7 : rs) - 1);
    }

    /** How many multiples of {@code period} (offset by {@code phase}) lie in (from, to]. */
    private static long eventsBetween(long from, long to, long period, long phase) {
        return Math.floorDiv(to - phase, period) - Math.floorDiv(from - phase, period);
    }

    /** Accounts the periodic, update and alarm events up to {@code now}. */
    private void advance(long now) {
        if (!dividerRunning()) {
            return;
        }
        long to = dividerTicks(now);
        long from = accountedTicks;
        if (to <= from) {
            return;
        }
        long period = periodTicks();
        if (period != 0 && eventsBetween(from, to, period, 0) > 0) {
            regC |= RTC_PF;
        }
        if (updating()) {
            long updates = eventsBetween(from, to, DIVIDER_HZ, updatePhase);
            if (updates > 0) {
                regC |= RTC_UF;
                if (alarmWithin(seconds, seconds + updates)) {
                    regC |= RTC_AF;
                }
                seconds += updates;
            }
        }
        accountedTicks = to;
        updateIrq();
    }

    private boolean uip(long now) {
        if (!updating()) {
            return false;
        }
        long intoSecond = Math.floorMod(dividerTicks(now) - updatePhase, DIVIDER_HZ);
        return intoSecond >= DIVIDER_HZ - UIP_TICKS;
    }

    /** Whether an update to a second in (from, to] matches the alarm. */
    private boolean alarmWithin(long from, long to) {
        long next = nextAlarm(from);
        return next >= 0 && next <= to;
    }

    /** The first second after {@code after} whose time matches the alarm registers, -1 if none ever does. */
    private long nextAlarm(long after) {
        int alarmSeconds = cmos[RTC_SECONDS_ALARM] & 0xFF;
        int alarmMinutes = cmos[RTC_MINUTES_ALARM] & 0xFF;
        int alarmHours = cmos[RTC_HOURS_ALARM] & 0xFF;
        long s = after + 1;
        for (int steps = 0; steps < 3 * 86_400; steps++) {
            if (!alarmField(alarmHours, timeRegister(RTC_HOURS, s))) {
                s = Math.floorDiv(s, 3600) * 3600 + 3600;
            } else if (!alarmField(alarmMinutes, timeRegister(RTC_MINUTES, s))) {
                s = Math.floorDiv(s, 60) * 60 + 60;
            } else if (!alarmField(alarmSeconds, timeRegister(RTC_SECONDS, s))) {
                s++;
            } else {
                return s;
            }
            if (s - after > 86_400 + 1) {
                return -1; // a value no time of day has
            }
        }
        return -1;
    }

    private static boolean alarmField(int alarm, int value) {
        return (alarm & 0xC0) == 0xC0 || alarm == value;
    }

    /** Register {@code reg} for the time {@code epochSecond} in register B's format. */
    private int timeRegister(int reg, long epochSecond) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC);
        return switch (reg) {
            case RTC_SECONDS -> encode(t.getSecond());
            case RTC_MINUTES -> encode(t.getMinute());
            case RTC_HOURS -> {
                int h = t.getHour();
                if ((regB & RTC_24H) != 0) {
                    yield encode(h);
                }
                yield encode(h % 12 == 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
            }
            case RTC_DAY_OF_WEEK -> encode(t.getDayOfWeek().getValue() % 7 + 1); // Sunday is 1
            case RTC_DAY_OF_MONTH -> encode(t.getDayOfMonth());
            case RTC_MONTH -> encode(t.getMonthValue());
            case RTC_YEAR -> encode(t.getYear() % 100);
            default -> encode(t.getYear() / 100); // RTC_CENTURY
        };
    }

    /** Stops the calendar: the registers take the current time, raw from here on. */
    private void freezeIntoRegisters() {
        for (int reg : new int[]{RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK, RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY}) {
            cmos[reg] = (byte) timeRegister(reg, seconds);
        }
    }

    /** The time the registers hold, normalised (out-of-range fields carry into the next field). */
    private long parseTimeRegisters() {
        int hoursRaw = cmos[RTC_HOURS] & 0xFF;
        int hours;
        if ((regB & RTC_24H) != 0) {
            hours = decode(hoursRaw);
        } else {
            hours = decode(hoursRaw & 0x7F) % 12 + ((hoursRaw & 0x80) != 0 ? 12 : 0);
        }
        int year = decode(cmos[RTC_CENTURY] & 0xFF) * 100 + decode(cmos[RTC_YEAR] & 0xFF);
        return LocalDateTime.of(year, 1, 1, 0, 0)
                .plusMonths(decode(cmos[RTC_MONTH] & 0xFF) - 1L)
                .plusDays(decode(cmos[RTC_DAY_OF_MONTH] & 0xFF) - 1L)
                .plusHours(hours)
                .plusMinutes(decode(cmos[RTC_MINUTES] & 0xFF))
                .plusSeconds(decode(cmos[RTC_SECONDS] & 0xFF))
                .toEpochSecond(ZoneOffset.UTC);
    }

    private int encode(int value) {
        return (regB & RTC_DM_BINARY) != 0 ? value : (value / 10) << 4 | value % 10;
    }

    private int decode(int raw) {
        return (regB & RTC_DM_BINARY) != 0 ? raw : (raw >> 4) * 10 + (raw & 0x0F);
    }

    // ---- interrupt ----

    /** IRQF = PF·PIE + AF·AIE + UF·UIE, and the IRQ line follows it. */
    private void updateIrq() {
        boolean level = (regC & regB & (RTC_PF | RTC_AF | RTC_UF)) != 0;
        regC = level ? regC | RTC_IRQF : regC & ~RTC_IRQF;
        if (level != irqLevel) {
            irqLevel = level;
            if (level) {
                irq.raise();
            } else {
                irq.lower();
            }
        }
    }

    @Override
    public long nextDeadline() {
        if (irqLevel || !dividerRunning()) {
            return Long.MAX_VALUE; // nothing more can change the line before C is read
        }
        long from = accountedTicks;
        long next = Long.MAX_VALUE;
        long period = periodTicks();
        if ((regB & RTC_PIE) != 0 && period != 0) {
            next = Math.min(next, (Math.floorDiv(from, period) + 1) * period);
        }
        if (updating() && (regB & (RTC_UIE | RTC_AIE)) != 0) {
            long nextUpdate = (Math.floorDiv(from - updatePhase, DIVIDER_HZ) + 1) * DIVIDER_HZ + updatePhase;
            if ((regB & RTC_UIE) != 0) {
                next = Math.min(next, nextUpdate);
            } else {
                long alarm = nextAlarm(seconds);
                if (alarm >= 0) {
                    next = Math.min(next, nextUpdate + (alarm - seconds - 1) * DIVIDER_HZ);
                }
            }
        }
        return next == Long.MAX_VALUE ? next : nanosForTick(next);
    }

    @Override
    public void expire(long now) {
        advance(now);
    }
}
