package dev.tdemu.core.pc;

import java.util.Map;

/** MSR numbers with their SDM vol. 4 names (Linux's msr-index.h name in each comment). */
public final class MsrIndex {
    private MsrIndex() {
    }

    /** MSR_IA32_TSC. */
    public static final int IA32_TIME_STAMP_COUNTER = 0x10;
    /** MSR_IA32_PLATFORM_ID. */
    public static final int IA32_PLATFORM_ID = 0x17;
    /** MSR_IA32_APICBASE. */
    public static final int IA32_APIC_BASE = 0x1B;
    /** MSR_IA32_FEAT_CTL. */
    public static final int IA32_FEATURE_CONTROL = 0x3A;
    /** MSR_IA32_TSC_ADJUST. */
    public static final int IA32_TSC_ADJUST = 0x3B;
    /** MSR_IA32_SPEC_CTRL. */
    public static final int IA32_SPEC_CTRL = 0x48;
    /** MSR_IA32_PRED_CMD. */
    public static final int IA32_PRED_CMD = 0x49;
    /** MSR_IA32_UCODE_WRITE. */
    public static final int IA32_BIOS_UPDT_TRIG = 0x79;
    /** MSR_IA32_UCODE_REV: the microcode revision in bits 63:32. */
    public static final int IA32_BIOS_SIGN_ID = 0x8B;
    /** MSR_MTRRcap. */
    public static final int IA32_MTRRCAP = 0xFE;
    /** MSR_IA32_ARCH_CAPABILITIES. */
    public static final int IA32_ARCH_CAPABILITIES = 0x10A;
    /** MSR_IA32_FLUSH_CMD. */
    public static final int IA32_FLUSH_CMD = 0x10B;
    /** MSR_IA32_SYSENTER_CS. */
    public static final int IA32_SYSENTER_CS = 0x174;
    /** MSR_IA32_SYSENTER_ESP. */
    public static final int IA32_SYSENTER_ESP = 0x175;
    /** MSR_IA32_SYSENTER_EIP. */
    public static final int IA32_SYSENTER_EIP = 0x176;
    /** MSR_IA32_MCG_CAP. */
    public static final int IA32_MCG_CAP = 0x179;
    /** MSR_IA32_MCG_STATUS. */
    public static final int IA32_MCG_STATUS = 0x17A;
    /** MSR_IA32_MCG_CTL. */
    public static final int IA32_MCG_CTL = 0x17B;
    /** MSR_IA32_MISC_ENABLE. */
    public static final int IA32_MISC_ENABLE = 0x1A0;
    /** MSR_IA32_DEBUGCTLMSR. */
    public static final int IA32_DEBUGCTL = 0x1D9;
    /** MTRRphysBase0; MTRRphysMask0 is +1, then pairs up to 0x20F. */
    public static final int IA32_MTRR_PHYSBASE0 = 0x200;
    /** MSR_MTRRfix64K_00000. */
    public static final int IA32_MTRR_FIX64K_00000 = 0x250;
    /** MSR_MTRRfix16K_80000. */
    public static final int IA32_MTRR_FIX16K_80000 = 0x258;
    /** MSR_MTRRfix16K_A0000. */
    public static final int IA32_MTRR_FIX16K_A0000 = 0x259;
    /** MSR_MTRRfix4K_C0000; the 4K ranges run to MSR_MTRRfix4K_F8000 (0x26F). */
    public static final int IA32_MTRR_FIX4K_C0000 = 0x268;
    public static final int IA32_MTRR_FIX4K_F8000 = 0x26F;
    /** MSR_IA32_CR_PAT. */
    public static final int IA32_PAT = 0x277;
    /** MSR_MTRRdefType. */
    public static final int IA32_MTRR_DEF_TYPE = 0x2FF;
    /** MSR_IA32_MC0_CTL; bank i has CTL, STATUS, ADDR, MISC at 0x400 + 4i .. + 3. */
    public static final int IA32_MC0_CTL = 0x400;
    /** MSR_IA32_TSC_DEADLINE. */
    public static final int IA32_TSC_DEADLINE = 0x6E0;
    /** The x2APIC register MSRs, APIC_BASE_MSR (0x800) to 0x8FF. */
    public static final int IA32_X2APIC_FIRST = 0x800;
    public static final int IA32_X2APIC_LAST = 0x8FF;
    /** MSR_EFER. */
    public static final int IA32_EFER = 0xC000_0080;
    /** MSR_STAR. */
    public static final int IA32_STAR = 0xC000_0081;
    /** MSR_LSTAR. */
    public static final int IA32_LSTAR = 0xC000_0082;
    /** MSR_CSTAR (the compatibility-mode SYSCALL target; unused by Intel CPUs but writable). */
    public static final int IA32_CSTAR = 0xC000_0083;
    /** MSR_SYSCALL_MASK. */
    public static final int IA32_FMASK = 0xC000_0084;
    /** MSR_FS_BASE. */
    public static final int IA32_FS_BASE = 0xC000_0100;
    /** MSR_GS_BASE. */
    public static final int IA32_GS_BASE = 0xC000_0101;
    /** MSR_KERNEL_GS_BASE. */
    public static final int IA32_KERNEL_GS_BASE = 0xC000_0102;
    /** MSR_TSC_AUX. */
    public static final int IA32_TSC_AUX = 0xC000_0103;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(IA32_TIME_STAMP_COUNTER, "IA32_TIME_STAMP_COUNTER"),
            Map.entry(IA32_PLATFORM_ID, "IA32_PLATFORM_ID"),
            Map.entry(IA32_APIC_BASE, "IA32_APIC_BASE"),
            Map.entry(IA32_FEATURE_CONTROL, "IA32_FEATURE_CONTROL"),
            Map.entry(IA32_TSC_ADJUST, "IA32_TSC_ADJUST"),
            Map.entry(IA32_SPEC_CTRL, "IA32_SPEC_CTRL"),
            Map.entry(IA32_PRED_CMD, "IA32_PRED_CMD"),
            Map.entry(IA32_BIOS_UPDT_TRIG, "IA32_BIOS_UPDT_TRIG"),
            Map.entry(IA32_BIOS_SIGN_ID, "IA32_BIOS_SIGN_ID"),
            Map.entry(IA32_MTRRCAP, "IA32_MTRRCAP"),
            Map.entry(IA32_ARCH_CAPABILITIES, "IA32_ARCH_CAPABILITIES"),
            Map.entry(IA32_FLUSH_CMD, "IA32_FLUSH_CMD"),
            Map.entry(IA32_SYSENTER_CS, "IA32_SYSENTER_CS"),
            Map.entry(IA32_SYSENTER_ESP, "IA32_SYSENTER_ESP"),
            Map.entry(IA32_SYSENTER_EIP, "IA32_SYSENTER_EIP"),
            Map.entry(IA32_MCG_CAP, "IA32_MCG_CAP"),
            Map.entry(IA32_MCG_STATUS, "IA32_MCG_STATUS"),
            Map.entry(IA32_MCG_CTL, "IA32_MCG_CTL"),
            Map.entry(IA32_MISC_ENABLE, "IA32_MISC_ENABLE"),
            Map.entry(IA32_DEBUGCTL, "IA32_DEBUGCTL"),
            Map.entry(IA32_PAT, "IA32_PAT"),
            Map.entry(IA32_MTRR_DEF_TYPE, "IA32_MTRR_DEF_TYPE"),
            Map.entry(IA32_TSC_DEADLINE, "IA32_TSC_DEADLINE"),
            Map.entry(IA32_EFER, "IA32_EFER"),
            Map.entry(IA32_STAR, "IA32_STAR"),
            Map.entry(IA32_LSTAR, "IA32_LSTAR"),
            Map.entry(IA32_CSTAR, "IA32_CSTAR"),
            Map.entry(IA32_FMASK, "IA32_FMASK"),
            Map.entry(IA32_FS_BASE, "IA32_FS_BASE"),
            Map.entry(IA32_GS_BASE, "IA32_GS_BASE"),
            Map.entry(IA32_KERNEL_GS_BASE, "IA32_KERNEL_GS_BASE"),
            Map.entry(IA32_TSC_AUX, "IA32_TSC_AUX"));

    /** The SDM name, or the hex number for MSRs without one here. */
    public static String name(int index) {
        String n = NAMES.get(index);
        if (n != null) {
            return n;
        }
        if (index >= IA32_MTRR_PHYSBASE0 && index < IA32_MTRR_PHYSBASE0 + 0x10) {
            int pair = (index - IA32_MTRR_PHYSBASE0) / 2;
            return ((index & 1) == 0 ? "IA32_MTRR_PHYSBASE" : "IA32_MTRR_PHYSMASK") + pair;
        }
        if (index >= IA32_MTRR_FIX64K_00000 && index <= IA32_MTRR_FIX4K_F8000) {
            return String.format("IA32_MTRR_FIX(0x%x)", index);
        }
        if (index >= IA32_X2APIC_FIRST && index <= IA32_X2APIC_LAST) {
            return ApicRegister.msrName(index).orElse(String.format("x2APIC MSR 0x%x", index));
        }
        if (index >= IA32_MC0_CTL && index < IA32_MC0_CTL + 4 * 32) {
            int bank = (index - IA32_MC0_CTL) / 4;
            return "IA32_MC" + bank + "_" + new String[] {"CTL", "STATUS", "ADDR", "MISC"}[(index - IA32_MC0_CTL) % 4];
        }
        return String.format("MSR 0x%x", index);
    }
}
