package dev.tdemu.emulator.machine;


/**
 * A decoded {@code MOV DRn, r64} (0F 23 /r) or {@code MOV r64, DRn} (0F 21 /r) in 64-bit mode.
 * The engine must never execute these (a DR7 write that arms an execute breakpoint crashes it),
 * so the emulator finds every candidate in code it loads, hooks it, and emulates it in Java.
 *
 * @param toDebugRegister true for MOV to DR (a write), false for MOV from DR
 * @param debugRegister   0..15 (REX.R extends ModRM.reg; DR8 and above are #UD)
 * @param gpr             0..15 in the usual numbering (RAX=0 … R15=15)
 * @param length          instruction length in bytes, prefixes included
 * @param lockPrefix      a LOCK prefix makes the instruction #UD
 */
// superseded by X86Decoder.decode(bytes, offset, mode) giving Operation.MovDr; callers migrate in the structure change
public record MovDrInstruction(boolean toDebugRegister, int debugRegister, int gpr, int length, boolean lockPrefix) {
    private static final int MAX_INSTRUCTION_LENGTH = 15;

    static boolean isLegacyPrefix(int b) {
        return switch (b) {
            case 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65 -> true;
            default -> false;
        };
    }

    static boolean isRex(int b) {
        return (b & 0xF0) == 0x40;
    }

    /** Decodes the instruction starting at {@code code[offset]}, or returns null if it is not a MOV DR. */
    public static MovDrInstruction decode(byte[] code, int offset) {
        int i = offset;
        int rex = 0;
        boolean lock = false;
        int end = Math.min(code.length, offset + MAX_INSTRUCTION_LENGTH);
        while (i < end) {
            int b = Byte.toUnsignedInt(code[i]);
            if (isLegacyPrefix(b)) {
                lock |= b == 0xF0;
                rex = 0; // a REX prefix only counts when it immediately precedes the opcode
                i++;
            } else if (isRex(b)) {
                rex = b;
                i++;
            } else {
                break;
            }
        }
        if (i + 3 > end || code[i] != 0x0F) {
            return null;
        }
        int op = Byte.toUnsignedInt(code[i + 1]);
        if (op != 0x21 && op != 0x23) {
            return null;
        }
        int modrm = Byte.toUnsignedInt(code[i + 2]);
        // ModRM.mod is ignored: the operands are always registers.
        int dr = ((modrm >>> 3) & 7) | ((rex & 4) << 1);
        int gpr = (modrm & 7) | ((rex & 1) << 3);
        return new MovDrInstruction(op == 0x23, dr, gpr, i + 3 - offset, lock);
    }
}
