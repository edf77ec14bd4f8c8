package dev.tdemu.core.pc;

import dev.tdemu.core.platform.Clock;
import dev.tdemu.core.platform.InterruptLine;
import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.platform.PortBus;
import dev.tdemu.core.platform.TimedDevice;

/**
 * The PC's Intel 8254 programmable interval timer at 0x40-0x43, clocked at 1.193182 MHz from the
 * {@link Clock}: channel 0 drives IRQ 0, channel 1 is the (unused) refresh timer, channel 2's gate
 * and output go through port 0x61 ({@link NmiStatusControl}).
 *
 * <p>Models all six modes (0 interrupt on terminal count, 1 hardware one-shot, 2 rate generator,
 * 3 square wave, 4 software strobe, 5 hardware strobe; 6 and 7 are 2 and 3) with their gate rules
 * (modes 0, 2, 3, 4 pause while the gate is low and modes 2 and 3 hold OUT high; a rising gate
 * reloads modes 2 and 3 and triggers modes 1 and 5), LSB / MSB / LSB-then-MSB access, BCD counting,
 * the counter latch command and the read-back command (count and status, NULL COUNT included), a
 * new count in modes 2 and 3 taking effect at the end of the current period and in modes 1 and 5
 * at the next trigger. Counter reads are computed from the clock, so they are consistent with it
 * however late they come. Channel 0's OUT drives its line level; a rising edge missed between two
 * looks (a late {@link #expire}) is delivered as one edge, as an edge-triggered PIC would only
 * have latched one. A count of 1 in modes 2 and 3 is illegal on the 8254 and fails loudly.
 *
 * <p>As in QEMU, loading a count takes effect at once rather than on the next CLK pulse (OUT in
 * mode 0 rises N, not N + 1, ticks after the write), and {@link #reset()} leaves every channel in
 * mode 3 counting 65536, as a PC BIOS leaves channel 0 (18.2 Hz), with channel 2's gate low.
 */
public final class Pit8254 extends ByteWidePortDevice implements TimedDevice {
    public static final int BASE = 0x40;
    public static final int CONTROL = 0x43;
    /** The PIT's input clock, Hz (QEMU's PIT_FREQ). */
    public static final long FREQUENCY = 1_193_182;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    static final int RW_LATCH = 0;
    static final int RW_LSB = 1;
    static final int RW_MSB = 2;
    static final int RW_LSB_MSB = 3;

    private final Clock clock;
    private final Channel[] channels = new Channel[3];

    /** @param irq0 the line channel 0's OUT drives (IRQ 0 of the PIC, pin 2 of the IO-APIC) */
    public Pit8254(InterruptLine irq0, Clock clock) {
        super(BASE, 4);
        this.clock = clock;
        channels[0] = new Channel(irq0);
        channels[1] = new Channel(InterruptLine.NONE);
        channels[2] = new Channel(InterruptLine.NONE);
        reset();
    }

    public void attachTo(PortBus bus) {
        bus.register("pit", BASE, 4, this);
    }

    /** Every channel in mode 3 counting 65536, LSB-then-MSB, binary; gates of channels 0 and 1 high, channel 2's low. */
    public void reset() {
        long now = clock.nanos();
        for (int i = 0; i < 3; i++) {
            Channel c = channels[i];
            c.gate = i != 2;
            c.controlWord(now, RW_LSB_MSB << 4 | 3 << 1);
            c.countRegister = 0;
            c.load(now);
            c.syncLine(now);
        }
    }

    // ---- inputs and outputs other devices see ----

    /** Sets channel {@code channel}'s GATE input (on a PC only channel 2's can change, through port 0x61). */
    public void setGate(int channel, boolean level) {
        long now = clock.nanos();
        Channel c = channels[channel];
        c.advanceTo(now);
        c.setGate(now, level);
        c.syncLine(now);
    }

    public boolean gate(int channel) {
        return channels[channel].gate;
    }

    /** Channel {@code channel}'s OUT level now. */
    public boolean out(int channel) {
        long now = clock.nanos();
        Channel c = channels[channel];
        c.advanceTo(now);
        return c.out(now);
    }

    /** Ticks of the PIT clock since virtual time 0 (port 0x61's refresh toggle runs from it). */
    long ticksSinceStart() {
        return ticks(clock.nanos());
    }

    // ---- ports ----

