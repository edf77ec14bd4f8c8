package dev.tdemu.core.pc;

/** The outcome of WRMSR: done (RIP moves past the instruction), or #GP(0). */
public sealed interface MsrWrite {

    /** The write took effect (or was ignored where the architecture or KVM ignores it). */
    record Done() implements MsrWrite {
    }

    /** Inject #GP(0), RIP unchanged, nothing changed; {@code reason} is one line for the emulator's log. */
    record Gp(String reason) implements MsrWrite {
    }

    MsrWrite DONE = new Done();

    static MsrWrite gp(String format, Object... args) {
        return new Gp(String.format(format, args));
    }
}
