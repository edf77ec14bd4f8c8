package dev.tdemu.emulator.vm;

/** Receives stops from a {@link DebugSession}; called on a vCPU thread once every vCPU is held. */
public interface DebugListener {
    void stopped(DebugEvent event);

    /** The VM ended while the debugger was attached. */
    default void ended(VmResult result) {}
}
