package dev.tdemu.core.pc;

/** The four registers CPUID returns (zero-extended into RAX, RBX, RCX, RDX in 64-bit mode). */
public record CpuidResult(int eax, int ebx, int ecx, int edx) {

    public static final CpuidResult ZERO = new CpuidResult(0, 0, 0, 0);

    /** {eax, ebx, ecx, edx} as unsigned 64-bit values, the layout the emulator's CPUID exit writes back. */
    public long[] asRegisters() {
        return new long[] {Integer.toUnsignedLong(eax), Integer.toUnsignedLong(ebx), Integer.toUnsignedLong(ecx),
            Integer.toUnsignedLong(edx)};
    }

    /** Four ASCII characters as CPUID packs them into a register (first character in the low byte). */
    static int ascii(String four) {
        if (four.length() != 4) {
            throw new IllegalArgumentException("need exactly four characters: '" + four + "'");
        }
        return four.charAt(0) | (four.charAt(1) << 8) | (four.charAt(2) << 16) | (four.charAt(3) << 24);
    }

    @Override
    public String toString() {
        return String.format("CpuidResult[eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x]", eax, ebx, ecx, edx);
    }
}