    @Override
    int readByte(int port) {
        if (port == CONTROL) {
            return 0xFF; // the control word register cannot be read; the 8254 leaves the bus floating
        }
        long now = clock.nanos();
        Channel c = channels[port - BASE];
        c.advanceTo(now);
        return c.read(now);
    }

    @Override
    void writeByte(int port, int value) {
        long now = clock.nanos();
        if (port == CONTROL) {
            int select = value >>> 6;
            if (select == 3) {
                readBack(now, value);
                return;
            }
            Channel c = channels[select];
            c.advanceTo(now);
            if ((value >>> 4 & 3) == RW_LATCH) {
                c.latchCount(now);
            } else {
                c.controlWord(now, value);
                c.syncLine(now);
            }
            return;
        }
        Channel c = channels[port - BASE];
        c.advanceTo(now);
        c.write(now, value);
        c.syncLine(now);
    }

    /** Read-back (SC = 11): bit 5 clear latches the count, bit 4 clear the status, of the channels in bits 1-3. */
    private void readBack(long now, int value) {
        for (int i = 0; i < 3; i++) {
            if ((value & (2 << i)) != 0) {
                Channel c = channels[i];
                c.advanceTo(now);
                if ((value & 0x20) == 0) {
                    c.latchCount(now);
                }
                if ((value & 0x10) == 0) {
                    c.latchStatus(now);
                }
            }
        }
    }

    // ---- channel 0's deadlines ----

    @Override
    public long nextDeadline() {
        return channels[0].nextEvent();
    }

    @Override
    public void expire(long now) {
        channels[0].advanceTo(now);
    }

    // ---- time ----

    /** Whole PIT ticks in {@code nanos} ns (exact for any non-negative long). */
    static long ticks(long nanos) {
        return nanos / NANOS_PER_SECOND * FREQUENCY + nanos % NANOS_PER_SECOND * FREQUENCY / NANOS_PER_SECOND;
    }

    /** The first ns by which {@code ticks} ticks have passed: {@code ticks(nanosFor(t)) == t}. */
    static long nanosFor(long ticks) {
        return ticks / FREQUENCY * NANOS_PER_SECOND + (ticks % FREQUENCY * NANOS_PER_SECOND + FREQUENCY - 1) / FREQUENCY;
    }

    private static int fromBcd(int raw) {
        return (raw >>> 12 & 0xF) * 1000 + (raw >>> 8 & 0xF) * 100 + (raw >>> 4 & 0xF) * 10 + (raw & 0xF);
    }

    private static int toBcd(int value) {
        return (value / 1000 % 10) << 12 | (value / 100 % 10) << 8 | (value / 10 % 10) << 4 | value % 10;
    }

    /** One counter: its control word, count register, counting element, latches and OUT. */
    private static final class Channel {
        private final InterruptLine line;

        int controlBits; // the control word's bits 5-0 as written: RW, M2-M0, BCD (for the status byte)
        int mode;
        int rwMode;
        boolean bcd;
        boolean gate;
        int countRegister; // CR: the raw 16-bit count as written
        boolean nullCount;
        /** A complete count was written since the control word. */
        boolean haveCount;
        boolean writeMsbNext;
        boolean readMsbNext;

        /** A count is in the counting element (false after a control word, and in modes 1 and 5 until triggered). */
        boolean armed;
        /** The count in the counting element, in ticks: 1-65536 (binary) or 1-10000 (BCD). */
        int n;
        long startNanos;
        /** Ticks counted when the gate paused counting, or -1 while counting. */
        long pausedTicks = -1;
        /** Modes 2 and 3: a new count waiting for the end of the current period, or -1. */
        int pendingN = -1;
        long pendingAtTick;
        /** What reads return while nothing counts. */
        int frozenCounter;

        boolean countLatched;
        int latchedCount;
        boolean latchedMsbNext;
        boolean statusLatched;
        int latchedStatus;

        /** OUT as the line last showed it, and the tick (of the current run) it was looked at. */
        boolean lineLevel;
        long lineTicks;

        Channel(InterruptLine line) {
            this.line = line;
        }

        void controlWord(long now, int value) {
            frozenCounter = counter(now);
            controlBits = value & 0x3F;
            rwMode = value >>> 4 & 3;
            int m = value >>> 1 & 7;
            mode = m > 5 ? m - 4 : m;
            bcd = (value & 1) != 0;
            armed = false;
            pendingN = -1;
            pausedTicks = -1;
            nullCount = true;
            haveCount = false;
            writeMsbNext = false;
            readMsbNext = false;
        }

