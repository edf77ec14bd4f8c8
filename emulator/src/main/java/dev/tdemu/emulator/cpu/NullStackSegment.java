package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.core.x86.Sreg;
import dev.tdemu.emulator.machine.Operation;
import dev.tdemu.emulator.machine.X86Decoder;
import dev.tdemu.emulator.machine.X86Instruction;
import dev.tdemu.emulator.unicorn.Unicorn;
import java.util.TreeSet;

/**
 * MOV to SS with a null selector in 64-bit mode (SDM vol. 2, MOV, "64-Bit Mode Exceptions"):
 * #GP(0) at CPL 3, and at CPL 0-2 when the selector's RPL is not the CPL. The engine checks
 * only CPL 3 and loads a null selector with RPL != CPL, so tdemu hooks each MOV SS the code scan
 * finds and refuses those loads before the engine runs them. (POP SS does not exist in 64-bit
 * mode; outside it the engine refuses every null SS itself.)
 */
final class NullStackSegment {
    private static final int MOV_SREG = 0x8E;

    private NullStackSegment() {
    }

    /**
     * Offsets in {@code code} where a MOV SS, r/m16 could start: each 8E whose next byte has
     * ModRM.reg = 2 (SS), and the run of prefixes before it (40-4F counted as REX, as for the
     * port I/O scan). A candidate inside another instruction is never an instruction start.
     */
    static TreeSet<Integer> candidateStarts(byte[] code) {
        TreeSet<Integer> starts = new TreeSet<>();
        for (int i = 0; i + 1 < code.length; i++) {
            if (Byte.toUnsignedInt(code[i]) == MOV_SREG && ((code[i + 1] >>> 3) & 7) == Sreg.SS.ordinal()) {
                starts.addAll(X86Decoder.prefixRunStarts(code, i, ExecutionMode.LONG_64));
            }
        }
        return starts;
    }

    /**
     * Whether the instruction at {@code rip} is a MOV SS whose selector 64-bit mode refuses with
     * #GP(0). False when it is not a MOV SS or its memory operand cannot be read here (the engine's
     * own access then faults or goes on as before).
     */
    static boolean refused(GuestEngine g, long rip) {
        if (!g.state().executionMode().is64Bit()) {
            return false;
        }
        X86Instruction insn = g.instructionAt(rip);
        if (insn == null || !(insn.operation() instanceof Operation.LoadSs ss) || ss.pop()) {
            return false;
        }
        Unicorn uc = g.engine();
        int selector;
        if (insn.memory() == null) {
            selector = (int) uc.readReg(PhysicalCpu.gpr(insn.register(X86Instruction.RegisterField.MODRM_RM))) & 0xFFFF;
        } else {
            X86Instruction.Registers regs = g.instructionRegisters();
            byte[] bytes = insn.memory().scaledDisp8() ? null
                    : g.readLinearAsCpu(insn.memory().linear(regs, insn.nextRip(rip)), 2);
            if (bytes == null) {
                return false;
            }
            selector = (bytes[0] & 0xFF) | (bytes[1] & 0xFF) << 8;
        }
        return refusedIn64BitMode(selector, g.mode().cpl());
    }

    /** The rule itself: a null selector (index 0, TI 0) at CPL 3, or with RPL != CPL. */
    static boolean refusedIn64BitMode(int selector, int cpl) {
        return (selector & 0xFFFC) == 0 && (cpl == 3 || (selector & 3) != cpl);
    }
}
