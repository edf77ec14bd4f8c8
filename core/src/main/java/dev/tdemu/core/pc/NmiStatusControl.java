package dev.tdemu.core.pc;

import dev.tdemu.core.platform.PortBus;

/**
 * Port 0x61, the PC's NMI status and control register (Intel's NMI_SC, the AT's "port B"):
 * bit 0 is the PIT channel 2 gate, bit 1 enables the speaker, bits 2 and 3 enable SERR# and
 * IOCHK# NMIs (kept as written, since nothing here raises either), bit 4 toggles with every DRAM
 * refresh request (every 18 PIT ticks, 15.085 µs, as the AT's channel 1 paced it), bit 5 reads PIT
 * channel 2's OUT, bits 6 and 7 (IOCHK#, SERR# NMI sources) read 0. Linux and kvm-unit-tests
 * calibrate the TSC by setting the gate and polling bit 5.
 *
 * <p>The speaker itself makes no sound: its enable bit is kept and nothing else happens.
 */
public final class NmiStatusControl extends ByteWidePortDevice {
    public static final int PORT = 0x61;

    static final int TIMER2_GATE = 0x01;
    static final int SPEAKER_DATA = 0x02;
    static final int WRITABLE = 0x0F;
    static final int REFRESH_TOGGLE = 0x10;
    static final int TIMER2_OUT = 0x20;
    /** PIT ticks between refresh requests. */
    static final int REFRESH_TICKS = 18;

    private final Pit8254 pit;
    private int control;

    public NmiStatusControl(Pit8254 pit) {
        super(PORT, 1);
        this.pit = pit;
        reset();
    }

    public void attachTo(PortBus bus) {
        bus.register("nmi-sc", PORT, 1, this);
    }

    /** Gate low, speaker off, NMI sources enabled (bits 2 and 3 clear). */
    public void reset() {
        control = 0;
        pit.setGate(2, false);
    }

    /** Whether the speaker is enabled (bit 1); tdemu plays nothing. */
    public boolean speakerEnabled() {
        return (control & SPEAKER_DATA) != 0;
    }

    @Override
    int readByte(int port) {
        boolean refresh = (pit.ticksSinceStart() / REFRESH_TICKS & 1) != 0;
        return control | (refresh ? REFRESH_TOGGLE : 0) | (pit.out(2) ? TIMER2_OUT : 0);
    }

    @Override
    void writeByte(int port, int value) {
        control = value & WRITABLE;
        pit.setGate(2, (value & TIMER2_GATE) != 0);
    }
}
