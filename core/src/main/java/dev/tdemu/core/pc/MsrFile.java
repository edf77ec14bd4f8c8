package dev.tdemu.core.pc;

import static dev.tdemu.core.pc.MsrIndex.IA32_APIC_BASE;
import static dev.tdemu.core.pc.MsrIndex.IA32_ARCH_CAPABILITIES;
import static dev.tdemu.core.pc.MsrIndex.IA32_BIOS_SIGN_ID;
import static dev.tdemu.core.pc.MsrIndex.IA32_BIOS_UPDT_TRIG;
import static dev.tdemu.core.pc.MsrIndex.IA32_CSTAR;
import static dev.tdemu.core.pc.MsrIndex.IA32_DEBUGCTL;
import static dev.tdemu.core.pc.MsrIndex.IA32_EFER;
import static dev.tdemu.core.pc.MsrIndex.IA32_FEATURE_CONTROL;
import static dev.tdemu.core.pc.MsrIndex.IA32_FLUSH_CMD;
import static dev.tdemu.core.pc.MsrIndex.IA32_FMASK;
import static dev.tdemu.core.pc.MsrIndex.IA32_FS_BASE;
import static dev.tdemu.core.pc.MsrIndex.IA32_GS_BASE;
import static dev.tdemu.core.pc.MsrIndex.IA32_KERNEL_GS_BASE;
import static dev.tdemu.core.pc.MsrIndex.IA32_LSTAR;
import static dev.tdemu.core.pc.MsrIndex.IA32_MC0_CTL;
import static dev.tdemu.core.pc.MsrIndex.IA32_MCG_CAP;
import static dev.tdemu.core.pc.MsrIndex.IA32_MCG_CTL;
import static dev.tdemu.core.pc.MsrIndex.IA32_MCG_STATUS;
import static dev.tdemu.core.pc.MsrIndex.IA32_MISC_ENABLE;
import static dev.tdemu.core.pc.MsrIndex.IA32_MTRRCAP;
import static dev.tdemu.core.pc.MsrIndex.IA32_MTRR_DEF_TYPE;
import static dev.tdemu.core.pc.MsrIndex.IA32_MTRR_FIX16K_80000;
import static dev.tdemu.core.pc.MsrIndex.IA32_MTRR_FIX16K_A0000;
import static dev.tdemu.core.pc.MsrIndex.IA32_MTRR_FIX4K_C0000;
import static dev.tdemu.core.pc.MsrIndex.IA32_MTRR_FIX4K_F8000;
import static dev.tdemu.core.pc.MsrIndex.IA32_MTRR_FIX64K_00000;
import static dev.tdemu.core.pc.MsrIndex.IA32_MTRR_PHYSBASE0;
import static dev.tdemu.core.pc.MsrIndex.IA32_PAT;
import static dev.tdemu.core.pc.MsrIndex.IA32_PLATFORM_ID;
import static dev.tdemu.core.pc.MsrIndex.IA32_PRED_CMD;
import static dev.tdemu.core.pc.MsrIndex.IA32_SPEC_CTRL;
import static dev.tdemu.core.pc.MsrIndex.IA32_STAR;
import static dev.tdemu.core.pc.MsrIndex.IA32_SYSENTER_CS;
import static dev.tdemu.core.pc.MsrIndex.IA32_SYSENTER_EIP;
import static dev.tdemu.core.pc.MsrIndex.IA32_SYSENTER_ESP;
import static dev.tdemu.core.pc.MsrIndex.IA32_TIME_STAMP_COUNTER;
import static dev.tdemu.core.pc.MsrIndex.IA32_TSC_ADJUST;
import static dev.tdemu.core.pc.MsrIndex.IA32_TSC_AUX;
import static dev.tdemu.core.pc.MsrIndex.IA32_TSC_DEADLINE;
import static dev.tdemu.core.pc.MsrIndex.IA32_X2APIC_FIRST;
import static dev.tdemu.core.pc.MsrIndex.IA32_X2APIC_LAST;

