package dev.tdemu.core.x86;

/**
 * An exception the debug logic raises: #DB (with the conditions it reports) or #BP for INT3.
 *
 * @param vector     {@link ExceptionVector#DB} or {@link ExceptionVector#BP}
 * @param eventClass fault (RIP stays at the instruction) or trap (RIP after it)
 * @param pending    the DR6 bits this exception reports; empty for #BP and ICEBP
 * @param dr6        the value DR6 holds once this exception is delivered in the same context
 *                   ({@link Dr6#deliver}); a VM exit that intercepts the #DB leaves DR6 alone instead
 */
public record DebugException(ExceptionVector vector, EventClass eventClass, PendingDebug pending, Dr6 dr6) {

    public DebugException {
        if (vector != ExceptionVector.DB && vector != ExceptionVector.BP) {
            throw new IllegalArgumentException("a debug exception is #DB or #BP, not " + vector);
        }
        if (vector == ExceptionVector.BP && !pending.isEmpty()) {
            throw new IllegalArgumentException("#BP reports nothing in DR6");
        }
    }

    public boolean isDb() {
        return vector == ExceptionVector.DB;
    }
}
