package dev.tdemu.core.x86;

/**
 * One event ready to be delivered: what ({@link Event}), the RIP the frame saves, and the RF value
 * the saved RFLAGS gets. Built through {@link Event}'s static methods, never positionally.
 *
 * @param event      the event
 * @param returnRip  the saved RIP: the faulting instruction for a fault, the next instruction for
 *                   a trap or a software interrupt, the interrupted one for an interrupt
 * @param resumeFlag RF in the saved RFLAGS: set for faults so that IRET re-runs the instruction
 *                   without re-raising its instruction breakpoint (SDM 17.3.1.1); clear for an
 *                   instruction-breakpoint #DB and for traps, except the trap after a non-final
 *                   iteration of a REP string instruction
 */
public record EventDelivery(Event event, long returnRip, boolean resumeFlag) {

    public EventDelivery {
        java.util.Objects.requireNonNull(event, "event");
    }

    public int vector() {
        return event.vector();
    }

    /** This delivery with RF set to {@code rf} in the saved RFLAGS. */
    public EventDelivery withResumeFlag(boolean rf) {
        return new EventDelivery(event, returnRip, rf);
    }

    /** Where the instruction that raised the event starts: {@link #returnRip()} minus a software interrupt's length. */
    public long instructionRip() {
        return event instanceof Event.SoftwareInterrupt s ? returnRip - s.length() : returnRip;
    }

    /** Whether this is the exception {@code v} (never true for an interrupt that shares its vector). */
    public boolean is(ExceptionVector v) {
        return event instanceof Event.HardwareException e && e.exception() == v;
    }

    @Override
    public String toString() {
        return event.describe() + String.format(" at RIP 0x%x", returnRip) + (resumeFlag ? " RF" : "");
    }
}