        void write(long now, int value) {
            switch (rwMode) {
                case RW_LSB -> {
                    countRegister = value;
                    countWritten(now);
                }
                case RW_MSB -> {
                    countRegister = value << 8;
                    countWritten(now);
                }
                default -> {
                    if (!writeMsbNext) {
                        countRegister = (countRegister & 0xFF00) | value;
                        writeMsbNext = true;
                        if (mode == 0 && armed) {
                            frozenCounter = counter(now);
                            armed = false; // mode 0: the first byte stops the count
                        }
                    } else {
                        countRegister = (countRegister & 0x00FF) | value << 8;
                        writeMsbNext = false;
                        countWritten(now);
                    }
                }
            }
        }

        private void countWritten(long now) {
            nullCount = true;
            haveCount = true;
            switch (mode) {
                case 0, 4 -> load(now);
                case 1, 5 -> { } // loaded by the next trigger
                default -> {
                    if (!armed) {
                        load(now);
                    } else {
                        int next = countFromRegister();
                        checkLegal(next);
                        long d = elapsed(now);
                        pendingN = next;
                        pendingAtTick = (d / n + 1) * n;
                    }
                }
            }
        }

        /** The count register goes into the counting element now. */
        void load(long now) {
            n = countFromRegister();
            checkLegal(n);
            armed = true;
            nullCount = false;
            pendingN = -1;
            startNanos = now;
            pausedTicks = gatePauses() && !gate ? 0 : -1;
            lineTicks = 0;
        }

        private void checkLegal(int count) {
            if (count == 1 && (mode == 2 || mode == 3)) {
                throw new NotModelledException("8254 PIT", "a count of 1 in mode " + mode + " (illegal on the 8254)");
            }
        }

        private int countFromRegister() {
            int value = bcd ? fromBcd(countRegister) : countRegister;
            return value == 0 ? modulus() : value;
        }

        private int modulus() {
            return bcd ? 10_000 : 0x1_0000;
        }

        /** Modes 0, 2, 3 and 4 count only while the gate is high. */
        private boolean gatePauses() {
            return mode != 1 && mode != 5;
        }

        void setGate(long now, boolean level) {
            boolean rising = level && !gate;
            gate = level;
            if (!armed) {
                if (rising && (mode == 1 || mode == 5) && haveCount) {
                    load(now); // the first trigger after a count was written
                }
                return;
            }
            switch (mode) {
                case 1, 5 -> {
                    if (rising) {
                        load(now); // a trigger (re)starts the one-shot from the count register
                    }
                }
                case 2, 3 -> {
                    if (rising) {
                        load(now); // a rising gate reloads the count register
                    } else if (!level) {
                        pause(now);
                    }
                }
                default -> {
                    if (level) {
                        resume(now);
                    } else {
                        pause(now);
                    }
                }
            }
        }

        private void pause(long now) {
            if (pausedTicks < 0) {
                pausedTicks = elapsedRaw(now);
            }
        }

        private void resume(long now) {
            if (pausedTicks >= 0) {
                startNanos = now - nanosFor(pausedTicks);
                pausedTicks = -1;
            }
        }

        private long elapsedRaw(long now) {
            return pausedTicks >= 0 ? pausedTicks : ticks(now - startNanos);
        }

        long elapsed(long now) {
            return elapsedRaw(now);
        }

        /** Brings the channel to {@code now}: a waiting count in modes 2 and 3 takes over at its period's end, OUT shows on the line. */
        void advanceTo(long now) {
            while (armed && pendingN >= 0 && pausedTicks < 0 && elapsed(now) >= pendingAtTick) {
                long at = startNanos + nanosFor(pendingAtTick);
                showOnLine(pendingAtTick, out(at));
                n = pendingN;
                pendingN = -1;
                nullCount = false;
                startNanos = at;
                lineTicks = 0;
            }
            syncLine(now);
        }

        /** Shows OUT at {@code now} on the line, with one edge for any rising edge since the last look. */
        void syncLine(long now) {
            showOnLine(armed ? elapsed(now) : 0, out(now));
        }

