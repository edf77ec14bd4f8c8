package dev.tdemu.core.tdx;

import dev.tdemu.core.vmx.ExceptionBitmap;
import dev.tdemu.core.x86.DebugRegisters;

/**
 * The TDX module's per-TD-vCPU state that concerns debugging: the TD's saved DR0–3/DR6/DR7 (INIT
 * values at creation), the TD's exception bitmap, and the host DRs saved by TDH.VP.ENTER.
 *
 * <p>The accessors expose module-private state for the model and its checks; the host's only
 * legitimate way in is {@link TdxModule}'s debug interface.
 */
public final class TdVcpu {

    private final TdAttributes attributes;
    private DebugRegisters savedDebugRegisters = DebugRegisters.INIT;
    private ExceptionBitmap exceptionBitmap = ExceptionBitmap.NONE;
    private DebugRegisters hostAtEnter;
    private boolean running;

    public TdVcpu(TdAttributes attributes) {
        this.attributes = attributes;
    }

    public TdAttributes attributes() {
        return attributes;
    }

    /** The TD's own DR values as last saved by a TD exit (or written through the debug interface). */
    public DebugRegisters savedDebugRegisters() {
        return savedDebugRegisters;
    }

    /** Which exceptions in the TD exit to the host; only a debug TD's host can change it. */
    public ExceptionBitmap exceptionBitmap() {
        return exceptionBitmap;
    }

    /** The physical DRs the module found at the last TDH.VP.ENTER, or null before the first. */
    public DebugRegisters hostAtEnter() {
        return hostAtEnter;
    }

    /** Whether the vCPU is between TDH.VP.ENTER and its TD exit. */
    public boolean running() {
        return running;
    }

    void setSavedDebugRegisters(DebugRegisters value) {
        savedDebugRegisters = value;
    }

    void setExceptionBitmap(ExceptionBitmap value) {
        exceptionBitmap = value;
    }

    void enter(DebugRegisters host) {
        hostAtEnter = host;
        running = true;
    }

    void exit() {
        running = false;
    }
}
