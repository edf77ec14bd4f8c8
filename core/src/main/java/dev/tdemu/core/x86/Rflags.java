package dev.tdemu.core.x86;

import java.util.StringJoiner;

/**
 * RFLAGS (EFLAGS, FLAGS): the status and system flags, SDM Vol. 1 3.4.3 and Vol. 3 2.3.
 *
 * <p>Constructing an {@code Rflags} applies the fixed bits, exactly what the CPU does when POPF,
 * IRET or a VM entry loads the register: bit 1 reads as 1, bits 3, 5, 15 and 22–63 read as 0.
 * Whether a given instruction may change a flag (IOPL, IF, VM ... under POPF at CPL > 0) is the
 * instruction's rule, not this type's. The mask constants carry the Linux names without the
 * {@code X86_EFLAGS_} prefix.
 */
public record Rflags(long bits) {
    public static final long CF = 1L;
    /** Bit 1: reserved, always 1. */
    public static final long FIXED = 1L << 1;
    public static final long PF = 1L << 2;
    public static final long AF = 1L << 4;
    public static final long ZF = 1L << 6;
    public static final long SF = 1L << 7;
    public static final long TF = 1L << 8;
    public static final long IF = 1L << 9;
    public static final long DF = 1L << 10;
    public static final long OF = 1L << 11;
    /** The two-bit I/O privilege level field, bits 12–13. */
    public static final long IOPL_MASK = 3L << 12;
    public static final int IOPL_SHIFT = 12;
    public static final long NT = 1L << 14;
    public static final long RF = 1L << 16;
    public static final long VM = 1L << 17;
    public static final long AC = 1L << 18;
    public static final long VIF = 1L << 19;
    public static final long VIP = 1L << 20;
    public static final long ID = 1L << 21;

    /** The arithmetic status flags an ALU instruction writes. */
    public static final long STATUS_MASK = CF | PF | AF | ZF | SF | OF;
    /** Every bit that is not fixed. */
    public static final long DEFINED_MASK = STATUS_MASK | TF | IF | DF | IOPL_MASK | NT | RF | VM | AC | VIF | VIP | ID;
    /** Bits that read as 0 (3, 5, 15 and 22–63). */
    public static final long RESERVED_ZEROS = ~(DEFINED_MASK | FIXED);

    /** The value after reset and INIT (SDM Table 10-1): only the fixed bit. */
    public static final Rflags RESET = new Rflags(FIXED);

    public Rflags {
        bits = (bits & DEFINED_MASK) | FIXED;
    }

    public boolean cf() {
        return has(CF);
    }

    public boolean pf() {
        return has(PF);
    }

    public boolean af() {
        return has(AF);
    }

    public boolean zf() {
        return has(ZF);
    }

    public boolean sf() {
        return has(SF);
    }

    /** TF, the trap flag: single-step #DB after each instruction. */
    public boolean tf() {
        return has(TF);
    }

    /** IF, the interrupt-enable flag (named in full because {@code if} is a Java keyword). */
    public boolean interruptFlag() {
        return has(IF);
    }

    public boolean df() {
        return has(DF);
    }

    public boolean of() {
        return has(OF);
    }

    /** IOPL, 0..3. */
    public int iopl() {
        return (int) ((bits & IOPL_MASK) >>> IOPL_SHIFT);
    }

    public boolean nt() {
        return has(NT);
    }

    /** RF, the resume flag: suppresses instruction-breakpoint #DB for one instruction. */
    public boolean rf() {
        return has(RF);
    }

    /** VM: virtual-8086 mode. */
    public boolean vm() {
        return has(VM);
    }

    public boolean ac() {
        return has(AC);
    }

    public boolean vif() {
        return has(VIF);
    }

    public boolean vip() {
        return has(VIP);
    }

    public boolean id() {
        return has(ID);
    }

    /** Whether every bit of {@code mask} is set. */
    public boolean has(long mask) {
        return (bits & mask) == mask;
    }

    /** These flags with every bit of {@code mask} set to {@code value}. */
    public Rflags with(long mask, boolean value) {
        return new Rflags(value ? bits | mask : bits & ~mask);
    }

    /** These flags with the bits of {@code mask} set. */
    public Rflags set(long mask) {
        return with(mask, true);
    }

    /** These flags with the bits of {@code mask} clear. */
    public Rflags clear(long mask) {
        return with(mask, false);
    }

    public Rflags withCf(boolean v) {
        return with(CF, v);
    }

    public Rflags withZf(boolean v) {
        return with(ZF, v);
    }

    public Rflags withTf(boolean v) {
        return with(TF, v);
    }

    public Rflags withInterruptFlag(boolean v) {
        return with(IF, v);
    }

    public Rflags withDf(boolean v) {
        return with(DF, v);
    }

    public Rflags withIopl(int iopl) {
        if (iopl < 0 || iopl > 3) {
            throw new IllegalArgumentException("IOPL is 0..3, not " + iopl);
        }
        return new Rflags((bits & ~IOPL_MASK) | ((long) iopl << IOPL_SHIFT));
    }

    public Rflags withNt(boolean v) {
        return with(NT, v);
    }

    public Rflags withRf(boolean v) {
        return with(RF, v);
    }

    public Rflags withVm(boolean v) {
        return with(VM, v);
    }

    public Rflags withAc(boolean v) {
        return with(AC, v);
    }

    public Rflags withVif(boolean v) {
        return with(VIF, v);
    }

    public Rflags withVip(boolean v) {
        return with(VIP, v);
    }

    public Rflags withId(boolean v) {
        return with(ID, v);
    }

    /** The low 16 bits, as PUSHF with a 16-bit operand and a real-mode interrupt push them. */
    public int flags16() {
        return (int) (bits & 0xFFFF);
    }

    /** The low 32 bits (EFLAGS). */
    public long eflags() {
        return bits & 0xFFFF_FFFFL;
    }

    @Override
    public String toString() {
        StringJoiner names = new StringJoiner(" ", String.format("RFLAGS[0x%x", bits) + (bits == FIXED ? "" : " "), "]");
        String[] n = {"CF", null, "PF", null, "AF", null, "ZF", "SF", "TF", "IF", "DF", "OF", null, null, "NT", null,
            "RF", "VM", "AC", "VIF", "VIP", "ID"};
        for (int i = 0; i < n.length; i++) {
            if (n[i] != null && (bits & (1L << i)) != 0) {
                names.add(n[i]);
            }
        }
        if (iopl() != 0) {
            names.add("IOPL=" + iopl());
        }
        return names.toString();
    }
}
