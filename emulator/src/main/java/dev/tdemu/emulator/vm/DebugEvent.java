package dev.tdemu.emulator.vm;

/**
 * Why the VM stopped for the debugger (KVM_EXIT_DEBUG and friends).
 *
 * @param vcpu    the vCPU that stopped (every other vCPU is held too: all-stop)
 * @param rip     where that vCPU stopped (an instruction breakpoint's address, the INT3's address)
 * @param address for a watchpoint, the watched address that was hit; else {@code rip}
 * @param dr6     the DR6 value reported with a #DB stop; for {@link Kind#EXCEPTION} the vector; else 0
 * @param detail  for {@link Kind#SHUTDOWN}, why the machine would shut down; for {@link Kind#EXCEPTION},
 *                the exception (vector, error code, CR2); one line; else empty
 */
public record DebugEvent(int vcpu, Kind kind, long rip, long address, long dr6, String detail) {
    public DebugEvent(int vcpu, Kind kind, long rip, long address, long dr6) {
        this(vcpu, kind, rip, address, dr6, "");
    }

    public enum Kind {
        HARDWARE_BREAKPOINT,
        SOFTWARE_BREAKPOINT,
        WATCH_WRITE,
        WATCH_READ,
        WATCH_ACCESS,
        STEP,
        /** The debugger asked the VM to stop (gdb's Ctrl-C). */
        INTERRUPTED,
        /**
         * The vCPU would shut down (a triple fault): it stops before, state intact, and the VM ends
         * when the debugger lets it go on.
         */
        SHUTDOWN,
        /**
         * The guest raised an exception the debugger catches ({@code monitor catch}): the vCPU
         * stops before it is delivered, at the faulting instruction, and continuing delivers it.
         */
        EXCEPTION,
        /** The VM ended (see {@link VmResult}). */
        EXITED
    }
}
