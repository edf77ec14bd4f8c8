package dev.tdemu.core.kvm;

import dev.tdemu.core.x86.Dr7;

/**
 * The argument of KVM_SET_GUEST_DEBUG: control flags and, for USE_HW_BP, the debugger's DR0–3 and
 * DR7 (struct kvm_guest_debug_arch).
 */
public record GuestDebugRequest(GuestDebug control, long db0, long db1, long db2, long db3, Dr7 dr7) {

    /** Debugging off. */
    public static final GuestDebugRequest DISABLE = new GuestDebugRequest(GuestDebug.NONE, 0, 0, 0, 0, Dr7.RESET);

    public static GuestDebugRequest of(GuestDebug control, long[] db, Dr7 dr7) {
        if (db.length != 4) {
            throw new IllegalArgumentException("the debugger gives DR0-DR3, four values");
        }
        return new GuestDebugRequest(control, db[0], db[1], db[2], db[3], dr7);
    }

    /** Flags only (no hardware breakpoints). */
    public static GuestDebugRequest flags(int... flags) {
        return new GuestDebugRequest(GuestDebug.of(flags), 0, 0, 0, 0, Dr7.RESET);
    }

    public long db(int n) {
        return switch (n) {
            case 0 -> db0;
            case 1 -> db1;
            case 2 -> db2;
            case 3 -> db3;
            default -> throw new IllegalArgumentException("slot is 0..3, not " + n);
        };
    }
}