        private void showOnLine(long d, boolean level) {
            boolean shown = lineLevel;
            if (armed && risingEdgeBetween(lineTicks, d)) {
                if (shown) {
                    line.lower(); // the low phase came and went unseen
                }
                line.raise();
                shown = true;
            }
            if (level != shown) {
                if (level) {
                    line.raise();
                } else {
                    line.lower();
                }
            }
            lineLevel = level;
            lineTicks = d;
        }

        /** Whether OUT rose at a tick in (from, to] of the current run. */
        private boolean risingEdgeBetween(long from, long to) {
            if (to <= from || (pausedTicks >= 0 && (mode == 2 || mode == 3))) {
                return false;
            }
            return switch (mode) {
                case 0, 1 -> from < n && n <= to;
                case 4, 5 -> from < n + 1 && n + 1 <= to;
                default -> to / n > from / n; // modes 2 and 3 rise at every multiple of N
            };
        }

        boolean out(long now) {
            if (!armed) {
                return mode != 0; // a control word sets OUT low in mode 0, high in the others
            }
            if ((mode == 2 || mode == 3) && !gate) {
                return true;
            }
            long d = elapsed(now);
            return switch (mode) {
                case 0, 1 -> d >= n;
                case 2 -> d % n != n - 1;
                case 3 -> d % n < (n + 1) / 2;
                default -> d != n;
            };
        }

        /** The counting element's value now, in counting units (binary or decimal). */
        int counter(long now) {
            if (!armed) {
                return frozenCounter;
            }
            long d = elapsed(now);
            int m = modulus();
            long value = switch (mode) {
                case 2 -> n - d % n;
                case 3 -> squareWaveCounter(d % n);
                default -> n - d % m;
            };
            return (int) Math.floorMod(value, (long) m);
        }

        /** Mode 3 counts by two in each half; an odd N starts the high half with N then N - 1, the low half with N then N - 3. */
        private long squareWaveCounter(long p) {
            long high = (n + 1) / 2;
            boolean inHigh = p < high;
            long q = inHigh ? p : p - high;
            if ((n & 1) == 0 || q == 0) {
                return n - 2 * q;
            }
            return inHigh ? n + 1 - 2 * q : n - 1 - 2 * q;
        }

        private int counterForRead(long now) {
            int value = counter(now);
            return bcd ? toBcd(value) : value;
        }

        void latchCount(long now) {
            if (!countLatched) {
                countLatched = true;
                latchedCount = counterForRead(now);
                latchedMsbNext = rwMode == RW_MSB;
            }
        }

        void latchStatus(long now) {
            if (!statusLatched) {
                statusLatched = true;
                latchedStatus = (out(now) ? 0x80 : 0) | (nullCount ? 0x40 : 0) | controlBits;
            }
        }

        int read(long now) {
            if (statusLatched) {
                statusLatched = false;
                return latchedStatus;
            }
            if (countLatched) {
                int value;
                if (latchedMsbNext) {
                    value = latchedCount >>> 8;
                    countLatched = false;
                } else {
                    value = latchedCount & 0xFF;
                    if (rwMode == RW_LSB_MSB) {
                        latchedMsbNext = true;
                    } else {
                        countLatched = false;
                    }
                }
                return value;
            }
            int value = counterForRead(now);
            return switch (rwMode) {
                case RW_MSB -> value >>> 8;
                case RW_LSB_MSB -> {
                    boolean msb = readMsbNext;
                    readMsbNext = !readMsbNext;
                    yield msb ? value >>> 8 : value & 0xFF;
                }
                default -> value & 0xFF;
            };
        }

        /** When OUT next changes or a waiting count takes over; never while nothing counts. */
        long nextEvent() {
            if (!armed || pausedTicks >= 0 || line == InterruptLine.NONE) {
                return Long.MAX_VALUE;
            }
            long d = lineTicks;
            long next = switch (mode) {
                case 0, 1 -> d < n ? n : -1;
                case 4, 5 -> d < n ? n : d < n + 1 ? n + 1 : -1;
                case 2 -> {
                    long r = d % n;
                    yield r < n - 1 ? d - r + n - 1 : d - r + n;
                }
                default -> {
                    long r = d % n;
                    long high = (n + 1) / 2;
                    yield r < high ? d - r + high : d - r + n;
                }
            };
            if (pendingN >= 0 && (next < 0 || pendingAtTick < next)) {
                next = pendingAtTick;
            }
            return next < 0 ? Long.MAX_VALUE : startNanos + nanosFor(next);
        }
    }
}
