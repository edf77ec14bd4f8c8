package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.emulator.machine.Operation;
import dev.tdemu.emulator.machine.X86Decoder;
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
    static boolean isIoOpcode(int b) {
        return (b >= 0xE4 && b <= 0xE7) || (b >= 0xEC && b <= 0xEF) || (b >= 0x6C && b <= 0x6F);
    }

    /**
     * Decodes the instruction at {@code code[offset]} as the CPU runs it in {@code mode}, or null
     * when it is not port I/O.
     */
    public static PortIo decode(byte[] code, int offset, ExecutionMode mode) {
        if (!(X86Decoder.decode(code, offset, mode) instanceof X86Decoder.DecodeResult.Decoded d)
                || !(d.instruction().operation() instanceof Operation.PortIo io)) {
            return null;
        }
        return new PortIo(io.in(), io.size(), io.port(), io.string(), io.rep(), d.instruction().addressSize(),
                d.instruction().length());
    }

    /** {@link #decode(byte[], int, ExecutionMode)} in 64-bit mode (tdemu's own guests). */
    public static PortIo decode(byte[] code, int offset) {
        return decode(code, offset, ExecutionMode.LONG_64);
    }

    /**
     * Offsets in {@code code} where a port I/O instruction could start: each I/O opcode and the run
     * of prefixes before it, counting 40-4F as REX prefixes (a superset for code of every mode: the
     * hook at a candidate decodes it in the mode the CPU is in when it gets there).
     */
    public static TreeSet<Integer> candidateStarts(byte[] code) {
        TreeSet<Integer> starts = new TreeSet<>();
        for (int i = 0; i < code.length; i++) {
            if (isIoOpcode(Byte.toUnsignedInt(code[i]))) {
                starts.addAll(X86Decoder.prefixRunStarts(code, i, ExecutionMode.LONG_64));
            }
        }
        return starts;
    }
}
