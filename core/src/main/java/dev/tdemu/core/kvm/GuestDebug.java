package dev.tdemu.core.kvm;

/** KVM_SET_GUEST_DEBUG control flags (x86 values of KVM_GUESTDBG_*). */
public record GuestDebug(int bits) {

    public static final int ENABLE = 0x1;
    public static final int SINGLESTEP = 0x2;
    public static final int USE_SW_BP = 0x1_0000;
    public static final int USE_HW_BP = 0x2_0000;

    public static final GuestDebug NONE = new GuestDebug(0);

    public static GuestDebug of(int... flags) {
        int b = 0;
        for (int f : flags) {
            b |= f;
        }
        return new GuestDebug(b);
    }

    public boolean enable() {
        return (bits & ENABLE) != 0;
    }

    public boolean singlestep() {
        return (bits & SINGLESTEP) != 0;
    }

    public boolean useSwBp() {
        return (bits & USE_SW_BP) != 0;
    }

    public boolean useHwBp() {
        return (bits & USE_HW_BP) != 0;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("GuestDebug[");
        if (enable()) s.append("ENABLE ");
        if (singlestep()) s.append("SINGLESTEP ");
        if (useSwBp()) s.append("USE_SW_BP ");
        if (useHwBp()) s.append("USE_HW_BP ");
        return s.toString().trim() + "]";
    }
}
