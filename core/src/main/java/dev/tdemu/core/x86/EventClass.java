package dev.tdemu.core.x86;

/** When an exception is taken relative to the instruction that caused it. */
public enum EventClass {
    /** Before the instruction executes; the saved RIP points at it (instruction breakpoints, GD). */
    FAULT,
    /** After the instruction completes; the saved RIP points at the next one (data, I/O, single step, ICEBP, INT3). */
    TRAP
}
