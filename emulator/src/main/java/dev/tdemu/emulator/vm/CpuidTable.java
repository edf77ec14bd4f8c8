package dev.tdemu.emulator.vm;

/**
 * What CPUID returns to guests: an Intel CPU with the debug extensions (DE) and the hypervisor
 * bit, as KVM would present it. In a TD, leaf 0x21 is answered by the TDX module with
 * "IntelTDX    "; in a VMX guest it is empty, which is how guests tell the two apart.
 */
final class CpuidTable {
    private CpuidTable() {}

    // The vendor strings as register values, made once: every CPUID exit looks a leaf up.
    private static final long GENU = ascii("Genu"), NTEL = ascii("ntel"), INEI = ascii("ineI"), INTE = ascii("Inte"),
            SPACES = ascii("    "), LTDX = ascii("lTDX"), TDEM = ascii("tdem");

    /** {eax, ebx, ecx, edx} for {@code leaf}/{@code subleaf} in the given mode. */
    static long[] lookup(long leaf, long subleaf, Mode mode, int vcpu, int vcpus) {
        int l = (int) leaf;
        return switch (l) {
            case 0 -> new long[] {0x21, GENU, NTEL, INEI};
            case 1 -> new long[] {0x000806F8L, ((long) vcpu << 24) | ((long) vcpus << 16) | 0x0800,
                0x80000000L | (1 << 0) | (1 << 9) | (1 << 19) | (1 << 20),           // hypervisor, SSE3, SSSE3, SSE4.1/4.2
                (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 13) | (1 << 15)
                        | (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26)};             // FPU DE PSE TSC MSR PAE CX8 PGE CMOV MMX FXSR SSE SSE2
            case 0x21 -> mode == Mode.TD ? new long[] {0, INTE, SPACES, LTDX} : new long[4];
            case 0x40000000 -> new long[] {0x40000001L, TDEM, TDEM, TDEM};
            case 0x80000000 -> new long[] {0x80000008L, 0, 0, 0};
            case 0x80000001 -> new long[] {0, 0, 1, (1L << 11) | (1L << 20) | (1L << 29)};  // LAHF; SYSCALL NX LM
            case 0x80000008 -> new long[] {0x3028, 0, 0, 0};                                // 48-bit linear, 40-bit physical
            default -> new long[4];
        };
    }

    private static long ascii(String four) {
        return (four.charAt(0)) | (four.charAt(1) << 8) | (four.charAt(2) << 16) | ((long) four.charAt(3) << 24);
    }
}
