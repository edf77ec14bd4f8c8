package dev.tdemu.emulator.machine;

import dev.tdemu.core.x86.Event;
import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.core.x86.Sreg;

/**
 * The x86 instruction decoder, once, for every mode ({@link ExecutionMode}: real, virtual-8086,
 * 16- and 32-bit protected, 64-bit): the length of any instruction (legacy, REX, VEX and EVEX
 * encodings, every opcode map), its prefixes, operand and address sizes, ModRM/SIB memory operand
 * with its segment (16-bit forms included), immediate, and a named {@link Operation} for the
 * instructions the emulator must recognise. {@link #skipPrefixes} is the one place that decides
 * what is a prefix, and {@link X86Instruction#register} the one place that says which register
 * an operand field names. It does not give mnemonics for the rest, nor check validity beyond what
 * changes decoding.
 *
 * <p>Written by hand because no maintained x86 decoder for Java is available from the package
 * registry these builds use (see docs/decisions.md). The nested {@link Instruction} API decodes
 * 64-bit mode only and is kept for its callers until they move to {@link #decode(byte[], int,
 * ExecutionMode)}.
 */
public final class X86Decoder {
    public static final int MAX_LENGTH = 15;

    /** Registers in the usual encoding order: RAX=0 … R15=15. */
    public static final int RSP = 4, RBP = 5, RSI = 6, RDI = 7;
    /** {@link MemoryOperand#base()} for RIP-relative addressing. */
    public static final int RIP = 16;
    /** Segment overrides that matter in 64-bit mode (the others have base 0). */
    // superseded by core.x86.Sreg (X86Instruction.Memory.segment); callers migrate in the structure change
    public static final int SEG_NONE = -1, SEG_FS = 4, SEG_GS = 5;

    /** What the emulator needs of a register file to compute addresses. */
    // superseded by X86Instruction.Registers; callers migrate in the structure change
    public interface Registers {
        long gpr(int index);

        long segmentBase(int segment);
    }

    /**
     * A ModRM memory operand: base + index * scale + displacement (+ the next RIP when
     * RIP-relative), truncated to 32 bits with a 0x67 prefix, plus the FS/GS base.
     *
     * @param base     register number, {@link #RIP}, or -1 for none
     * @param index    register number or -1
     * @param scaledDisp8 true when an EVEX disp8 is scaled by an operand size this decoder does not know
     */
    // superseded by X86Instruction.Memory; callers migrate in the structure change
    public record MemoryOperand(int base, int index, int scale, long displacement, boolean scaledDisp8) {}

    /**
     * @param length       bytes, prefixes included
     * @param map          0 (one-byte), 1 (0F), 2 (0F 38), 3 (0F 3A), or the VEX/EVEX map number
     * @param opcode       the opcode byte within its map
     * @param vex          VEX or EVEX encoded
     * @param modrm        the ModRM byte, or -1
     * @param rex          the REX bits W R X B as 0..15 (from REX, VEX or EVEX)
     * @param operandSize  2, 4 or 8
     * @param addressSize  4 or 8
     * @param segment      {@link #SEG_FS}, {@link #SEG_GS} or {@link #SEG_NONE}
     * @param rep          an F3 or F2 prefix
     * @param lock         an F0 prefix
     * @param memory       the ModRM memory operand, or null
     */
    // superseded by X86Instruction; callers migrate in the structure change
    public record Instruction(int length, int map, int opcode, boolean vex, int modrm, int rex, int operandSize,
                              int addressSize, int segment, boolean rep, boolean lock, MemoryOperand memory) {
        public int reg() {
            return modrm < 0 ? -1 : ((modrm >>> 3) & 7) | ((rex & 4) << 1);
        }

        /** The linear address of the ModRM memory operand, given the registers; requires {@link #memory()}. */
        public long effectiveAddress(Registers regs, long rip) {
            MemoryOperand m = memory;
            long ea = m.displacement();
            if (m.base() == RIP) {
                ea += rip + length;
            } else if (m.base() >= 0) {
                ea += regs.gpr(m.base());
            }
            if (m.index() >= 0) {
                ea += regs.gpr(m.index()) * m.scale();
            }
            if (addressSize == 4) {
                ea &= 0xFFFF_FFFFL;
            }
            return ea + (segment >= 0 ? regs.segmentBase(segment) : 0);
        }

        /** One-byte-map string instruction (INS, OUTS, MOVS, CMPS, STOS, LODS, SCAS). */
        public boolean isString() {
            return map == 0 && !vex && (opcode >= 0x6C && opcode <= 0x6F || opcode >= 0xA4 && opcode <= 0xA7
                    || opcode >= 0xAA && opcode <= 0xAF);
        }

        /**
         * Linear addresses this instruction may access, each with the role that names it: the
         * ModRM or moffs operand, the string source (RSI) and destination (RDI), the stack around
         * RSP. Only pages matter to the caller, who maps physical accesses back to linear ones.
         */
        // superseded by X86Instruction.candidates; callers migrate in the structure change
        public java.util.List<Candidate> candidates(Registers regs, long rip) {
            java.util.List<Candidate> out = new java.util.ArrayList<>();
            long mask = addressSize == 4 ? 0xFFFF_FFFFL : -1L;
            if (memory != null && !memory.scaledDisp8()) {
                long ea = effectiveAddress(regs, rip);
                out.add(new Candidate(ea, Role.OPERAND));
                out.add(new Candidate(ea + 63, Role.OPERAND)); // an operand may cross into the next page
            }
            if (isString()) {
                long seg = segment >= 0 ? regs.segmentBase(segment) : 0;
                long rsi = (regs.gpr(RSI) & mask) + seg;
                long rdi = regs.gpr(RDI) & mask; // ES: base 0, no override
                out.add(new Candidate(rsi, Role.SOURCE));
                out.add(new Candidate(rsi + 7, Role.SOURCE));
                out.add(new Candidate(rsi - 8, Role.SOURCE));
                out.add(new Candidate(rdi, Role.DESTINATION));
                out.add(new Candidate(rdi + 7, Role.DESTINATION));
                out.add(new Candidate(rdi - 8, Role.DESTINATION));
            }
            if (map == 0 && !vex && opcode == 0xD7) { // XLAT: [RBX + AL]
                long seg = segment >= 0 ? regs.segmentBase(segment) : 0;
                out.add(new Candidate(((regs.gpr(3) + (regs.gpr(0) & 0xFF)) & mask) + seg, Role.OPERAND));
            }
            long rsp = regs.gpr(RSP);
            out.add(new Candidate(rsp, Role.STACK));
            out.add(new Candidate(rsp - 64, Role.STACK));
            out.add(new Candidate(rsp + 63, Role.STACK));
            return out;
        }
    }

