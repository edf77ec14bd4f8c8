package dev.tdemu.emulator.vm;

/** How a guest is run: an ordinary VMX guest, or a TDX trust domain. */
public enum Mode {
    VMX,
    TD;

    public static Mode fromProto(dev.tdemu.proto.GuestMode m) {
        return switch (m) {
            case GUEST_MODE_TD -> TD;
            case GUEST_MODE_VMX, GUEST_MODE_UNSPECIFIED, UNRECOGNIZED -> VMX;
        };
    }
}