import java.util.Arrays;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The model-specific registers of one vCPU of a 64-bit PC guest, as KVM (with ignore_msrs=0)
 * presents them for the CPU {@link CpuidModel} describes: which MSRs exist follows the CPUID
 * feature bits, reserved bits and non-canonical addresses raise #GP, every unknown index raises
 * #GP. RDMSR/WRMSR exits become {@link #read}/{@link #write}.
 *
 * <p>Some MSRs live elsewhere and are reached through {@link MsrVcpuContext}: the engine-owned
 * ones ({@link #engineOwned}) because the engine uses them while it runs guest code (EFER,
 * segment bases, SYSCALL targets); IA32_APIC_BASE in the {@link LocalApic}; IA32_DEBUGCTL in the
 * debug-register model. IA32_TIME_STAMP_COUNTER is the vCPU's {@link GuestTsc} (the local APIC's,
 * whose TSC-deadline timer compares with it), which the emulator also answers RDTSC with.
 * IA32_TSC_DEADLINE and the x2APIC registers (0x800-0x8FF) are the local APIC's, when CPUID
 * offers them.
 */
public final class MsrFile {

    public static final long EFER_SCE = 1;
    public static final long EFER_LME = 1L << 8;
    public static final long EFER_LMA = 1L << 10;
    public static final long EFER_NX = 1L << 11;

    /** WB, WT, UC-, UC repeated: the PAT after reset. */
    public static final long PAT_RESET = 0x0007_0406_0007_0406L;
    public static final int VARIABLE_MTRRS = 8;
    /** VCNT 8, fixed ranges (bit 8), write-combining (bit 10), no SMRR: KVM's value. */
    public static final long MTRRCAP = 0x500 | VARIABLE_MTRRS;

    public static final long MISC_ENABLE_FAST_STRING = 1;
    public static final long MISC_ENABLE_AUTO_TCC = 1L << 3;
    public static final long MISC_ENABLE_EMON = 1L << 7;
    public static final long MISC_ENABLE_BTS_UNAVAIL = 1L << 11;
    public static final long MISC_ENABLE_PEBS_UNAVAIL = 1L << 12;
    public static final long MISC_ENABLE_ENHANCED_SPEEDSTEP = 1L << 16;
    public static final long MISC_ENABLE_MWAIT = 1L << 18;
    public static final long MISC_ENABLE_LIMIT_CPUID = 1L << 22;
    public static final long MISC_ENABLE_XTPR_DISABLE = 1L << 23;
    public static final long MISC_ENABLE_XD_DISABLE = 1L << 34;
    /** Fast strings (QEMU's reset value) and no BTS/PEBS (KVM's). */
    public static final long MISC_ENABLE_RESET = MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
    private static final long MISC_ENABLE_WRITABLE = MISC_ENABLE_FAST_STRING | MISC_ENABLE_AUTO_TCC
            | MISC_ENABLE_ENHANCED_SPEEDSTEP | MISC_ENABLE_MWAIT | MISC_ENABLE_LIMIT_CPUID | MISC_ENABLE_XTPR_DISABLE
            | MISC_ENABLE_XD_DISABLE;

    public static final int MCE_BANKS = 10;
    public static final long MCG_CTL_P = 1L << 8;
    public static final long MCG_SER_P = 1L << 24;
    /** QEMU's default: ten banks, IA32_MCG_CTL present, software error recovery; no CMCI (so no LVT CMCI). */
    public static final long MCG_CAP = MCE_BANKS | MCG_CTL_P | MCG_SER_P;

    /** KVM's and QEMU's default microcode revision for an Intel guest (IA32_BIOS_SIGN_ID bits 63:32). */
    public static final long MICROCODE_REVISION = 0x1_0000_0000L;
    public static final long FEATURE_CONTROL_LOCKED = 1;

    public static final long DEBUGCTL_LBR = 1;
    public static final long DEBUGCTL_BTF = 1L << 1;

    private static final Set<Integer> ENGINE_OWNED = Set.of(IA32_EFER, IA32_STAR, IA32_LSTAR, IA32_CSTAR, IA32_FMASK,
            IA32_FS_BASE, IA32_GS_BASE, IA32_KERNEL_GS_BASE, IA32_TSC_AUX);

    private final CpuidFeatures features;
    private final LocalApic apic;
    private final MsrVcpuContext vcpu;

    private long sysenterCs;
    private long sysenterEsp;
    private long sysenterEip;
    private long pat;
    private long mtrrDefType;
    private final long[] fixedMtrrs = new long[11];
    private final long[] variableMtrrs = new long[2 * VARIABLE_MTRRS];
    private long miscEnable;
    private long mcgStatus;
    private long mcgCtl;
    private final long[] mceBanks = new long[4 * MCE_BANKS];
    private long featureControl;