    /** Why an instruction may touch an address. */
    public enum Role { OPERAND, SOURCE, DESTINATION, STACK }

    public record Candidate(long linear, Role role) {}

    private X86Decoder() {
    }

    // One-byte map: 1 = has ModRM.
    private static final long[] MODRM_1 = bits(new int[][] {
        {0x00, 0x03}, {0x08, 0x0B}, {0x10, 0x13}, {0x18, 0x1B}, {0x20, 0x23}, {0x28, 0x2B}, {0x30, 0x33}, {0x38, 0x3B},
        {0x62, 0x63}, {0x69, 0x69}, {0x6B, 0x6B}, {0x80, 0x8F}, {0xC0, 0xC1}, {0xC4, 0xC7}, {0xD0, 0xD3},
        {0xD8, 0xDF}, {0xF6, 0xF7}, {0xFE, 0xFF}});
    // 0F map: 1 = NO ModRM (most have one).
    private static final long[] NO_MODRM_0F = bits(new int[][] {
        {0x04, 0x09}, {0x0B, 0x0B}, {0x0E, 0x0E}, {0x30, 0x37}, {0x77, 0x77}, {0x80, 0x8F}, {0xA0, 0xA2},
        {0xA8, 0xAA}, {0xC8, 0xCF}});
    // 0F map: 1 = one immediate byte.
    private static final long[] IMM8_0F = bits(new int[][] {
        {0x0F, 0x0F}, {0x70, 0x73}, {0xA4, 0xA4}, {0xAC, 0xAC}, {0xBA, 0xBA}, {0xC2, 0xC2}, {0xC4, 0xC6}});
    // One-byte opcodes that are #UD in 64-bit mode (PUSH/POP ES/CS/SS/DS, DAA.., PUSHA/POPA, BOUND, the
    // 82 alias, far CALL/JMP ptr, LES/LDS, INTO, AAM/AAD, SALC): VEX/EVEX take C4, C5 and 62.
    private static final long[] INVALID_64 = bits(new int[][] {
        {0x06, 0x07}, {0x0E, 0x0E}, {0x16, 0x17}, {0x1E, 0x1F}, {0x27, 0x27}, {0x2F, 0x2F}, {0x37, 0x37}, {0x3F, 0x3F},
        {0x60, 0x61}, {0x82, 0x82}, {0x9A, 0x9A}, {0xCE, 0xCE}, {0xD4, 0xD6}, {0xEA, 0xEA}});
    // One-byte opcodes whose operand size is 64 bits by default in 64-bit mode (0x66 makes it 16):
    // PUSH/POP r, PUSH imm, POP r/m, PUSHF/POPF, ENTER, LEAVE.
    private static final long[] DEFAULT_64 = bits(new int[][] {
        {0x50, 0x5F}, {0x68, 0x68}, {0x6A, 0x6A}, {0x8F, 0x8F}, {0x9C, 0x9D}, {0xC8, 0xC9}});
    // The near branches: 64 bits in 64-bit mode whatever 0x66 says (Intel ignores it there).
    private static final long[] FORCE_64 = bits(new int[][] {
        {0x70, 0x7F}, {0xC2, 0xC3}, {0xE0, 0xE3}, {0xE8, 0xE9}, {0xEB, 0xEB}});

