package dev.tdemu.emulator.boot;

/**
 * A segment register as the CPU holds it: the selector and the descriptor cache (base, limit in
 * bytes, access rights in the VMX layout: type, S, DPL, P in bits 0-7, AVL, L, D/B, G in bits
 * 12-15).
 */
public record SegmentRegister(int selector, long base, long limit, int accessRights) {

    /** The register after loading {@code selector} whose GDT entry is {@code descriptor}. */
    public static SegmentRegister load(int selector, long descriptor) {
        long base = ((descriptor >>> 16) & 0xFFFFFF) | (((descriptor >>> 56) & 0xFF) << 24);
        long rawLimit = (descriptor & 0xFFFF) | (((descriptor >>> 48) & 0xF) << 16);
        int access = (int) ((descriptor >>> 40) & 0xF0FF);
        boolean granular = (access & 0x8000) != 0;
        long limit = granular ? (rawLimit << 12) | 0xFFF : rawLimit;
        return new SegmentRegister(selector, base, limit, access);
    }

    /** Code segment (S=1, type bit 3). */
    public boolean code() {
        return (accessRights & 0x18) == 0x18;
    }

    /** D/B: 32-bit default operand size (code) or stack (data). */
    public boolean defaultBig() {
        return (accessRights & 0x4000) != 0;
    }

    public int dpl() {
        return (accessRights >>> 5) & 3;
    }

    public boolean present() {
        return (accessRights & 0x80) != 0;
    }
}