    public MsrFile(CpuidFeatures features, LocalApic apic, MsrVcpuContext vcpu) {
        if (features.x2apic() != apic.features().x2apic() || features.tscDeadline() != apic.features().tscDeadline()) {
            throw new IllegalArgumentException("the MSRs and the local APIC must follow one CPUID profile (x2APIC, TSC-deadline)");
        }
        this.features = features;
        this.apic = apic;
        this.vcpu = vcpu;
        reset();
    }

    /** The values after RESET (the APIC's and the engine's MSRs reset with them). */
    public void reset() {
        apic.tsc().reset();
        sysenterCs = 0;
        sysenterEsp = 0;
        sysenterEip = 0;
        pat = PAT_RESET;
        mtrrDefType = 0;
        Arrays.fill(fixedMtrrs, 0);
        Arrays.fill(variableMtrrs, 0);
        miscEnable = MISC_ENABLE_RESET;
        mcgStatus = 0;
        mcgCtl = -1L;
        Arrays.fill(mceBanks, 0);
        for (int bank = 0; bank < MCE_BANKS; bank++) {
            mceBanks[4 * bank] = -1L;
        }
        // Locked with VMX off, as firmware leaves it: no BIOS runs before a multiboot kernel.
        featureControl = FEATURE_CONTROL_LOCKED;
    }

    /**
     * The MSRs the engine itself uses while running guest code, so it holds them: reads come from
     * it and validated writes go to it through {@link MsrVcpuContext}.
     */
    public static boolean engineOwned(int index) {
        return ENGINE_OWNED.contains(index);
    }

    /** What writes to IA32_TIME_STAMP_COUNTER added to the vCPU's {@link GuestTsc} (RDTSC is {@code apic.tsc().read()}). */
    public long tscOffset() {
        return apic.tsc().offset();
    }