    private static long[] bits(int[][] ranges) {
        long[] b = new long[4];
        for (int[] r : ranges) {
            for (int i = r[0]; i <= r[1]; i++) {
                b[i >>> 6] |= 1L << (i & 63);
            }
        }
        return b;
    }

    private static boolean has(long[] b, int i) {
        return (b[i >>> 6] & (1L << (i & 63))) != 0;
    }

    /** The bytes of one instruction, never more than 15 of them. */
    private static final class Cursor {
        final byte[] code;
        final int start, end;
        final boolean limitBinds; // the 15-byte limit, not the end of the bytes, ends the window
        int i;

        Cursor(byte[] code, int start) {
            this.code = code;
            this.start = start;
            this.i = start;
            this.end = (int) Math.min(code.length, (long) start + MAX_LENGTH);
            this.limitBinds = code.length - (long) start > MAX_LENGTH;
        }

        int next() {
            if (i >= end) {
                throw new OutOfBytes(limitBinds);
            }
            return Byte.toUnsignedInt(code[i++]);
        }

        int peek() {
            if (i >= end) {
                throw new OutOfBytes(limitBinds);
            }
            return Byte.toUnsignedInt(code[i]);
        }

        long signed(int bytes) {
            long v = 0;
            for (int k = 0; k < bytes; k++) {
                v |= (long) next() << (8 * k);
            }
            int shift = 64 - 8 * bytes;
            return v << shift >> shift;
        }
    }

    private static final class OutOfBytes extends RuntimeException {
        final boolean tooLong;

        OutOfBytes(boolean tooLong) {
            super(null, null, false, false);
            this.tooLong = tooLong;
        }
    }

    /** What decoding the bytes at an offset gave. */
    public sealed interface DecodeResult {
        /** The instruction, or null when there is none. */
        default X86Instruction instructionOrNull() {
            return this instanceof Decoded d ? d.instruction() : null;
        }

        record Decoded(X86Instruction instruction) implements DecodeResult {}

        /** The bytes ended before the instruction did (fetch more, e.g. from the next page). */
        record Truncated(int available) implements DecodeResult {}

        /** The instruction would be longer than 15 bytes: the CPU raises #GP(0). */
        record TooLong() implements DecodeResult {}
    }

    /**
     * Decodes the instruction at {@code code[offset]} as the CPU does in {@code mode}: every
     * legacy prefix (the last segment override and the last of F2/F3 win; 64-bit mode ignores
     * CS/SS/DS/ES overrides), 0x66/0x67 relative to the mode's defaults, REX only in 64-bit mode
     * and only directly before the opcode (40-4F are INC/DEC elsewhere), VEX and EVEX (in 16- and
     * 32-bit protected mode only when the next byte has mod=11, else C4/C5/62 are LES/LDS/BOUND;
     * never in real or virtual-8086 mode), all four legacy opcode maps, 16-bit ModRM forms and
     * 32/64-bit ModRM with SIB, RIP-relative addressing in 64-bit mode, and the immediates. It
     * names the instructions {@link Operation} lists. It does not check that an instruction is
     * valid beyond what changes its decoding ({@link Operation.Undefined} marks the one-byte
     * opcodes 64-bit mode dropped), nor scale EVEX disp8 (flagged in {@link X86Instruction.Memory}).
     */
    public static DecodeResult decode(byte[] code, int offset, ExecutionMode mode) {
        if (offset < 0 || offset > code.length) {
            throw new IllegalArgumentException("offset " + offset + " outside " + code.length + " bytes of code");
        }
        Cursor c = new Cursor(code, offset);
        try {
            return new DecodeResult.Decoded(decode(c, mode));
        } catch (OutOfBytes e) {
            return e.tooLong ? new DecodeResult.TooLong() : new DecodeResult.Truncated(code.length - offset);
        }
    }

    /**
     * The prefixes at {@code code[offset]} in {@code mode}, ending at the opcode (or where the bytes
     * or the 15-byte window end): the one place that decides what is a prefix.
     */
    public static X86Instruction.Prefixes skipPrefixes(byte[] code, int offset, ExecutionMode mode) {
        return prefixes(new Cursor(code, offset), mode);
    }

