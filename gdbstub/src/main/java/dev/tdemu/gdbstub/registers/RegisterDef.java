package dev.tdemu.gdbstub.registers;

import java.util.Objects;

/**
 * One register of a {@link RegisterLayout}, as declared in the target description.
 *
 * @param regnum  gdb's remote register number (the {@code regnum} attribute, the number in
 *                {@code p}/{@code P} packets and in stop replies)
 * @param name    the name gdb shows ({@code rip}, {@code dr7})
 * @param bitSize the size in bits, a multiple of 8
 * @param type    the target-description type ({@code int64}, {@code code_ptr}, a flags id, ...)
 * @param group   the register group ({@code general}, {@code float}, {@code vector},
 *                {@code system}), or {@code null} to let gdb decide
 * @param feature the name of the feature that declares it
 * @param offset  the byte offset of the register in the {@code g} packet
 */
public record RegisterDef(int regnum, String name, int bitSize, String type, String group, String feature,
                          int offset) {
    public RegisterDef {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(feature, "feature");
        if (bitSize <= 0 || bitSize % 8 != 0) {
            throw new IllegalArgumentException(name + ": bit size must be a positive multiple of 8, got " + bitSize);
        }
        if (regnum < 0 || offset < 0) {
            throw new IllegalArgumentException(name + ": negative regnum or offset");
        }
    }

    /** The size in bytes, i.e. half the number of hex digits the register takes in packets. */
    public int byteSize() {
        return bitSize / 8;
    }
}
