package dev.tdemu.emulator.gdb;

import java.util.Optional;

/**
 * What a debugger may write into CR0, CR3, CR4, CR8 and EFER of a vCPU in tdemu's machine (always
 * IA-32e mode with paging, the CPUID of {@code CpuidTable}): the checks of MOV to CRn and WRMSR
 * (SDM Vol. 2 MOV—Move to/from Control Registers; Vol. 3 2.5), each refusal naming the exception
 * the CPU would raise and why. Empty means the write is fine.
 */
final class ControlRegisterChecks {
    static final long CR0_PE = 1L, CR0_ET = 1L << 4, CR0_WP = 1L << 16, CR0_NW = 1L << 29, CR0_CD = 1L << 30,
            CR0_PG = 1L << 31;
    /** MP EM TS ET NE WP AM NW CD and PE/PG: everything else in CR0 is reserved. */
    static final long CR0_DEFINED = 0xE005003FL;
    static final long CR4_PAE = 1L << 5, CR4_PCIDE = 1L << 17, CR4_LA57 = 1L << 12;
    /**
     * The CR4 bits tdemu's CPUID backs, as KVM reserves the others (__cr4_reserved_bits): VME, PVI,
     * TSD, DE, PSE, PAE, MCE, PGE, PCE, OSFXSR and OSXMMEXCPT. There is no UMIP, LA57, VMX, SMX,
     * FSGSBASE, PCID, XSAVE, SMEP, SMAP, PKU or CET in leaves 1 and 7.
     */
    static final long CR4_SUPPORTED = 0x7FF;
    /** The EFER tdemu's guests run with (LME, LMA); VcpuVmm refuses the guest's WRMSR of any other value. */
    static final long EFER_BOOT = 0x500;

    private ControlRegisterChecks() {
    }

    static Optional<String> cr0(long value, long cr4) {
        if ((value >>> 32) != 0) {
            return refused("#GP(0): cr0 0x%x sets bits 63:32, which are reserved", value);
        }
        if ((value & ~CR0_DEFINED) != 0) {
            return refused("cr0 0x%x sets reserved bits 0x%x (the CPU ignores them; bits 6-15, 17 and 19-28 read 0)", value,
                    value & ~CR0_DEFINED);
        }
        if ((value & CR0_PG) != 0 && (value & CR0_PE) == 0) {
            return refused("#GP(0): cr0 0x%x sets PG without PE", value);
        }
        if ((value & CR0_NW) != 0 && (value & CR0_CD) == 0) {
            return refused("#GP(0): cr0 0x%x sets NW without CD", value);
        }
        if ((value & CR0_PG) == 0) {
            return refused("#GP(0): clearing PG leaves IA-32e mode, which is #GP in 64-bit mode (and tdemu's guests stay in it)");
        }
        return Optional.empty();
    }

    static Optional<String> cr3(long value, int maxPhysAddr) {
        long reserved = maxPhysAddr >= 64 ? 0 : -1L << maxPhysAddr;
        if ((value & reserved) != 0) {
            return refused("#GP(0): cr3 0x%x sets bits above MAXPHYADDR (%d bits), which are reserved", value, maxPhysAddr);
        }
        return Optional.empty();
    }

    static Optional<String> cr4(long current, long value) {
        long unsupported = value & ~CR4_SUPPORTED;
        if (unsupported != 0) {
            return refused("#GP(0): cr4 0x%x sets 0x%x, bits tdemu's CPUID does not report (only VME PVI TSD DE PSE PAE MCE PGE PCE "
                    + "OSFXSR OSXMMEXCPT are)", value, unsupported);
        }
        if ((value & CR4_PAE) == 0) {
            return refused("#GP(0): clearing cr4.PAE in IA-32e mode is #GP");
        }
        return Optional.empty();
    }

    /** CR8 on a PC, the local APIC's TPR[7:4]: what MOV to CR8 takes (bits 63:4 are #GP(0)). */
    static Optional<String> cr8Tpr(long value) {
        return (value & ~0xFL) != 0 ? refused("#GP(0): cr8 0x%x sets bits 63:4, which are reserved", value) : Optional.empty();
    }

    /** CR8 as tdemu's engine has it: MOV from CR8 reads 0 (no local APIC behind it), so only 0 is a value the guest could see. */
    static Optional<String> cr8(long value) {
        if ((value & ~0xFL) != 0) {
            return refused("#GP(0): cr8 0x%x sets bits 63:4, which are reserved", value);
        }
        if (value != 0) {
            return refused("cr8 reads 0 in tdemu's guests: the engine has no local APIC task priority behind it, so 0x%x would not "
                    + "be seen", value);
        }
        return Optional.empty();
    }

    static Optional<String> efer(long value) {
        if (value != EFER_BOOT) {
            return refused("efer is 0x%x (LME, LMA) in tdemu's machine: the guest's own WRMSR of another value is #GP(0), and the "
                    + "debugger may not set 0x%x either", EFER_BOOT, value);
        }
        return Optional.empty();
    }

    /** A linear address in an MSR or base register: bits 63:47 must be copies of bit 47 (48-bit linear addresses). */
    static Optional<String> canonical(String name, long value) {
        if ((value >> 47) != 0 && (value >> 47) != -1) {
            return refused("#GP(0): %s 0x%x is not canonical (bits 63:47 must all equal bit 47)", name, value);
        }
        return Optional.empty();
    }

    private static Optional<String> refused(String format, Object... args) {
        return Optional.of(String.format(format, args));
    }
}
