package dev.tdemu.core.kvm;

/** The kinds of guest a policy file can run (its {@code worlds}). */
public enum GuestWorld {
    /** An ordinary VMX guest. */
    VMX,
    /** A TD vCPU behind the TDX module. */
    TDX,
    /** An AMD SEV-ES or SEV-SNP guest. */
    SEV_ES;

    static GuestWorld fromProto(dev.tdemu.proto.PolicyWorld w) {
        return switch (w) {
            case POLICY_WORLD_VMX -> VMX;
            case POLICY_WORLD_TDX -> TDX;
            case POLICY_WORLD_SEV_ES -> SEV_ES;
            case POLICY_WORLD_UNSPECIFIED, UNRECOGNIZED -> null;
        };
    }
}
