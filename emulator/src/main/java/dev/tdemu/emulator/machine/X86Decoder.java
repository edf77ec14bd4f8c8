package dev.tdemu.emulator.machine;

/**
 * Just enough of an x86-64 instruction decoder for the emulator's own needs: the length of any
 * 64-bit-mode instruction (legacy, REX, VEX and EVEX encodings, every opcode map), its ModRM
 * memory operand, and which implicit memory it may touch (stack, string registers, an absolute
 * moffs address). It does not name instructions or check their validity.
 *
 * <p>Written by hand because no maintained x86 decoder for Java is available from the package
 * registry these builds use (see docs/decisions.md).
 */
public final class X86Decoder {
    public static final int MAX_LENGTH = 15;

    /** Registers in the usual encoding order: RAX=0 … R15=15. */
    public static final int RSP = 4, RBP = 5, RSI = 6, RDI = 7;
    /** {@link MemoryOperand#base()} for RIP-relative addressing. */
    public static final int RIP = 16;
    /** Segment overrides that matter in 64-bit mode (the others have base 0). */
    public static final int SEG_NONE = -1, SEG_FS = 4, SEG_GS = 5;

    /** What the emulator needs of a register file to compute addresses. */
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

    private static final class Cursor {
        final byte[] code;
        final int start, end;
        int i;

        Cursor(byte[] code, int start) {
            this.code = code;
            this.start = start;
            this.i = start;
            this.end = Math.min(code.length, start + MAX_LENGTH);
        }

        int next() {
            if (i >= end) {
                throw new Truncated();
            }
            return Byte.toUnsignedInt(code[i++]);
        }

        long signed(int bytes) {
            long v = 0;
            for (int k = 0; k < bytes; k++) {
                v |= (long) next() << (8 * k);
            }
            int shift = 64 - 8 * bytes;
            return v << shift >> shift;
        }

        void skip(int bytes) {
            for (int k = 0; k < bytes; k++) {
                next();
            }
        }
    }

    private static final class Truncated extends RuntimeException {
        Truncated() {
            super(null, null, false, false);
        }
    }

    /**
     * Decodes the instruction at {@code code[offset]} in 64-bit mode; null when the bytes end
     * before the instruction does or it would exceed 15 bytes.
     */
    public static Instruction decode(byte[] code, int offset) {
        try {
            return decode(new Cursor(code, offset));
        } catch (Truncated e) {
            return null;
        }
    }

    private static Instruction decode(Cursor c) {
        boolean opSize16 = false, addr32 = false, rep = false, lock = false;
        int segment = SEG_NONE;
        int rex = 0;
        int b;
        while (true) {
            b = c.next();
            switch (b) {
                case 0x66 -> opSize16 = true;
                case 0x67 -> addr32 = true;
                case 0xF0 -> lock = true;
                case 0xF2, 0xF3 -> rep = true;
                case 0x2E, 0x36, 0x3E, 0x26 -> { }
                case 0x64 -> segment = SEG_FS;
                case 0x65 -> segment = SEG_GS;
                default -> {
                    if ((b & 0xF0) == 0x40) {
                        rex = b & 0xF;
                        b = c.next();
                        if ((b & 0xF0) == 0x40 || isLegacyPrefix(b)) {
                            // A REX not directly before the opcode is ignored; keep scanning prefixes.
                            c.i--;
                            rex = 0;
                            continue;
                        }
                    }
                    return afterPrefixes(c, b, rex, opSize16, addr32, rep, lock, segment);
                }
            }
        }
    }

    private static boolean isLegacyPrefix(int b) {
        return switch (b) {
            case 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65 -> true;
            default -> false;
        };
    }

