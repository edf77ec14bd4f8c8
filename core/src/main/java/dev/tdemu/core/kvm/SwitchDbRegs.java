package dev.tdemu.core.kvm;

/**
 * {@code vcpu->arch.switch_db_regs}: why KVM must switch debug registers around guest runs.
 * BP_ENABLED (bit 0) the effective DR7 arms a slot; WONT_EXIT (bit 1) the guest accesses DRs
 * directly (MOV-DR exiting off); RELOAD (bit 2) effDb changed and must be loaded; AUTO_SWITCH
 * (bit 3) the TDX module switches DRs itself.
 */
public record SwitchDbRegs(int bits) {

    public static final int BP_ENABLED = 1;
    public static final int WONT_EXIT = 1 << 1;
    public static final int RELOAD = 1 << 2;
    public static final int AUTO_SWITCH = 1 << 3;

    public static final SwitchDbRegs NONE = new SwitchDbRegs(0);

    public SwitchDbRegs {
        if ((bits & ~0xF) != 0) {
            throw new IllegalArgumentException("switch_db_regs has four flags; got 0x" + Integer.toHexString(bits));
        }
    }

    public static SwitchDbRegs of(int... flags) {
        int b = 0;
        for (int f : flags) {
            b |= f;
        }
        return new SwitchDbRegs(b);
    }

    public boolean has(int flag) {
        return (bits & flag) != 0;
    }

    public boolean bpEnabled() {
        return has(BP_ENABLED);
    }

    public boolean wontExit() {
        return has(WONT_EXIT);
    }

    public boolean reload() {
        return has(RELOAD);
    }

    public boolean autoSwitch() {
        return has(AUTO_SWITCH);
    }

    public boolean isEmpty() {
        return bits == 0;
    }

    public SwitchDbRegs with(int flag) {
        return new SwitchDbRegs(bits | flag);
    }

    public SwitchDbRegs without(int flag) {
        return new SwitchDbRegs(bits & ~flag);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("SwitchDbRegs[");
        if (bpEnabled()) s.append("BP_ENABLED ");
        if (wontExit()) s.append("WONT_EXIT ");
        if (reload()) s.append("RELOAD ");
        if (autoSwitch()) s.append("AUTO_SWITCH ");
        return s.toString().trim() + "]";
    }
}