    private static X86Instruction.Prefixes prefixes(Cursor c, ExecutionMode mode) {
        boolean lock = false, opSize = false, addrSize = false;
        Operation.Repeat repeat = Operation.Repeat.NONE;
        Sreg segment = null;
        int rex = 0;
        while (c.i < c.end) {
            int b = Byte.toUnsignedInt(c.code[c.i]);
            switch (b) {
                case 0xF0 -> lock = true;
                case 0xF2 -> repeat = Operation.Repeat.REPNE;
                case 0xF3 -> repeat = Operation.Repeat.REP;
                case 0x66 -> opSize = true;
                case 0x67 -> addrSize = true;
                case 0x26 -> segment = Sreg.ES;
                case 0x2E -> segment = Sreg.CS;
                case 0x36 -> segment = Sreg.SS;
                case 0x3E -> segment = Sreg.DS;
                case 0x64 -> segment = Sreg.FS;
                case 0x65 -> segment = Sreg.GS;
                default -> {
                    if (!mode.is64Bit() || (b & 0xF0) != 0x40) {
                        return new X86Instruction.Prefixes(c.i - c.start, lock, repeat, opSize, addrSize, segment, rex);
                    }
                }
            }
            // A REX counts only directly before the opcode: any prefix after it replaces it.
            rex = (b & 0xF0) == 0x40 && mode.is64Bit() ? b : 0;
            c.i++;
        }
        return new X86Instruction.Prefixes(c.i - c.start, lock, repeat, opSize, addrSize, segment, rex);
    }

    /**
     * Where an instruction whose opcode starts at {@code code[opcodeOffset]} may begin: there, and
     * at each byte of the run of prefixes (in {@code mode}) right before it, within the 15-byte
     * limit. Scanning code for an instruction (port I/O, MOV DR) must consider every such start.
     */
    public static java.util.SortedSet<Integer> prefixRunStarts(byte[] code, int opcodeOffset, ExecutionMode mode) {
        java.util.TreeSet<Integer> starts = new java.util.TreeSet<>();
        starts.add(opcodeOffset);
        for (int p = opcodeOffset - 1; p >= 0 && opcodeOffset - p < MAX_LENGTH; p--) {
            int b = Byte.toUnsignedInt(code[p]);
            if (!isLegacyPrefix(b) && !(mode.is64Bit() && (b & 0xF0) == 0x40)) {
                break;
            }
            starts.add(p);
        }
        return starts;
    }

    private static boolean isLegacyPrefix(int b) {
        return switch (b) {
            case 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65 -> true;
            default -> false;
        };
    }

    private static X86Instruction decode(Cursor c, ExecutionMode mode) {
        X86Instruction.Prefixes p = prefixes(c, mode);
        int addressSize = switch (mode.defaultAddressSize()) {
            case 2 -> p.addressSize() ? 4 : 2;
            case 4 -> p.addressSize() ? 2 : 4;
            default -> p.addressSize() ? 4 : 8;
        };
        int b = c.next();
        if ((b == 0xC4 || b == 0xC5 || b == 0x62)
                && (mode.is64Bit() || !mode.isReal8086() && (c.peek() & 0xC0) == 0xC0)) {
            return vex(c, mode, p, b, addressSize);
        }
        int map = 0;
        int opcode = b;
        if (b == 0x0F) {
            opcode = c.next();
            map = 1;
            if (opcode == 0x38 || opcode == 0x3A) {
                map = opcode == 0x38 ? 2 : 3;
                opcode = c.next();
            }
        }
        int rex = p.rex() & 0xF;
        boolean w = (rex & 8) != 0;
        int operandSize = operandSize(mode, p, map, opcode, -1);
        boolean hasModrm = switch (map) {
            case 0 -> has(MODRM_1, opcode);
            case 1 -> !has(NO_MODRM_0F, opcode);
            default -> true;
        };
        int modrm = -1;
        X86Instruction.Memory memory = null;
        if (hasModrm) {
            modrm = c.next();
            // MOV CR/DR (0F 20-23) ignore mod: the operands are registers whatever it says.
            boolean registersOnly = map == 1 && opcode >= 0x20 && opcode <= 0x23;
            if (!registersOnly) {
                memory = memory(c, mode, p, modrm, rex, addressSize, false);
            }
        }
        if (map == 0 && opcode == 0xFF) {
            operandSize = operandSize(mode, p, map, opcode, (modrm >>> 3) & 7);
        }
        long immediate = 0;
        int immSize;
        if (map == 0 && opcode >= 0xA0 && opcode <= 0xA3) {
            // MOV to or from an absolute address: the moffs operand is the whole offset.
            long moffs = c.signed(addressSize);
            Sreg seg = p.effectiveSegmentOverride(mode);
            memory = new X86Instruction.Memory(seg != null ? seg : Sreg.DS, X86Instruction.NONE, X86Instruction.NONE, 1,
                    addressSize == 8 ? moffs : moffs & ((1L << (8 * addressSize)) - 1), addressSize, false);
            immSize = 0;
        } else {
            immSize = switch (map) {
                case 0 -> immediate1(opcode, modrm, operandSize, w, mode);
                case 1 -> opcode >= 0x80 && opcode <= 0x8F ? (mode.is64Bit() || operandSize != 2 ? 4 : 2)
                        : has(IMM8_0F, opcode) ? 1 : 0;
                case 3 -> 1;
                default -> 0;
            };
        }
        int selector = -1;
        if (map == 0 && (opcode == 0xEA || opcode == 0x9A) && !mode.is64Bit()) {
            immediate = c.signed(operandSize) & (operandSize == 2 ? 0xFFFF : 0xFFFF_FFFFL);
            selector = (int) c.signed(2) & 0xFFFF;
            immSize = operandSize;
        } else if (map == 0 && opcode == 0xC8) {
            immediate = c.signed(2) & 0xFFFF;
            c.signed(1);
            immSize = 2;
        } else if (immSize > 0) {
            immediate = c.signed(immSize);
        }
        Operation op = classify(mode, p, map, opcode, modrm, rex, operandSize, addressSize, memory, immediate, selector);
        return new X86Instruction(mode, c.i - c.start, p, X86Instruction.Encoding.LEGACY, map, opcode, modrm, rex,
                operandSize, addressSize, memory, immediate, immSize, op);
    }

