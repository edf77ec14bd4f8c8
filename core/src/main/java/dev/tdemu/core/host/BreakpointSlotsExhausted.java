package dev.tdemu.core.host;

/** All four debug-register slots of the CPU already hold a host breakpoint. */
public final class BreakpointSlotsExhausted extends IllegalStateException {

    public BreakpointSlotsExhausted(int cpu) {
        super("all four debug-register slots of host CPU " + cpu + " are in use");
    }
}
