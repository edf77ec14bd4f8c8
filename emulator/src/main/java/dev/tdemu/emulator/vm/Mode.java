package dev.tdemu.emulator.vm;

/** How a guest is run: an ordinary VMX guest, or a TDX trust domain. */
public enum Mode {
    VMX,
    TD;

    /** What every place that is asked to run an SEV-ES guest says (issue #19's --mode sev-es is not done). */
    public static final String SEV_ES_NOT_IMPLEMENTED = "--mode sev-es is not implemented: the emulator does not run "
            + "SEV-ES guests (SVM guest mode with #VC) yet; `tdemu check` judges SEV-ES DebugSwap in the model only "
            + "(its SEV-ES table)";

    public static Mode fromProto(dev.tdemu.proto.GuestMode m) {
        return switch (m) {
            case GUEST_MODE_TD -> TD;
            case GUEST_MODE_VMX, GUEST_MODE_UNSPECIFIED, UNRECOGNIZED -> VMX;
            case GUEST_MODE_SEV_ES -> throw new IllegalArgumentException(SEV_ES_NOT_IMPLEMENTED);
        };
    }
}