    /**
     * The operand size: REX.W makes 8; in 64-bit mode the near branches are 8 whatever 0x66 says
     * (Intel) and PUSH/POP/PUSHF/POPF/LEAVE/ENTER default to 8 (0x66 makes 2); else the mode's
     * default, toggled by 0x66. {@code digit} is ModRM.reg for FF, else -1.
     */
    private static int operandSize(ExecutionMode mode, X86Instruction.Prefixes p, int map, int opcode, int digit) {
        boolean w = (p.rex() & 8) != 0;
        if (w) {
            return 8;
        }
        if (mode.is64Bit()) {
            boolean forced = map == 0 && (has(FORCE_64, opcode) || opcode == 0xFF && (digit == 2 || digit == 4))
                    || map == 1 && opcode >= 0x80 && opcode <= 0x8F;
            boolean byDefault = map == 0 && (has(DEFAULT_64, opcode) || opcode == 0xFF && digit == 6)
                    || map == 1 && (opcode == 0xA0 || opcode == 0xA1 || opcode == 0xA8 || opcode == 0xA9);
            if (forced) {
                return 8;
            }
            if (byDefault) {
                return p.operandSize() ? 2 : 8;
            }
        }
        return (mode.defaultOperandSize() == 2) != p.operandSize() ? 2 : 4;
    }

    /** Immediate bytes of a one-byte-map opcode (far pointers and ENTER are read by the caller). */
    private static int immediate1(int op, int modrm, int operandSize, boolean w, ExecutionMode mode) {
        int z = operandSize == 2 ? 2 : 4; // imm16/imm32 (64-bit operands take a sign-extended imm32)
        if (op < 0x40 && (op & 7) == 4) {
            return 1;
        }
        if (op < 0x40 && (op & 7) == 5) {
            return z;
        }
        return switch (op) {
            case 0x68, 0x69, 0x81, 0xA9, 0xC7 -> z;
            // Near CALL/JMP rel: rel32 whatever 0x66 says in 64-bit mode (Intel), else by operand size.
            case 0xE8, 0xE9 -> mode.is64Bit() ? 4 : z;
            case 0x6A, 0x6B, 0x80, 0x82, 0x83, 0xA8, 0xC0, 0xC1, 0xC6, 0xCD, 0xD4, 0xD5, 0xE4, 0xE5, 0xE6, 0xE7, 0xEB -> 1;
            case 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F,
                 0xE0, 0xE1, 0xE2, 0xE3 -> 1;
            case 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7 -> 1;
            case 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF -> w ? 8 : z;
            case 0xC2, 0xCA -> 2;
            case 0xF6 -> ((modrm >>> 3) & 7) < 2 ? 1 : 0;
            case 0xF7 -> ((modrm >>> 3) & 7) < 2 ? z : 0;
            default -> 0;
        };
    }

