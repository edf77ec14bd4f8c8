package dev.tdemu.core.vmx;

/** VM-exit controls; only "save debug controls" (bit 2) matters here. */
public record VmExitControls(int bits) {

    public static final int SAVE_DEBUG_CONTROLS = 1 << 2;

    public boolean saveDebugControls() {
        return (bits & SAVE_DEBUG_CONTROLS) != 0;
    }

    public VmExitControls withSaveDebugControls(boolean on) {
        return new VmExitControls(on ? bits | SAVE_DEBUG_CONTROLS : bits & ~SAVE_DEBUG_CONTROLS);
    }
}
