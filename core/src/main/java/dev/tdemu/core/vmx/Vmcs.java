package dev.tdemu.core.vmx;

import dev.tdemu.core.x86.Dr7;

/**
 * The VMCS fields that matter to debugging. Mutable, like the real structure: KVM writes fields,
 * VM entry reads them, VM exit writes the guest state and exit information back.
 */
public final class Vmcs {

    private Dr7 guestDr7 = Dr7.RESET;
    private long guestDebugctl;
    private ExceptionBitmap exceptionBitmap = ExceptionBitmap.NONE;
    private ProcBasedControls procBasedControls = new ProcBasedControls(0);
    private VmEntryControls entryControls = new VmEntryControls(0);
    private VmExitControls exitControls = new VmExitControls(0);
    private ExitReason exitReason;
    private long exitQualification;

    /** An all-zero VMCS (guest DR7 = 0x400); KVM's vCPU setup turns on the controls it uses. */
    public Vmcs() {
    }

    public Dr7 guestDr7() {
        return guestDr7;
    }

    public void setGuestDr7(Dr7 value) {
        guestDr7 = value;
    }

    public long guestDebugctl() {
        return guestDebugctl;
    }

    public void setGuestDebugctl(long value) {
        guestDebugctl = value;
    }

    public ExceptionBitmap exceptionBitmap() {
        return exceptionBitmap;
    }

    public void setExceptionBitmap(ExceptionBitmap value) {
        exceptionBitmap = value;
    }

    public ProcBasedControls procBasedControls() {
        return procBasedControls;
    }

    public void setProcBasedControls(ProcBasedControls value) {
        procBasedControls = value;
    }

    /** Convenience for the bit KVM's lazy DR switch toggles. */
    public boolean movDrExiting() {
        return procBasedControls.movDrExiting();
    }

    public void setMovDrExiting(boolean on) {
        procBasedControls = procBasedControls.withMovDrExiting(on);
    }

    public VmEntryControls entryControls() {
        return entryControls;
    }

    public void setEntryControls(VmEntryControls value) {
        entryControls = value;
    }

    public VmExitControls exitControls() {
        return exitControls;
    }

    public void setExitControls(VmExitControls value) {
        exitControls = value;
    }

    /** The basic reason of the last VM exit, or null before the first one. */
    public ExitReason exitReason() {
        return exitReason;
    }

    public long exitQualification() {
        return exitQualification;
    }

    void recordExit(ExitReason reason, long qualification) {
        exitReason = reason;
        exitQualification = qualification;
    }
}