    private static X86Instruction vex(Cursor c, ExecutionMode mode, X86Instruction.Prefixes p, int escape,
                                      int addressSize) {
        int rex;
        int map;
        boolean evex = escape == 0x62;
        if (escape == 0xC5) {
            int p0 = c.next();
            rex = (p0 & 0x80) == 0 ? 4 : 0;
            map = 1;
        } else if (escape == 0xC4) {
            int p0 = c.next();
            int p1 = c.next();
            rex = ((~p0 >>> 5) & 7) | ((p1 & 0x80) != 0 ? 8 : 0);
            map = p0 & 0x1F;
        } else {
            int p0 = c.next();
            int p1 = c.next();
            c.next();
            rex = ((~p0 >>> 5) & 7) | ((p1 & 0x80) != 0 ? 8 : 0);
            map = p0 & 0x7;
        }
        if (!mode.is64Bit()) {
            rex &= 8; // R, X and B only reach registers 8-15, which exist in 64-bit mode only
        }
        int opcode = c.next();
        int modrm = -1;
        X86Instruction.Memory memory = null;
        // VZEROUPPER/VZEROALL (VEX.0F 77) are the one VEX instruction without ModRM.
        if (!(map == 1 && opcode == 0x77 && !evex)) {
            modrm = c.next();
            memory = memory(c, mode, p, modrm, rex, addressSize, evex);
        }
        int imm = map == 3 || map == 1 && has(IMM8_0F, opcode) && opcode != 0x0F ? 1 : 0;
        long immediate = imm > 0 ? c.signed(1) : 0;
        int operandSize = (rex & 8) != 0 && mode.is64Bit() ? 8 : p.operandSize() ? 2 : 4;
        return new X86Instruction(mode, c.i - c.start, p, evex ? X86Instruction.Encoding.EVEX : X86Instruction.Encoding.VEX,
                map, opcode, modrm, rex, operandSize, addressSize, memory, immediate, imm, new Operation.Other());
    }

    private static final int BX = 3, BP = 5, SI = 6, DI = 7;
    // 16-bit ModRM.rm forms: [BX+SI] [BX+DI] [BP+SI] [BP+DI] [SI] [DI] [BP] [BX].
    private static final int[] BASE16 = {BX, BX, BP, BP, SI, DI, BP, BX};
    private static final int[] INDEX16 = {SI, DI, SI, DI, -1, -1, -1, -1};

    private static X86Instruction.Memory memory(Cursor c, ExecutionMode mode, X86Instruction.Prefixes p, int modrm,
                                                int rex, int addressSize, boolean evex) {
        int mod = modrm >>> 6;
        if (mod == 3) {
            return null;
        }
        int rm = modrm & 7;
        int base;
        int index = X86Instruction.NONE;
        int scale = 1;
        long disp = 0;
        if (addressSize == 2) {
            if (mod == 0 && rm == 6) {
                base = X86Instruction.NONE;
                disp = c.signed(2);
            } else {
                base = BASE16[rm];
                index = INDEX16[rm];
            }
            if (mod == 1) {
                disp = c.signed(1);
            } else if (mod == 2) {
                disp = c.signed(2);
            }
        } else {
            if (rm == 4) {
                int sib = c.next();
                scale = 1 << (sib >>> 6);
                int idx = ((sib >>> 3) & 7) | ((rex & 2) << 2);
                index = idx == 4 ? X86Instruction.NONE : idx;
                int b = sib & 7;
                if (b == 5 && mod == 0) {
                    base = X86Instruction.NONE;
                    disp = c.signed(4);
                } else {
                    base = b | ((rex & 1) << 3);
                }
            } else if (rm == 5 && mod == 0) {
                base = mode.is64Bit() ? X86Instruction.RIP : X86Instruction.NONE;
                disp = c.signed(4);
            } else {
                base = rm | ((rex & 1) << 3);
            }
            if (mod == 1) {
                disp = c.signed(1);
            } else if (mod == 2) {
                disp = c.signed(4);
            }
        }
        Sreg segment = p.effectiveSegmentOverride(mode);
        if (segment == null) {
            segment = base == BP || base == 4 && addressSize != 2 ? Sreg.SS : Sreg.DS; // rBP and rSP bases go through SS
        }
        return new X86Instruction.Memory(segment, base, index, scale, disp, addressSize, evex && mod == 1);
    }

