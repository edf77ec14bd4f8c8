package dev.tdemu.core.vmx;

/** VM-entry controls; only "load debug controls" (bit 2) matters here. */
public record VmEntryControls(int bits) {

    public static final int LOAD_DEBUG_CONTROLS = 1 << 2;

    public boolean loadDebugControls() {
        return (bits & LOAD_DEBUG_CONTROLS) != 0;
    }

    public VmEntryControls withLoadDebugControls(boolean on) {
        return new VmEntryControls(on ? bits | LOAD_DEBUG_CONTROLS : bits & ~LOAD_DEBUG_CONTROLS);
    }
}
