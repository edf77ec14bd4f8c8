package dev.tdemu.emulator.cpu;

import java.util.TreeSet;

/**
 * A decoded port I/O instruction: IN/OUT with an immediate port or DX, and the string forms
 * INS/OUTS with an optional REP. The engine's own I/O hooks see RIP only at the start of the
 * translated block and stop only at its end, so tdemu finds I/O instructions in the code it loads,
 * hooks each one, and emulates it in Java with a precise RIP.
 *
 * @param in          true for IN/INS (port to register or memory)
 * @param size        1, 2 or 4 bytes per transfer
 * @param port        the immediate port, or -1 when the port is in DX
 * @param string      INS/OUTS
 * @param rep         a REP prefix on a string form
 * @param addressSize 8 normally, 4 with a 0x67 prefix (RCX/RSI/RDI used as ECX/ESI/EDI)
 * @param length      instruction length in bytes
 */
public record PortIo(boolean in, int size, int port, boolean string, boolean rep, int addressSize, int length) {
    private static final int MAX_LENGTH = 15;

    static boolean isIoOpcode(int b) {
        return (b >= 0xE4 && b <= 0xE7) || (b >= 0xEC && b <= 0xEF) || (b >= 0x6C && b <= 0x6F);
    }

    private static boolean isPrefix(int b) {
        return switch (b) {
            case 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65 -> true;
            default -> (b & 0xF0) == 0x40; // REX
        };
    }

    /** Decodes the instruction at {@code code[offset]}, or null when it is not port I/O. */
    public static PortIo decode(byte[] code, int offset) {
        boolean opSize16 = false, addr32 = false, rep = false;
        int i = offset, end = Math.min(code.length, offset + MAX_LENGTH);
        while (i < end && isPrefix(Byte.toUnsignedInt(code[i]))) {
            int b = Byte.toUnsignedInt(code[i]);
            opSize16 |= b == 0x66;
            addr32 |= b == 0x67;
            rep |= b == 0xF3 || b == 0xF2;
            i++;
        }
        if (i >= end) {
            return null;
        }
        int op = Byte.toUnsignedInt(code[i]);
        if (!isIoOpcode(op)) {
            return null;
        }
        int wide = opSize16 ? 2 : 4;
        int addressSize = addr32 ? 4 : 8;
        return switch (op) {
            case 0xE4, 0xE5, 0xE6, 0xE7 -> {
                if (i + 1 >= end) {
                    yield null;
                }
                int size = (op & 1) == 0 ? 1 : wide;
                yield new PortIo(op <= 0xE5, size, Byte.toUnsignedInt(code[i + 1]), false, false, addressSize, i + 2 - offset);
            }
            case 0xEC, 0xED, 0xEE, 0xEF ->
                new PortIo(op <= 0xED, (op & 1) == 0 ? 1 : wide, -1, false, false, addressSize, i + 1 - offset);
            default -> // 6C INSB, 6D INSW/D, 6E OUTSB, 6F OUTSW/D
                new PortIo(op <= 0x6D, (op & 1) == 0 ? 1 : wide, -1, true, rep, addressSize, i + 1 - offset);
        };
    }

    /** Offsets in {@code code} where a port I/O instruction could start (opcode and prefix runs). */
    public static TreeSet<Integer> candidateStarts(byte[] code) {
        TreeSet<Integer> starts = new TreeSet<>();
        for (int i = 0; i < code.length; i++) {
            if (!isIoOpcode(Byte.toUnsignedInt(code[i]))) {
                continue;
            }
            starts.add(i);
            for (int p = i - 1; p >= 0 && i - p < MAX_LENGTH - 1 && isPrefix(Byte.toUnsignedInt(code[p])); p--) {
                starts.add(p);
            }
        }
        return starts;
    }
}