    /** Names the instructions the emulator must recognise. */
    private static Operation classify(ExecutionMode mode, X86Instruction.Prefixes p, int map, int op, int modrm, int rex,
                                      int operandSize, int addressSize, X86Instruction.Memory memory, long imm,
                                      int selector) {
        if (map == 0 && mode.is64Bit() && has(INVALID_64, op)) {
            return new Operation.Undefined(String.format("opcode 0x%02x does not exist in 64-bit mode", op));
        }
        int reg = modrm < 0 ? -1 : ((modrm >>> 3) & 7);
        int regX = reg | ((rex & 4) << 1);
        int rmX = modrm < 0 ? -1 : (modrm & 7) | ((rex & 1) << 3);
        boolean rmIsRegister = modrm >= 0 && modrm >>> 6 == 3;
        int wide = operandSize; // the "v" size of the opcode tables
        if (map == 0) {
            return switch (op) {
                case 0xE4, 0xE5, 0xE6, 0xE7 -> new Operation.PortIo(op <= 0xE5, (op & 1) == 0 ? 1 : Math.min(wide, 4),
                        (int) (imm & 0xFF), false, false);
                case 0xEC, 0xED, 0xEE, 0xEF -> new Operation.PortIo(op <= 0xED, (op & 1) == 0 ? 1 : Math.min(wide, 4), -1,
                        false, false);
                case 0x6C, 0x6D, 0x6E, 0x6F -> new Operation.PortIo(op <= 0x6D, (op & 1) == 0 ? 1 : Math.min(wide, 4), -1,
                        true, p.rep());
                case 0xA4, 0xA5 -> string(Operation.StringKind.MOVS, op, wide, p);
                case 0xA6, 0xA7 -> string(Operation.StringKind.CMPS, op, wide, p);
                case 0xAA, 0xAB -> string(Operation.StringKind.STOS, op, wide, p);
                case 0xAC, 0xAD -> string(Operation.StringKind.LODS, op, wide, p);
                case 0xAE, 0xAF -> string(Operation.StringKind.SCAS, op, wide, p);
                case 0xCF -> new Operation.Iret(wide);
                case 0x9C -> new Operation.Flags(false, wide);
                case 0x9D -> new Operation.Flags(true, wide);
                case 0xCD -> new Operation.SoftwareInterrupt(Event.Instruction.INT_N, (int) (imm & 0xFF));
                case 0xCC -> new Operation.SoftwareInterrupt(Event.Instruction.INT3, 3);
                case 0xCE -> new Operation.SoftwareInterrupt(Event.Instruction.INTO, 4);
                case 0xF1 -> new Operation.SoftwareInterrupt(Event.Instruction.INT1, 1);
                case 0x8E -> reg == Sreg.SS.ordinal() ? new Operation.LoadSs(false) : new Operation.Other();
                case 0x17 -> new Operation.LoadSs(true);
                case 0xFB -> new Operation.Named(Operation.Name.STI);
                case 0xFA -> new Operation.Named(Operation.Name.CLI);
                case 0xF4 -> new Operation.Named(Operation.Name.HLT);
                case 0x90 -> p.repeat() == Operation.Repeat.REP && (rex & 1) == 0 ? new Operation.Named(Operation.Name.PAUSE)
                        : new Operation.Other();
                case 0xEA -> new Operation.FarTransfer(false, false, selector, imm);
                case 0x9A -> new Operation.FarTransfer(true, false, selector, imm);
                case 0xFF -> switch (reg) {
                    case 2 -> new Operation.NearBranch(Operation.BranchKind.CALL, true, 0);
                    case 4 -> new Operation.NearBranch(Operation.BranchKind.JMP, true, 0);
                    case 3, 5 -> memory != null ? new Operation.FarTransfer(reg == 3, true, -1, -1) : new Operation.Other();
                    default -> new Operation.Other();
                };
                case 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F, 0xE3 ->
                        new Operation.NearBranch(Operation.BranchKind.JCC, false, 0);
                case 0xE0, 0xE1, 0xE2 -> new Operation.NearBranch(Operation.BranchKind.LOOP, false, 0);
                case 0xE8 -> new Operation.NearBranch(Operation.BranchKind.CALL, false, 0);
                case 0xE9, 0xEB -> new Operation.NearBranch(Operation.BranchKind.JMP, false, 0);
                case 0xC3 -> new Operation.NearBranch(Operation.BranchKind.RET, false, 0);
                case 0xC2 -> new Operation.NearBranch(Operation.BranchKind.RET, false, (int) (imm & 0xFFFF));
                default -> new Operation.Other();
            };
        }
        if (map != 1) {
            return new Operation.Other();
        }
        return switch (op) {
            case 0x20, 0x22 -> new Operation.MovCr(op == 0x22, regX, rmX);
            case 0x21, 0x23 -> new Operation.MovDr(op == 0x23, regX, rmX);
            case 0x06 -> new Operation.Named(Operation.Name.CLTS);
            case 0x08 -> new Operation.Named(Operation.Name.INVD);
            case 0x09 -> new Operation.Named(Operation.Name.WBINVD);
            case 0x0B -> new Operation.Named(Operation.Name.UD2);
            case 0x05 -> new Operation.Named(Operation.Name.SYSCALL);
            case 0x07 -> new Operation.Named(Operation.Name.SYSRET);
            case 0x34 -> new Operation.Named(Operation.Name.SYSENTER);
            case 0x35 -> new Operation.Named(Operation.Name.SYSEXIT);
            case 0x30 -> new Operation.Named(Operation.Name.WRMSR);
            case 0x31 -> new Operation.Named(Operation.Name.RDTSC);
            case 0x32 -> new Operation.Named(Operation.Name.RDMSR);
            case 0xA2 -> new Operation.Named(Operation.Name.CPUID);
            case 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F ->
                    new Operation.NearBranch(Operation.BranchKind.JCC, false, 0);
            case 0xA1, 0xA9 -> new Operation.Other(); // POP FS/GS
            case 0x00 -> switch (reg) {
                case 2 -> new Operation.LoadSystemTable(Operation.SystemTable.LDTR, rmIsRegister ? rmX : -1);
                case 3 -> new Operation.LoadSystemTable(Operation.SystemTable.TR, rmIsRegister ? rmX : -1);
                default -> new Operation.Other();
            };
            case 0x01 -> group7(p, modrm, reg, rmX, rmIsRegister);
            default -> new Operation.Other();
        };
    }