    /**
     * The value IA32_DEBUGCTL takes for a WRMSR of {@code value}, as KVM's VMX code decides it:
     * LBR and BTF are accepted and dropped (tdemu, like KVM without LBR virtualisation, traces no
     * branches), any other bit raises #GP (empty).
     */
    public static OptionalLong acceptedDebugctl(long value) {
        if ((value & ~(DEBUGCTL_LBR | DEBUGCTL_BTF)) != 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(0);
    }

    // ---- RDMSR ----

    public MsrRead read(int index) {
        if (isX2apic(index)) {
            return features.x2apic() ? apic.readX2apicMsr(index) : notOffered(index);
        }
        if (isVariableMtrr(index)) {
            return requireMtrr(index).orElse(value(variableMtrrs[index - IA32_MTRR_PHYSBASE0]));
        }
        if (fixedMtrrSlot(index) >= 0) {
            return requireMtrr(index).orElse(value(fixedMtrrs[fixedMtrrSlot(index)]));
        }
        if (isMceBank(index)) {
            return features.mca() ? value(mceBanks[index - IA32_MC0_CTL]) : gp("%s: no machine-check architecture", index);
        }
        return switch (index) {
            case IA32_TIME_STAMP_COUNTER -> value(apic.tsc().read());
            case IA32_TSC_DEADLINE -> features.tscDeadline() ? value(apic.readTscDeadline()) : notOffered(index);
            case IA32_PLATFORM_ID -> value(0);
            case IA32_APIC_BASE -> value(apic.readApicBase());
            case IA32_FEATURE_CONTROL -> value(featureControl);
            case IA32_BIOS_SIGN_ID -> value(MICROCODE_REVISION);
            case IA32_MTRRCAP -> features.mtrr() ? value(MTRRCAP) : gp("%s: no MTRRs", index);
            case IA32_MTRR_DEF_TYPE -> requireMtrr(index).orElse(value(mtrrDefType));
            case IA32_PAT -> features.pat() ? value(pat) : gp("%s: no PAT", index);
            case IA32_SYSENTER_CS -> value(sysenterCs);
            case IA32_SYSENTER_ESP -> value(sysenterEsp);
            case IA32_SYSENTER_EIP -> value(sysenterEip);
            case IA32_MCG_CAP -> features.mca() ? value(MCG_CAP) : gp("%s: no machine-check architecture", index);
            case IA32_MCG_STATUS -> features.mca() ? value(mcgStatus) : gp("%s: no machine-check architecture", index);
            case IA32_MCG_CTL -> features.mca() ? value(mcgCtl) : gp("%s: no machine-check architecture", index);
            case IA32_MISC_ENABLE -> value(miscEnable);
            case IA32_DEBUGCTL -> value(vcpu.debugctl());
            case IA32_TSC_AUX -> features.rdtscp() || features.rdpid() ? value(vcpu.readEngineMsr(index)) : noRdtscp(index);
            case IA32_EFER, IA32_STAR, IA32_LSTAR, IA32_CSTAR, IA32_FMASK, IA32_FS_BASE, IA32_GS_BASE, IA32_KERNEL_GS_BASE ->
                    value(vcpu.readEngineMsr(index));
            default -> notOffered(index);
        };
    }

    // ---- WRMSR ----

    public MsrWrite write(int index, long value) {
        if (isX2apic(index)) {
            return features.x2apic() ? apic.writeX2apicMsr(index, value) : MsrWrite.gp("%s", notOffered(index).reason());
        }
        if (isVariableMtrr(index)) {
            return writeVariableMtrr(index, value);
        }
        if (fixedMtrrSlot(index) >= 0) {
            return writeFixedMtrr(index, value);
        }
        if (isMceBank(index)) {
            return writeMceBank(index, value);
        }
        return switch (index) {
            case IA32_TIME_STAMP_COUNTER -> {
                apic.tsc().write(value);
                yield MsrWrite.DONE;
            }
            case IA32_TSC_DEADLINE -> {
                if (!features.tscDeadline()) {
                    yield MsrWrite.gp("%s", notOffered(index).reason());
                }
                apic.writeTscDeadline(value);
                yield MsrWrite.DONE;
            }
            case IA32_APIC_BASE -> apic.writeApicBase(value);
            case IA32_PLATFORM_ID, IA32_MTRRCAP, IA32_MCG_CAP -> MsrWrite.gp("%s is read-only", MsrIndex.name(index));
            case IA32_FEATURE_CONTROL -> MsrWrite.gp("IA32_FEATURE_CONTROL is locked (0x%x)", featureControl);
            // Microcode updates are a no-op in a VM; Linux writes 0 to IA32_BIOS_SIGN_ID before reading the revision.
            case IA32_BIOS_UPDT_TRIG, IA32_BIOS_SIGN_ID -> MsrWrite.DONE;
            case IA32_MTRR_DEF_TYPE -> writeMtrrDefType(value);
            case IA32_PAT -> writePat(value);
            case IA32_SYSENTER_CS -> {
                sysenterCs = value & 0xFFFF_FFFFL; // a 32-bit field in the VMCS, as in KVM
                yield MsrWrite.DONE;
            }
            case IA32_SYSENTER_ESP -> {
                sysenterEsp = canonicalized(value); // Intel CPUs canonicalize these two rather than fault
                yield MsrWrite.DONE;
            }
            case IA32_SYSENTER_EIP -> {
                sysenterEip = canonicalized(value);
                yield MsrWrite.DONE;
            }
            case IA32_MCG_STATUS -> {
                if (!features.mca()) {
                    yield MsrWrite.gp("IA32_MCG_STATUS: no machine-check architecture");
                }
                mcgStatus = value;
                yield MsrWrite.DONE;
            }
            case IA32_MCG_CTL -> {
                if (!features.mca() || (value != 0 && value != -1L)) {
                    yield MsrWrite.gp("IA32_MCG_CTL 0x%x: only 0 or all ones", value);
                }
                mcgCtl = value;
                yield MsrWrite.DONE;
            }
            case IA32_MISC_ENABLE -> writeMiscEnable(value);
            case IA32_DEBUGCTL -> {
                OptionalLong accepted = acceptedDebugctl(value);
                if (accepted.isEmpty()) {
                    yield MsrWrite.gp("IA32_DEBUGCTL 0x%x: bits other than LBR and BTF are reserved", value);
                }
                vcpu.setDebugctl(accepted.getAsLong());
                yield MsrWrite.DONE;
            }
            case IA32_EFER -> writeEfer(value);
            case IA32_STAR -> toEngine(index, value);
            case IA32_LSTAR, IA32_CSTAR, IA32_FS_BASE, IA32_GS_BASE, IA32_KERNEL_GS_BASE ->
                    canonical(value) ? toEngine(index, value)
                            : MsrWrite.gp("%s 0x%x: not a canonical address", MsrIndex.name(index), value);
            case IA32_FMASK -> (value >>> 32) != 0
                    ? MsrWrite.gp("IA32_FMASK 0x%x: bits 63:32 are reserved", value) : toEngine(index, value);
            case IA32_TSC_AUX -> {
                if (!features.rdtscp() && !features.rdpid()) {
                    yield MsrWrite.gp("IA32_TSC_AUX: RDTSCP and RDPID are not offered");
                }
                yield (value >>> 32) != 0 ? MsrWrite.gp("IA32_TSC_AUX 0x%x: bits 63:32 are reserved", value)
                        : toEngine(index, value);
            }
            default -> MsrWrite.gp("%s", notOffered(index).reason());
        };
    }

    private MsrWrite writeEfer(long value) {
        long valid = (features.syscall() ? EFER_SCE : 0) | (features.longMode() ? EFER_LME | EFER_LMA : 0)
                | (features.nx() ? EFER_NX : 0);
        if ((value & ~valid) != 0) {
            return MsrWrite.gp("IA32_EFER 0x%x: reserved bits 0x%x", value, value & ~valid);
        }
        long current = vcpu.readEngineMsr(IA32_EFER);
        if (vcpu.pagingEnabled() && ((current ^ value) & EFER_LME) != 0) {
            return MsrWrite.gp("IA32_EFER 0x%x: LME cannot change while CR0.PG = 1", value);
        }
        // LMA is the processor's: it follows CR0.PG and LME, a written LMA is ignored (as KVM's set_efer).
        return toEngine(IA32_EFER, (value & ~EFER_LMA) | (current & EFER_LMA));
    }

    private MsrWrite writeMiscEnable(long value) {
        long changed = value ^ miscEnable;
        if ((changed & (MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)) != 0) {
            return MsrWrite.gp("IA32_MISC_ENABLE 0x%x: BTS/PEBS unavailable (bits 11, 12) are read-only", value);
        }
        long reserved = value & ~(MISC_ENABLE_WRITABLE | MISC_ENABLE_EMON | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL);
        if (reserved != 0) {
            return MsrWrite.gp("IA32_MISC_ENABLE 0x%x: reserved bits 0x%x", value, reserved);
        }
        // EMON (bit 7) is read-only and writes to it are dropped; the writable bits are stored without effect, as in KVM.
        miscEnable = (value & MISC_ENABLE_WRITABLE) | (miscEnable & ~MISC_ENABLE_WRITABLE);
        return MsrWrite.DONE;
    }

    // ---- memory types ----

    /** PAT entries may be UC, WC, WT, WP, WB, UC- (0, 1, 4, 5, 6, 7). */
    private static boolean validPatType(long type) {
        return type < 8 && ((0xF3 >> type) & 1) != 0;
    }

    /** MTRR types are UC, WC, WT, WP, WB (0, 1, 4, 5, 6). */
    private static boolean validMtrrType(long type) {
        return type < 8 && ((0x73 >> type) & 1) != 0;
    }

    private MsrWrite writePat(long value) {
        if (!features.pat()) {
            return MsrWrite.gp("IA32_PAT: no PAT");
        }
        for (int i = 0; i < 8; i++) {
            if (!validPatType((value >>> (8 * i)) & 0xFF)) {
                return MsrWrite.gp("IA32_PAT 0x%x: entry %d is not a memory type", value, i);
            }
        }
        pat = value;
        return MsrWrite.DONE;
    }

    private MsrWrite writeMtrrDefType(long value) {
        if (!features.mtrr()) {
            return MsrWrite.gp("IA32_MTRR_DEF_TYPE: no MTRRs");
        }
        if ((value & ~0xCFFL) != 0 || !validMtrrType(value & 0xFF)) {
            return MsrWrite.gp("IA32_MTRR_DEF_TYPE 0x%x: reserved bits or an invalid type", value);
        }
        mtrrDefType = value;
        return MsrWrite.DONE;
    }

    private MsrWrite writeFixedMtrr(int index, long value) {
        if (!features.mtrr()) {
            return MsrWrite.gp("%s: no MTRRs", MsrIndex.name(index));
        }
        for (int i = 0; i < 8; i++) {
            if (!validMtrrType((value >>> (8 * i)) & 0xFF)) {
                return MsrWrite.gp("%s 0x%x: range %d is not a memory type", MsrIndex.name(index), value, i);
            }
        }
        fixedMtrrs[fixedMtrrSlot(index)] = value;
        return MsrWrite.DONE;
    }

    private MsrWrite writeVariableMtrr(int index, long value) {
        if (!features.mtrr()) {
            return MsrWrite.gp("%s: no MTRRs", MsrIndex.name(index));
        }
        long reserved = -1L << features.physicalAddressBits();
        boolean base = (index & 1) == 0;
        if (base) {
            reserved |= 0xF00;
            if (!validMtrrType(value & 0xFF)) {
                return MsrWrite.gp("%s 0x%x: not a memory type", MsrIndex.name(index), value);
            }
        } else {
            reserved |= 0x7FF;
        }
        if ((value & reserved) != 0) {
            return MsrWrite.gp("%s 0x%x: reserved bits 0x%x", MsrIndex.name(index), value, value & reserved);
        }
        variableMtrrs[index - IA32_MTRR_PHYSBASE0] = value;
        return MsrWrite.DONE;
    }

    private static boolean isX2apic(int index) {
        return index >= IA32_X2APIC_FIRST && index <= IA32_X2APIC_LAST;
    }

    private static boolean isVariableMtrr(int index) {
        return index >= IA32_MTRR_PHYSBASE0 && index < IA32_MTRR_PHYSBASE0 + 2 * VARIABLE_MTRRS;
    }

    /** The fixed-range MTRRs in order 64K_00000, 16K_80000, 16K_A0000, 4K_C0000 .. 4K_F8000; -1 for other MSRs. */
    private static int fixedMtrrSlot(int index) {
        if (index == IA32_MTRR_FIX64K_00000) {
            return 0;
        }
        if (index == IA32_MTRR_FIX16K_80000 || index == IA32_MTRR_FIX16K_A0000) {
            return 1 + index - IA32_MTRR_FIX16K_80000;
        }
        if (index >= IA32_MTRR_FIX4K_C0000 && index <= IA32_MTRR_FIX4K_F8000) {
            return 3 + index - IA32_MTRR_FIX4K_C0000;
        }
        return -1;
    }

    private java.util.Optional<MsrRead> requireMtrr(int index) {
        return features.mtrr() ? java.util.Optional.empty() : java.util.Optional.of(gp("%s: no MTRRs", index));
    }

    // ---- machine check ----

    private static boolean isMceBank(int index) {
        return index >= IA32_MC0_CTL && index < IA32_MC0_CTL + 4 * MCE_BANKS;
    }

    private MsrWrite writeMceBank(int index, long value) {
        if (!features.mca()) {
            return MsrWrite.gp("%s: no machine-check architecture", MsrIndex.name(index));
        }
        int offset = index - IA32_MC0_CTL;
        switch (offset & 3) {
            case 0 -> {
                // Only 0 or all ones, with KVM's allowance for Linux clearing bit 10 (an old K8 GART workaround).
                if (value != 0 && (value | (1L << 10)) != -1L) {
                    return MsrWrite.gp("%s 0x%x: only 0 or all ones", MsrIndex.name(index), value);
                }
            }
            case 1 -> {
                if (value != 0) {
                    return MsrWrite.gp("%s 0x%x: software may only clear a status register", MsrIndex.name(index), value);
                }
            }
            default -> { } // ADDR and MISC take any value
        }
        mceBanks[offset] = value;
        return MsrWrite.DONE;
    }

    // ---- helpers ----

    private boolean canonical(long address) {
        int shift = 64 - features.linearAddressBits();
        return (address << shift >> shift) == address;
    }

    private long canonicalized(long address) {
        int shift = 64 - features.linearAddressBits();
        return address << shift >> shift;
    }

    private MsrWrite toEngine(int index, long value) {
        vcpu.writeEngineMsr(index, value);
        return MsrWrite.DONE;
    }

    private static MsrRead value(long v) {
        return new MsrRead.Value(v);
    }

    private static MsrRead.Gp gp(String format, int index) {
        return new MsrRead.Gp(String.format(format, MsrIndex.name(index)));
    }

    private static MsrRead.Gp noRdtscp(int index) {
        return gp("%s: RDTSCP and RDPID are not offered", index);
    }

    /** Why an MSR this CPU does not have raises #GP (KVM with ignore_msrs=0 answers the same). */
    private static MsrRead.Gp notOffered(int index) {
        if (isX2apic(index)) {
            return gp("%s: CPUID does not offer x2APIC", index);
        }
        return switch (index) {
            case IA32_TSC_DEADLINE -> gp("%s: the TSC-deadline timer is not offered", index);
            case IA32_TSC_ADJUST -> gp("%s: CPUID does not offer TSC_ADJUST", index);
            case IA32_SPEC_CTRL, IA32_PRED_CMD, IA32_FLUSH_CMD, IA32_ARCH_CAPABILITIES ->
                    gp("%s: CPUID.(EAX=7,ECX=0):EDX does not offer it", index);
            default -> gp("%s is not implemented", index);
        };
    }
}
