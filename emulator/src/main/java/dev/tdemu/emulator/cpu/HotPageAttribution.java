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

    /**
     * Whether the instruction at {@code rip} makes this access of {@code size} bytes at
     * {@code physical} ({@code value}: what a store writes).
     */
    static boolean makes(GuestEngine g, long rip, long physical, int size, boolean write, long value) {
        byte[] code = g.readCode(rip, X86Decoder.MAX_LENGTH);
        if (!(X86Decoder.decode(code, 0, g.state().executionMode()) instanceof X86Decoder.DecodeResult.Decoded d)) {
            return false;
        }
        X86Instruction insn = d.instruction();
        if (!updatesRipBeforeAccess(insn)) {
            return false;
        }
        var uc = g.engine();
        X86Instruction.Registers regs = g.instructionRegisters();
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
        boolean addressed = false;
        for (long linear : exact) {
            addressed |= g.toPhysical(linear) == physical;
        }
        if (!addressed) {
            return false;
        }
        if (!write) {
            return true;
        }
        // RIP is the last instruction the engine updated it for; a LOCK or XCHG store after it,
        // whose address happens to be what that instruction's operand computes to now, would pass
        // the address check. The value it stores tells them apart.
        long mask = size >= 8 ? -1L : (1L << (8 * size)) - 1;
        long old = g.memory().contains(physical, size) ? readLittleEndian(g.memory().readBytes(physical, size)) : 0;
        java.util.OptionalLong expected = storedValue(g, insn, regs, rip, old, size);
        return expected.isPresent() && ((expected.getAsLong() ^ value) & mask) == 0;
    }

    private static long readLittleEndian(byte[] b) {
        long v = 0;
        for (int i = b.length - 1; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xFF);
        }
        return v;
    }

    /**
     * The value {@code insn} stores, from the registers and the memory's {@code old} contents, for
     * the stores whose value is plain to compute (MOV, PUSH, CALL, STOS, MOVS, the arithmetic and
     * logic read-modify-writes without carry, INC, DEC, NOT, NEG); empty for the rest, whose hits
     * are then reported at the end of their block.
     */
    static java.util.OptionalLong storedValue(GuestEngine g, X86Instruction insn, X86Instruction.Registers regs, long rip,
                                              long old, int size) {
        if (insn.map() != 0) {
            return java.util.OptionalLong.empty();
        }
        int op = insn.opcode();
        int modrm = insn.modrm();
        int regField = modrm < 0 ? -1 : ((modrm >> 3) & 7) | ((insn.rex() >> 2) & 1) << 3;
        long imm = insn.immediate();
        long reg = regField < 0 ? 0 : register(insn, regs, regField, (op & 1) == 0 && op < 0x8A);
        return switch (op) {
            case 0x88, 0x89 -> java.util.OptionalLong.of(reg);
            case 0xC6, 0xC7 -> regField == 0 ? java.util.OptionalLong.of(imm) : java.util.OptionalLong.empty();
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57 -> java.util.OptionalLong.of(regs.gpr((op & 7) | (insn.rex() & 1) << 3));
            case 0x68, 0x6A -> java.util.OptionalLong.of(imm);
            case 0xE8 -> java.util.OptionalLong.of(insn.nextRip(rip));
            case 0xAA, 0xAB -> java.util.OptionalLong.of(regs.gpr(0));
            case 0xA4, 0xA5 -> {
                X86Instruction.Prefixes p = insn.prefixes();
                Sreg seg = p.effectiveSegmentOverride(insn.mode());
                long mask = insn.addressSize() == 8 ? -1L : (1L << (8 * insn.addressSize())) - 1;
                long src = regs.segmentBase(seg != null ? seg : Sreg.DS) + (regs.gpr(6) & mask);
                byte[] b = g.state().readLinear(src, size);
                yield b.length == size ? java.util.OptionalLong.of(readLittleEndian(b)) : java.util.OptionalLong.empty();
            }
            case 0x00, 0x01 -> java.util.OptionalLong.of(old + reg);
            case 0x08, 0x09 -> java.util.OptionalLong.of(old | reg);
            case 0x20, 0x21 -> java.util.OptionalLong.of(old & reg);
            case 0x28, 0x29 -> java.util.OptionalLong.of(old - reg);
            case 0x30, 0x31 -> java.util.OptionalLong.of(old ^ reg);
            case 0x80, 0x81, 0x83 -> switch (modrm >> 3 & 7) {
                case 0 -> java.util.OptionalLong.of(old + imm);
                case 1 -> java.util.OptionalLong.of(old | imm);
                case 4 -> java.util.OptionalLong.of(old & imm);
                case 5 -> java.util.OptionalLong.of(old - imm);
                case 6 -> java.util.OptionalLong.of(old ^ imm);
                default -> java.util.OptionalLong.empty();
            };
            case 0xFE, 0xFF -> switch (modrm >> 3 & 7) {
                case 0 -> java.util.OptionalLong.of(old + 1);
                case 1 -> java.util.OptionalLong.of(old - 1);
                case 2 -> op == 0xFF ? java.util.OptionalLong.of(insn.nextRip(rip)) : java.util.OptionalLong.empty();
                default -> java.util.OptionalLong.empty();
            };
            case 0xF6, 0xF7 -> switch (modrm >> 3 & 7) {
                case 2 -> java.util.OptionalLong.of(~old);
                case 3 -> java.util.OptionalLong.of(-old);
                default -> java.util.OptionalLong.empty();
            };
            default -> java.util.OptionalLong.empty();
        };
    }

    /** General register {@code n}; for byte operands without REX, 4-7 are AH, CH, DH, BH. */
    private static long register(X86Instruction insn, X86Instruction.Registers regs, int n, boolean byteOperand) {
        if (byteOperand && insn.rex() == 0 && insn.prefixes().rex() == 0 && n >= 4 && n < 8) {
            return regs.gpr(n - 4) >>> 8;
        }
        return regs.gpr(n);
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
