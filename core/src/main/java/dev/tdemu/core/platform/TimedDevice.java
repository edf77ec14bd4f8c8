package dev.tdemu.core.platform;

/**
 * A device that acts at a moment in virtual time (a timer that fires, a line that toggles). The
 * emulator asks {@link #nextDeadline()} after every access to the device and calls
 * {@link #expire(long)} once the {@link Clock} reached it (late is allowed: a device catches up,
 * e.g. a periodic timer counts the periods it missed as the hardware's coalescing would).
 */
public interface TimedDevice {
    /** The virtual time (ns) at which {@link #expire} should next be called; {@link Long#MAX_VALUE} for never. */
    long nextDeadline();

    /** Called when the clock reads {@code now} >= {@link #nextDeadline()}. */
    void expire(long now);
}
