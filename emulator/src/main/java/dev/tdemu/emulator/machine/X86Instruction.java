package dev.tdemu.emulator.machine;

import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.core.x86.Sreg;

/**
 * One decoded instruction in a given {@link ExecutionMode}: its length, prefixes, encoding,
 * operand and address sizes, ModRM memory operand, immediate, and {@link Operation}.
 *
 * @param mode         the mode it was decoded in
 * @param length       bytes, prefixes included (at most 15)
 * @param prefixes     the legacy and REX prefixes
 * @param encoding     legacy, VEX or EVEX
 * @param map          0 (one-byte), 1 (0F), 2 (0F 38), 3 (0F 3A), or the VEX/EVEX map number
 * @param opcode       the opcode byte within its map
 * @param modrm        the ModRM byte, or -1
 * @param rex          W R X B as bits 3..0, from REX, VEX or EVEX (0 outside 64-bit mode)
 * @param operandSize  2, 4 or 8 (after 0x66, REX.W and the 64-bit-mode defaults)
 * @param addressSize  2, 4 or 8 (after 0x67)
 * @param memory       the ModRM or moffs memory operand, or null
 * @param immediate    the first immediate, sign-extended (a branch displacement, a port, a vector ...), 0 if none
 * @param immediateSize bytes of the first immediate
 * @param operation    what it is
 */
