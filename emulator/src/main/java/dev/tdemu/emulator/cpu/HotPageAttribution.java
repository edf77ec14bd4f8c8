package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.Sreg;
import dev.tdemu.emulator.machine.X86Decoder;
import dev.tdemu.emulator.machine.X86Instruction;
import dev.tdemu.emulator.unicorn.X86Reg;

/**
 * Decides whether the instruction at the RIP a memory hook reads is the one making the access
 * (see {@code DrEnforcer}'s hot-page mode). While memory hooks exist the engine writes RIP before
 * the loads and stores it translates inline (ALU, MOV, PUSH/POP/CALL/RET, string instructions,
 * MOVZX, SETcc, CMOVcc, BT*, CMPXCHG and XADD without LOCK); it does not before the ones it makes
 * through atomic or helper paths (LOCK, XCHG with memory, x87, SSE/AVX, far transfers, FXSAVE,
 * CMPXCHG8B/16B and the like), where RIP is left at some earlier instruction. So the instruction at
 * RIP must be of the first kind and one of its addresses must map to the accessed physical byte.
 */
final class HotPageAttribution {
    private HotPageAttribution() {
    }

    static boolean makes(GuestEngine g, long rip, long physical, boolean write) {
        byte[] code = g.readCode(rip, X86Decoder.MAX_LENGTH);
        if (!(X86Decoder.decode(code, 0, g.state().executionMode()) instanceof X86Decoder.DecodeResult.Decoded d)) {
            return false;
        }
        X86Instruction insn = d.instruction();
        if (!updatesRipBeforeAccess(insn)) {
            return false;
        }
        var uc = g.engine();
        CpuState state = g.state();
        X86Instruction.Registers regs = new X86Instruction.Registers() {
            @Override
            public long gpr(int index) {
                return uc.readReg(PhysicalCpu.gpr(index));
            }

            @Override
            public long segmentBase(Sreg segment) {
                return state.segment(segment).base();
            }
        };
        long rsp = regs.segmentBase(Sreg.SS) + uc.readReg(X86Reg.RSP);
        java.util.List<Long> exact = new java.util.ArrayList<>();
        if (insn.memory() != null && !insn.memory().scaledDisp8()) {
            exact.add(insn.memory().linear(regs, insn.nextRip(rip)));
        }
        boolean source = false, destination = false;
        for (X86Decoder.Candidate c : insn.candidates(regs, rip)) {
            // The first string candidates are rSI and rDI themselves (the rest their neighbourhood).
            if (c.role() == X86Decoder.Role.SOURCE && !source || c.role() == X86Decoder.Role.DESTINATION && !destination) {
                exact.add(c.linear());
                source |= c.role() == X86Decoder.Role.SOURCE;
                destination |= c.role() == X86Decoder.Role.DESTINATION;
            }
        }
        exact.add(rsp); // POP, RET, LEAVE
        if (write) {
            for (int below : new int[] {2, 4, 8}) {
                exact.add(rsp - below); // PUSH, CALL, ENTER
            }
        }
        for (long linear : exact) {
            if (g.toPhysical(linear) == physical) {
                return true;
            }
        }
        return false;
    }

    private static boolean maps(GuestEngine g, long linear, long physical) {
        return g.toPhysical(linear) == physical;
    }

    /** Whether the engine updates RIP before this instruction's loads and stores (see the class comment). */
    static boolean updatesRipBeforeAccess(X86Instruction insn) {
        if (insn.encoding() != X86Instruction.Encoding.LEGACY || insn.prefixes().lock()) {
            return false;
        }
        int op = insn.opcode();
        if (insn.map() == 0) {
            boolean far = op == 0x9A || op == 0xEA || op == 0xCA || op == 0xCB || op == 0xCF
                    || op == 0xFF && insn.modrm() >= 0 && ((insn.modrm() >> 3) & 7) % 2 == 1 && ((insn.modrm() >> 3) & 7) >= 3;
            boolean x87 = op >= 0xD8 && op <= 0xDF;
            boolean xchg = op == 0x86 || op == 0x87;
            boolean io = op >= 0x6C && op <= 0x6F;
            return !(far || x87 || xchg || io || op == 0x62);
        }
        if (insn.map() == 1) {
            return op >= 0x40 && op <= 0x4F || op >= 0x90 && op <= 0x9F
                    || switch (op) {
                        case 0xA3, 0xA4, 0xA5, 0xAB, 0xAC, 0xAD, 0xAF, 0xB0, 0xB1, 0xB3, 0xB6, 0xB7, 0xBA, 0xBB, 0xBC, 0xBD,
                             0xBE, 0xBF, 0xC0, 0xC1 -> true;
                        default -> false;
                    };
        }
        return false;
    }
}