    private static Instruction afterPrefixes(Cursor c, int b, int rex, boolean opSize16, boolean addr32, boolean rep,
                                             boolean lock, int segment) {
        int addressSize = addr32 ? 4 : 8;
        if (b == 0xC4 || b == 0xC5 || b == 0x62) {
            return vex(c, b, opSize16, addressSize, segment, rep, lock);
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
        boolean w = (rex & 8) != 0;
        int operandSize = w ? 8 : opSize16 ? 2 : 4;
        boolean hasModrm = switch (map) {
            case 0 -> has(MODRM_1, opcode);
            case 1 -> !has(NO_MODRM_0F, opcode);
            default -> true;
        };
        int modrm = -1;
        MemoryOperand memory = null;
        if (hasModrm) {
            modrm = c.next();
            memory = modrmMemory(c, modrm, rex, false);
        }
        if (map == 0 && opcode >= 0xA0 && opcode <= 0xA3) {
            // MOV to or from an absolute address: the moffs operand is the whole address.
            long address = c.signed(addressSize);
            return new Instruction(c.i - c.start, map, opcode, false, -1, rex, operandSize, addressSize, segment, rep, lock,
                    new MemoryOperand(-1, -1, 1, address, false));
        }
        int imm = switch (map) {
            case 0 -> immediate1(opcode, modrm, operandSize, w, addressSize);
            case 1 -> opcode >= 0x80 && opcode <= 0x8F ? 4 : has(IMM8_0F, opcode) ? 1 : 0;
            case 3 -> 1;
            default -> 0;
        };
        c.skip(imm);
        return new Instruction(c.i - c.start, map, opcode, false, modrm, rex, operandSize, addressSize, segment, rep, lock,
                memory);
    }

    /** Immediate bytes of a one-byte-map opcode. */
    private static int immediate1(int op, int modrm, int operandSize, boolean w, int addressSize) {
        int z = operandSize == 2 ? 2 : 4; // imm16/imm32 (64-bit operands take a sign-extended imm32)
        if (op < 0x40 && (op & 7) == 4) {
            return 1;
        }
        if (op < 0x40 && (op & 7) == 5) {
            return z;
        }
        return switch (op) {
            case 0x68, 0x69, 0x81, 0xA9, 0xC7, 0xE8, 0xE9 -> z == 2 && (op == 0xE8 || op == 0xE9) ? 4 : z;
            case 0x6A, 0x6B, 0x80, 0x82, 0x83, 0xA8, 0xC0, 0xC1, 0xC6, 0xCD, 0xD4, 0xD5, 0xE4, 0xE5, 0xE6, 0xE7, 0xEB -> 1;
            case 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F,
                 0xE0, 0xE1, 0xE2, 0xE3 -> 1;
            case 0xA0, 0xA1, 0xA2, 0xA3 -> addressSize;
            case 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7 -> 1;
            case 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF -> w ? 8 : z;
            case 0xC2, 0xCA -> 2;
            case 0xC8 -> 3;
            case 0xF6 -> ((modrm >>> 3) & 7) < 2 ? 1 : 0;
            case 0xF7 -> ((modrm >>> 3) & 7) < 2 ? z : 0;
            default -> 0;
        };
    }

    private static Instruction vex(Cursor c, int escape, boolean opSize16, int addressSize, int segment, boolean rep,
                                   boolean lock) {
        int rex;
        int map;
        boolean evex = escape == 0x62;
        if (escape == 0xC5) {
            int p = c.next();
            rex = (p & 0x80) == 0 ? 4 : 0;
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
        int opcode = c.next();
        int modrm = c.next();
        MemoryOperand memory = modrmMemory(c, modrm, rex, evex);
        int imm = map == 3 || map == 1 && has(IMM8_0F, opcode) && opcode != 0x0F ? 1 : 0;
        c.skip(imm);
        int operandSize = (rex & 8) != 0 ? 8 : opSize16 ? 2 : 4;
        return new Instruction(c.i - c.start, map, opcode, true, modrm, rex, operandSize, addressSize, segment, rep, lock,
                memory);
    }

    private static MemoryOperand modrmMemory(Cursor c, int modrm, int rex, boolean evex) {
        int mod = modrm >>> 6;
        if (mod == 3) {
            return null;
        }
        int rm = modrm & 7;
        int base;
        int index = -1;
        int scale = 1;
        long disp = 0;
        if (rm == 4) {
            int sib = c.next();
            scale = 1 << (sib >>> 6);
            int idx = ((sib >>> 3) & 7) | ((rex & 2) << 2);
            index = idx == 4 ? -1 : idx;
            int b = sib & 7;
            if (b == 5 && mod == 0) {
                base = -1;
                disp = c.signed(4);
            } else {
                base = b | ((rex & 1) << 3);
            }
        } else if (rm == 5 && mod == 0) {
            base = RIP;
            disp = c.signed(4);
        } else {
            base = rm | ((rex & 1) << 3);
        }
        if (mod == 1) {
            disp = c.signed(1);
        } else if (mod == 2) {
            disp = c.signed(4);
        }
        return new MemoryOperand(base, index, scale, disp, evex && mod == 1);
    }
}
