package dev.tdemu.emulator.vm;

import dev.tdemu.core.pc.CpuidResult;

/**
 * What CPUID returns to guests: an Intel CPU with the debug extensions (DE) and the hypervisor
 * bit, as KVM would present it. In a TD, leaf 0x21 is answered by the TDX module with
 * "IntelTDX    "; in a VMX guest it is empty, which is how guests tell the two apart.
 */
final class CpuidTable {
    private CpuidTable() {}

    // The vendor strings as register values, made once: every CPUID exit looks a leaf up.
    private static final int GENU = ascii("Genu"), NTEL = ascii("ntel"), INEI = ascii("ineI"), INTE = ascii("Inte"),
            SPACES = ascii("    "), LTDX = ascii("lTDX"), TDEM = ascii("tdem");
    // The leaves that do not depend on the vCPU, made once.
    private static final CpuidResult LEAF_0 = new CpuidResult(0x21, GENU, NTEL, INEI);
    private static final CpuidResult LEAF_21_TD = new CpuidResult(0, INTE, SPACES, LTDX);
    private static final CpuidResult LEAF_40000000 = new CpuidResult(0x40000001, TDEM, TDEM, TDEM);
    private static final CpuidResult LEAF_80000000 = new CpuidResult(0x80000008, 0, 0, 0);
    private static final CpuidResult LEAF_80000001 = new CpuidResult(0, 0, 1, (1 << 11) | (1 << 20) | (1 << 29)); // LAHF; SYSCALL NX LM
    private static final CpuidResult LEAF_80000008 = new CpuidResult(0x3028, 0, 0, 0); // 48-bit linear, 40-bit physical

    /** EAX, EBX, ECX, EDX for {@code leaf}/{@code subleaf} in the given mode. */
    static CpuidResult lookup(long leaf, long subleaf, Mode mode, int vcpu, int vcpus) {
        int l = (int) leaf;
        return switch (l) {
            case 0 -> LEAF_0;
            case 1 -> new CpuidResult(0x000806F8, (vcpu << 24) | (vcpus << 16) | 0x0800,
                0x80000000 | (1 << 0) | (1 << 9) | (1 << 19) | (1 << 20),           // hypervisor, SSE3, SSSE3, SSE4.1/4.2
                (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 13) | (1 << 15)
                        | (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26));             // FPU DE PSE TSC MSR PAE CX8 PGE CMOV MMX FXSR SSE SSE2
            case 0x21 -> mode == Mode.TD ? LEAF_21_TD : CpuidResult.ZERO;
            case 0x40000000 -> LEAF_40000000;
            case 0x80000000 -> LEAF_80000000;
            case 0x80000001 -> LEAF_80000001;
            case 0x80000008 -> LEAF_80000008;
            default -> CpuidResult.ZERO;
        };
    }

    private static int ascii(String four) {
        return (four.charAt(0)) | (four.charAt(1) << 8) | (four.charAt(2) << 16) | (four.charAt(3) << 24);
    }
}
