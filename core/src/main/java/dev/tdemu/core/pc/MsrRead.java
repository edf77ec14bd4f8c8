package dev.tdemu.core.pc;

/** The outcome of RDMSR: EDX:EAX get the value, or the instruction raises #GP(0). */
public sealed interface MsrRead {

    record Value(long value) implements MsrRead {
    }

    /** Inject #GP(0), RIP unchanged; {@code reason} is one line for the emulator's log. */
    record Gp(String reason) implements MsrRead {
    }
}
