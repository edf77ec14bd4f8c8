package dev.tdemu.core.x86;

/**
 * A segment register as the CPU holds it: the visible selector and the hidden descriptor cache
 * (base, limit in bytes, access rights in the VMX layout: type in bits 3:0, S 4, DPL 6:5, P 7,
 * AVL 12, L 13, D/B 14, G 15). SDM Vol. 3 3.4.
 */
public record Segment(int selector, long base, long limit, int accessRights) {
    public static final int TYPE_ACCESSED = 1;
    /** Data: writable; code: readable. */
    public static final int TYPE_WRITABLE_OR_READABLE = 2;
    /** Data: expand-down; code: conforming. */
    public static final int TYPE_EXPAND_DOWN_OR_CONFORMING = 4;
    public static final int TYPE_CODE = 8;
    public static final int S = 1 << 4, P = 1 << 7, L = 1 << 13, DB = 1 << 14, G = 1 << 15;

    public Segment {
        if (selector < 0 || selector > 0xFFFF) {
            throw new IllegalArgumentException("a selector is 16 bits, not 0x" + Integer.toHexString(selector));
        }
    }

    /** The register after loading {@code selector} whose 8-byte descriptor is {@code descriptor}. */
    public static Segment fromDescriptor(int selector, long descriptor) {
        long base = ((descriptor >>> 16) & 0xFFFFFF) | (((descriptor >>> 56) & 0xFF) << 24);
        long rawLimit = (descriptor & 0xFFFF) | (((descriptor >>> 48) & 0xF) << 16);
        int access = (int) ((descriptor >>> 40) & 0xF0FF);
        long limit = (access & G) != 0 ? (rawLimit << 12) | 0xFFF : rawLimit;
        return new Segment(selector, base, limit, access);
    }

    /**
     * A segment loaded in real-address mode: base = selector × 16, the 64 KiB limit and the
     * attributes of a present, accessed, read/write data segment (a real-mode CS also has them).
     */
    public static Segment real(int selector) {
        return new Segment(selector, (long) selector << 4, 0xFFFF, P | S | TYPE_WRITABLE_OR_READABLE | TYPE_ACCESSED);
    }

    /** A flat 64-bit code segment at {@code dpl}, as a long-mode CS cache holds it. */
    public static Segment flatCode64(int selector, int dpl) {
        return new Segment(selector, 0, 0xFFFF_FFFFL, G | L | P | S | (dpl << 5) | TYPE_CODE | TYPE_WRITABLE_OR_READABLE | TYPE_ACCESSED);
    }

    /** A flat 32-bit data segment at {@code dpl} (B=1). */
    public static Segment flatData(int selector, int dpl) {
        return new Segment(selector, 0, 0xFFFF_FFFFL, G | DB | P | S | (dpl << 5) | TYPE_WRITABLE_OR_READABLE | TYPE_ACCESSED);
    }

    public int type() {
        return accessRights & 0xF;
    }

    /** S=0: a system descriptor (TSS, LDT, gate). */
    public boolean system() {
        return (accessRights & S) == 0;
    }

    public boolean code() {
        return !system() && (accessRights & TYPE_CODE) != 0;
    }

    public boolean conforming() {
        return code() && (accessRights & TYPE_EXPAND_DOWN_OR_CONFORMING) != 0;
    }

    /** A writable data segment (what SS must be). */
    public boolean writableData() {
        return !system() && !code() && (accessRights & TYPE_WRITABLE_OR_READABLE) != 0;
    }

    public boolean expandDown() {
        return !system() && !code() && (accessRights & TYPE_EXPAND_DOWN_OR_CONFORMING) != 0;
    }

    public int dpl() {
        return (accessRights >>> 5) & 3;
    }

    public boolean present() {
        return (accessRights & P) != 0;
    }

    /** L: 64-bit code segment. */
    public boolean longMode() {
        return (accessRights & L) != 0;
    }

    /** D/B: 32-bit default operand size (code) or 32-bit stack pointer (SS). */
    public boolean defaultBig() {
        return (accessRights & DB) != 0;
    }

    /** The requested privilege level, the selector's bits 1:0. */
    public int rpl() {
        return selector & 3;
    }
}
