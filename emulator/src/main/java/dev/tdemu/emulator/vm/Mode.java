package dev.tdemu.emulator.vm;

/** How a guest is run: an ordinary VMX guest, a TDX trust domain, or an AMD SEV-ES guest. */
public enum Mode {
    VMX,
    TD,
    /** An SEV-ES guest: #VC for CPUID, port I/O and MSRs, VMGEXIT with the GHCB (SevEsExitHandlers). */
    SEV_ES;

    /** What `tdemu check --mode sev-es` says: the check's tables filter VMX and TD only. */
    public static final String SEV_ES_NOT_IMPLEMENTED = "--mode sev-es is not implemented for `tdemu check`: its SEV-ES "
            + "table is always printed (`tdemu run --mode sev-es` runs SEV-ES guests)";

    public static Mode fromProto(dev.tdemu.proto.GuestMode m) {
        return switch (m) {
            case GUEST_MODE_TD -> TD;
            case GUEST_MODE_VMX, GUEST_MODE_UNSPECIFIED, UNRECOGNIZED -> VMX;
            case GUEST_MODE_SEV_ES -> SEV_ES;
        };
    }
}
