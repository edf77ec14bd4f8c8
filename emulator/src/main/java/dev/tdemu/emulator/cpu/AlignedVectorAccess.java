package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.emulator.machine.X86Decoder;
import dev.tdemu.emulator.machine.X86Instruction;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.util.TreeSet;

/**
 * The SSE moves that require a 16-byte aligned memory operand (SDM vol. 2, MOVAPS, MOVAPD,
 * MOVDQA, MOVNTPS, MOVNTPD, MOVNTDQ, MOVNTDQA: "#GP(0) if a memory operand is not aligned on a
 * 16-byte boundary"). The engine performs them at any address, so tdemu hooks each one the code
 * scan finds with a memory operand and raises #GP(0) before a misaligned one runs. The packed
 * SSE arithmetic with a 128-bit memory operand, which requires the same alignment, is not hooked:
 * a hook costs a Java call each time the instruction runs, and those sit in hot loops.
 */
final class AlignedVectorAccess {
    private static final int TWO_BYTE = 0x0F, THREE_BYTE_38 = 0x38;
    private static final long CR0_EM = 1L << 2, CR0_TS = 1L << 3, CR4_OSFXSR = 1L << 9;

    private AlignedVectorAccess() {
    }

    /**
     * Offsets in {@code code} where one of the aligned moves with a memory operand could start:
     * 0F 28, 0F 29, 0F 2B, 0F 6F, 0F 7F, 0F E7 and 0F 38 2A whose ModRM has mod != 11, and the run
     * of prefixes before the 0F (a superset: the hook decodes what it finds).
     */
    static TreeSet<Integer> candidateStarts(byte[] code) {
        TreeSet<Integer> starts = new TreeSet<>();
        for (int i = 0; i + 2 < code.length; i++) {
            if (Byte.toUnsignedInt(code[i]) != TWO_BYTE) {
                continue;
            }
            int op = Byte.toUnsignedInt(code[i + 1]);
            int modrmAt = switch (op) {
                case 0x28, 0x29, 0x2B, 0x6F, 0x7F, 0xE7 -> i + 2;
                case THREE_BYTE_38 -> i + 3 < code.length && Byte.toUnsignedInt(code[i + 2]) == 0x2A ? i + 3 : -1;
                default -> -1;
            };
            if (modrmAt >= 0 && modrmAt < code.length && Byte.toUnsignedInt(code[modrmAt]) >>> 6 != 3) {
                starts.addAll(X86Decoder.prefixRunStarts(code, i, ExecutionMode.LONG_64));
            }
        }
        return starts;
    }

    /** Whether {@code insn} is one of the aligned moves (legacy encoding, its mandatory prefixes) with a memory operand. */
    static boolean isAlignedMove(X86Instruction insn) {
        if (insn.encoding() != X86Instruction.Encoding.LEGACY || insn.memory() == null || insn.prefixes().rep()) {
            return false;
        }
        boolean p66 = insn.prefixes().operandSize();
        return switch (insn.map()) {
            case 1 -> switch (insn.opcode()) {
                case 0x28, 0x29, 0x2B -> true; // MOVAPS/MOVAPD, MOVNTPS/MOVNTPD
                case 0x6F, 0x7F, 0xE7 -> p66; // MOVDQA, MOVNTDQ (without 66: MMX moves, 8 bytes)
                default -> false;
            };
            case 2 -> insn.opcode() == 0x2A && p66; // MOVNTDQA
            default -> false;
        };
    }

    /**
     * Whether the instruction at {@code rip} is an aligned move whose operand is not 16-byte
     * aligned and that would reach its memory access: SSE usable (CR0.EM and CR0.TS clear,
     * CR4.OSFXSR set; otherwise #UD or #NM comes first, which the engine raises).
     */
    static boolean misaligned(GuestEngine g, long rip) {
        X86Instruction insn = g.instructionAt(rip);
        if (insn == null || !isAlignedMove(insn) || insn.memory().scaledDisp8()) {
            return false;
        }
        Unicorn uc = g.engine();
        if ((uc.readReg(X86Reg.CR0) & (CR0_EM | CR0_TS)) != 0 || (uc.readReg(X86Reg.CR4) & CR4_OSFXSR) == 0) {
            return false;
        }
        long linear = insn.memory().linear(g.instructionRegisters(), insn.nextRip(rip));
        return (linear & 15) != 0;
    }
}