public record X86Instruction(ExecutionMode mode, int length, Prefixes prefixes, Encoding encoding, int map, int opcode,
                             int modrm, int rex, int operandSize, int addressSize, Memory memory, long immediate,
                             int immediateSize, Operation operation) {

    public enum Encoding { LEGACY, VEX, EVEX }

    /** The fields an instruction's register operands are encoded in. */
    public enum RegisterField {
        /** ModRM.reg, extended by REX.R. */
        MODRM_REG,
        /** ModRM.rm when it names a register (mod=11, or always for MOV CR/DR), extended by REX.B. */
        MODRM_RM,
        /** The low three bits of the opcode (PUSH r, BSWAP, MOV r, imm), extended by REX.B. */
        OPCODE
    }

    /** {@link Memory#base()} for RIP-relative addressing. */
    public static final int RIP = 16;
    /** No register in {@link Memory#base()} or {@link Memory#index()}. */
    public static final int NONE = -1;

    /**
     * The legacy and REX prefixes before the opcode.
     *
     * @param length          bytes of prefixes
     * @param lock            F0
     * @param repeat          the last of F3 (REP) and F2 (REPNE)
     * @param operandSize     66
     * @param addressSize     67
     * @param segment         the last segment override, or null (in 64-bit mode CS/SS/DS/ES overrides are ignored:
     *                        use {@link #effectiveSegmentOverride})
     * @param rex             the REX byte directly before the opcode, or 0 (REX exists only in 64-bit mode; one
     *                        followed by another prefix is ignored)
     */
    public record Prefixes(int length, boolean lock, Operation.Repeat repeat, boolean operandSize, boolean addressSize,
                           Sreg segment, int rex) {
        public boolean rep() {
            return repeat != Operation.Repeat.NONE;
        }

        /** The override that takes effect in {@code mode}: 64-bit mode keeps only FS and GS. */
        public Sreg effectiveSegmentOverride(ExecutionMode mode) {
            if (mode.is64Bit() && segment != Sreg.FS && segment != Sreg.GS) {
                return null;
            }
            return segment;
        }
    }

    /**
     * A memory operand: segment:[base + index * scale + displacement], the offset truncated to the
     * address size. 16-bit forms ([BX+SI], [BP+DI] ...) use base BX/BP and index SI/DI with scale 1.
     *
     * @param segment      the segment the access goes through (the override, else DS, or SS for rBP/rSP bases)
     * @param base         register number, {@link #RIP}, or {@link #NONE}
     * @param index        register number or {@link #NONE}
     * @param scale        1, 2, 4 or 8
     * @param displacement sign-extended
     * @param addressSize  2, 4 or 8
     * @param scaledDisp8  an EVEX disp8 that the CPU scales by an operand size this decoder does not compute
     */
    public record Memory(Sreg segment, int base, int index, int scale, long displacement, int addressSize,
                         boolean scaledDisp8) {
        /** The offset within the segment; {@code nextRip} is the address after the instruction (RIP-relative). */
        public long offset(Registers regs, long nextRip) {
            long ea = displacement;
            if (base == RIP) {
                ea += nextRip;
            } else if (base != NONE) {
                ea += regs.gpr(base);
            }
            if (index != NONE) {
                ea += regs.gpr(index) * scale;
            }
            return switch (addressSize) {
                case 2 -> ea & 0xFFFF;
                case 4 -> ea & 0xFFFF_FFFFL;
                default -> ea;
            };
        }

        /** The linear address: the segment base plus {@link #offset}. Limits are not checked. */
        public long linear(Registers regs, long nextRip) {
            return regs.segmentBase(segment) + offset(regs, nextRip);
        }
    }

    /** What address computation needs of a register file. */
    public interface Registers {
        long gpr(int index);

        /** The base of the segment's descriptor cache (0 for CS/DS/ES/SS in 64-bit mode). */
        long segmentBase(Sreg segment);
    }

    /** The register operand in {@code field}: "which register is operand N" answered once for every caller. */
    public int register(RegisterField field) {
        return switch (field) {
            case MODRM_REG -> requireModrm(((modrm >>> 3) & 7) | ((rex & 4) << 1));
            case MODRM_RM -> requireModrm((modrm & 7) | ((rex & 1) << 3));
            case OPCODE -> (opcode & 7) | ((rex & 1) << 3);
        };
    }

    private int requireModrm(int value) {
        if (modrm < 0) {
            throw new IllegalStateException("no ModRM byte in " + this);
        }
        return value;
    }

    /** ModRM.reg without REX.R: the opcode extension of group opcodes ("/digit"). */
    public int modrmRegField() {
        return modrm < 0 ? -1 : (modrm >>> 3) & 7;
    }

    /**
     * Linear addresses this instruction may access, each with the role that names it: the ModRM or
     * moffs operand (and 63 bytes on, an operand may cross a page), the string source (DS or the
     * override : rSI) and destination (ES : rDI, no override), XLAT's [rBX + AL], and the stack
     * around SS : rSP. Only pages matter to the caller, who maps physical accesses back to linear ones.
     */
    public java.util.List<X86Decoder.Candidate> candidates(Registers regs, long rip) {
        java.util.List<X86Decoder.Candidate> out = new java.util.ArrayList<>();
        long mask = addressSize == 8 ? -1L : (1L << (8 * addressSize)) - 1;
        if (memory != null && !memory.scaledDisp8()) {
            long linear = memory.linear(regs, nextRip(rip));
            out.add(new X86Decoder.Candidate(linear, X86Decoder.Role.OPERAND));
            out.add(new X86Decoder.Candidate(linear + 63, X86Decoder.Role.OPERAND));
        }
        Sreg override = prefixes.effectiveSegmentOverride(mode);
        long dataBase = regs.segmentBase(override != null ? override : Sreg.DS);
        boolean string = operation instanceof Operation.StringOp || operation instanceof Operation.PortIo io && io.string();
        if (string) {
            long rsi = dataBase + (regs.gpr(6) & mask);
            long rdi = regs.segmentBase(Sreg.ES) + (regs.gpr(7) & mask);
            for (long d : new long[] {0, 7, -8}) {
                out.add(new X86Decoder.Candidate(rsi + d, X86Decoder.Role.SOURCE));
                out.add(new X86Decoder.Candidate(rdi + d, X86Decoder.Role.DESTINATION));
            }
        }
        if (map == 0 && encoding == Encoding.LEGACY && opcode == 0xD7) { // XLAT
            out.add(new X86Decoder.Candidate(dataBase + ((regs.gpr(3) + (regs.gpr(0) & 0xFF)) & mask),
                    X86Decoder.Role.OPERAND));
        }
        long rsp = regs.segmentBase(Sreg.SS) + regs.gpr(4);
        out.add(new X86Decoder.Candidate(rsp, X86Decoder.Role.STACK));
        out.add(new X86Decoder.Candidate(rsp - 64, X86Decoder.Role.STACK));
        out.add(new X86Decoder.Candidate(rsp + 63, X86Decoder.Role.STACK));
        return out;
    }

    /** The RIP after this instruction. */
    public long nextRip(long rip) {
        return rip + length;
    }
}