    /** 0F 01: the system instructions encoded in ModRM (SDM Vol. 2 Table A-6, group 7). */
    private static Operation group7(X86Instruction.Prefixes p, int modrm, int reg, int rmX, boolean rmIsRegister) {
        if (!rmIsRegister) {
            return switch (reg) {
                case 2 -> new Operation.LoadSystemTable(Operation.SystemTable.GDTR, -1);
                case 3 -> new Operation.LoadSystemTable(Operation.SystemTable.IDTR, -1);
                case 4 -> new Operation.MachineStatusWord(false, -1);
                case 6 -> new Operation.MachineStatusWord(true, -1);
                case 7 -> new Operation.Invlpg();
                default -> new Operation.Other();
            };
        }
        return switch (modrm) {
            case 0xC1 -> new Operation.Named(Operation.Name.VMCALL);
            case 0xC8 -> new Operation.Named(Operation.Name.MONITOR);
            case 0xC9 -> new Operation.Named(Operation.Name.MWAIT);
            case 0xCC -> p.operandSize() ? new Operation.Named(Operation.Name.TDCALL) : new Operation.Other();
            case 0xD1 -> new Operation.Named(Operation.Name.XSETBV);
            case 0xD9 -> new Operation.Named(Operation.Name.VMMCALL);
            case 0xF8 -> new Operation.Named(Operation.Name.SWAPGS);
            case 0xF9 -> new Operation.Named(Operation.Name.RDTSCP);
            default -> switch (reg) {
                case 4 -> new Operation.MachineStatusWord(false, rmX);
                case 6 -> new Operation.MachineStatusWord(true, rmX);
                default -> new Operation.Other();
            };
        };
    }

    private static Operation string(Operation.StringKind kind, int op, int wide, X86Instruction.Prefixes p) {
        return new Operation.StringOp(kind, (op & 1) == 0 ? 1 : wide, p.repeat());
    }

    /**
     * Decodes the instruction at {@code code[offset]} in 64-bit mode; null when the bytes end
     * before the instruction does or it would exceed 15 bytes.
     */
    // superseded by decode(byte[], int, ExecutionMode); callers migrate in the structure change
    public static Instruction decode(byte[] code, int offset) {
        X86Instruction insn = decode(code, offset, ExecutionMode.LONG_64).instructionOrNull();
        if (insn == null) {
            return null;
        }
        MemoryOperand memory = null;
        X86Instruction.Memory m = insn.memory();
        if (m != null) {
            memory = new MemoryOperand(m.base(), m.index(), m.scale(), m.displacement(), m.scaledDisp8());
        }
        Sreg seg = insn.prefixes().effectiveSegmentOverride(ExecutionMode.LONG_64);
        int segment = seg == Sreg.FS ? SEG_FS : seg == Sreg.GS ? SEG_GS : SEG_NONE;
        return new Instruction(insn.length(), insn.map(), insn.opcode(), insn.encoding() != X86Instruction.Encoding.LEGACY,
                insn.modrm(), insn.rex(), (insn.rex() & 8) != 0 ? 8 : insn.prefixes().operandSize() ? 2 : 4,
                insn.addressSize(), segment, insn.prefixes().rep(), insn.prefixes().lock(), memory);
    }
}
