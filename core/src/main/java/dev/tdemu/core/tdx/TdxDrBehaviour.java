package dev.tdemu.core.tdx;

/** What the TDX module leaves in the physical debug registers after a TD exit. */
public enum TdxDrBehaviour {
    /** DR0–3 = 0, DR6 = 0xFFFF0FF0, DR7 = 0x400: "reset to architectural INIT state". */
    INIT_ON_EXIT,
    /**
     * DR0–3 and DR6 as the host had them when it called TDH.VP.ENTER, and DR7 as it was at that
     * moment too (KVM has usually set it to 0x400 by then), which is not the host's breakpoint DR7.
     */
    RESTORE_HOST_EXCEPT_DR7,
    /** A broken module that leaves the TD's own values in hardware; for negative tests only. */
    LEAVE_GUEST_STATE;

    public static TdxDrBehaviour fromProto(dev.tdemu.proto.TdxDrBehaviour b) {
        return switch (b) {
            case TDX_DR_BEHAVIOUR_INIT_ON_EXIT -> INIT_ON_EXIT;
            case TDX_DR_BEHAVIOUR_RESTORE_HOST_EXCEPT_DR7 -> RESTORE_HOST_EXCEPT_DR7;
            case TDX_DR_BEHAVIOUR_LEAVE_GUEST_STATE -> LEAVE_GUEST_STATE;
            default -> throw new IllegalArgumentException("no TDX DR behaviour given: " + b);
        };
    }

    public dev.tdemu.proto.TdxDrBehaviour toProto() {
        return switch (this) {
            case INIT_ON_EXIT -> dev.tdemu.proto.TdxDrBehaviour.TDX_DR_BEHAVIOUR_INIT_ON_EXIT;
            case RESTORE_HOST_EXCEPT_DR7 -> dev.tdemu.proto.TdxDrBehaviour.TDX_DR_BEHAVIOUR_RESTORE_HOST_EXCEPT_DR7;
            case LEAVE_GUEST_STATE -> dev.tdemu.proto.TdxDrBehaviour.TDX_DR_BEHAVIOUR_LEAVE_GUEST_STATE;
        };
    }
}
