package dev.tdemu.core.x86;

/**
 * The 16 general-purpose registers in the SDM's encoding order. The order matters to TDX: bit
 * {@code n} of TDG.VP.VMCALL's GPR_SELECT mask (RCX bits 15:0) selects register {@code n}, and a
 * status detail that names an operand register uses the same number (OPERAND_ID_RAX = 0, ...).
 */
public enum Gpr {
    RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15;

    private static final Gpr[] BY_INDEX = values();

    /** The register's encoding (0 = RAX ... 15 = R15). */
    public int index() {
        return ordinal();
    }

    /** This register's bit in a GPR_SELECT mask. */
    public int bit() {
        return 1 << ordinal();
    }

    public static Gpr fromIndex(int index) {
        if (index < 0 || index >= BY_INDEX.length) {
            throw new IllegalArgumentException("no general-purpose register " + index);
        }
        return BY_INDEX[index];
    }
}
