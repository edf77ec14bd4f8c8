package dev.tdemu.emulator.cpu;

/**
 * How an exit was completed inside the engine's hook, without leaving the engine run (KVM's
 * {@code enum exit_fastpath_completion}, returned by {@code vmx_exit_handlers_fastpath}). The
 * modelled KVM still takes its whole exit path (the DR sequences, the handler, the records): what
 * the fastpath saves is the emulator's own cost of stopping and restarting the engine.
 */
public enum ExitFastpath {
    /** Not handled: the engine stops and the run loop takes the exit as usual. */
    EXIT_FASTPATH_NONE,
    /** Handled (exit path and handler), but the run loop must look before the next entry: the engine stops, the handler is skipped. */
    EXIT_FASTPATH_EXIT_HANDLED,
    /** Handled and the guest entered again (the before-entry sequence done): the engine runs on. */
    EXIT_FASTPATH_REENTER_GUEST
}
