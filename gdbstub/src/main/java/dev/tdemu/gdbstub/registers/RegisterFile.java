package dev.tdemu.gdbstub.registers;

import java.util.Arrays;
import java.util.BitSet;
import java.util.Objects;
import java.util.Optional;

/**
 * Values of the registers of one thread in a {@link RegisterLayout}: raw little-endian bytes in
 * {@code g}-packet order, plus which registers are present.
 *
 * <p>On reads, an absent register is one the target cannot provide (gdb shows
 * {@code <unavailable>}); on writes ({@code G}), only the present registers are to be written.
 * Not thread-safe: the party that creates one hands it over with the call and does not touch it
 * afterwards.
 */
public final class RegisterFile {
    private final RegisterLayout layout;
    private final byte[] data;
    private final BitSet present;

    private RegisterFile(RegisterLayout layout, byte[] data, BitSet present) {
        this.layout = layout;
        this.data = data;
        this.present = present;
    }

    /** A register file with every register absent. */
    public static RegisterFile empty(RegisterLayout layout) {
        Objects.requireNonNull(layout, "layout");
        return new RegisterFile(layout, new byte[layout.gPacketSize()], new BitSet(layout.registerCount()));
    }

    /** A register file with every register present and zero. */
    public static RegisterFile zeroed(RegisterLayout layout) {
        RegisterFile f = empty(layout);
        f.present.set(0, layout.registerCount());
        return f;
    }

    public RegisterLayout layout() {
        return layout;
    }

    public boolean isPresent(int regnum) {
        layout.register(regnum);
        return present.get(regnum);
    }

    /** Number of registers present. */
    public int presentCount() {
        return present.cardinality();
    }

    /** The raw little-endian bytes of a register, or empty when it is absent. */
    public Optional<byte[]> bytes(int regnum) {
        RegisterDef r = layout.register(regnum);
        if (!present.get(regnum)) {
            return Optional.empty();
        }
        return Optional.of(Arrays.copyOfRange(data, r.offset(), r.offset() + r.byteSize()));
    }

    /**
     * The low 64 bits of a register as a long (zero-extended for registers narrower than 64 bits).
     *
     * @throws IllegalStateException if the register is absent
     */
    public long getLong(int regnum) {
        RegisterDef r = layout.register(regnum);
        if (!present.get(regnum)) {
            throw new IllegalStateException(r.name() + " is not present");
        }
        long v = 0;
        int n = Math.min(8, r.byteSize());
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (data[r.offset() + i] & 0xffL);
        }
        return v;
    }

    /** The low 64 bits of a register by name; see {@link #getLong(int)}. */
    public long getLong(String name) {
        return getLong(layout.regnum(name));
    }

    /**
     * Sets a register from a long, little-endian; wider registers get zeros above bit 63,
     * narrower ones keep the low bytes. Marks it present.
     */
    public RegisterFile setLong(int regnum, long value) {
        RegisterDef r = layout.register(regnum);
        Arrays.fill(data, r.offset(), r.offset() + r.byteSize(), (byte) 0);
        int n = Math.min(8, r.byteSize());
        for (int i = 0; i < n; i++) {
            data[r.offset() + i] = (byte) (value >>> (8 * i));
        }
        present.set(regnum);
        return this;
    }

    public RegisterFile setLong(String name, long value) {
        return setLong(layout.regnum(name), value);
    }

    /** Sets a register from its raw little-endian bytes, which must be exactly its size. Marks it present. */
    public RegisterFile setBytes(int regnum, byte[] value) {
        RegisterDef r = layout.register(regnum);
        if (value.length != r.byteSize()) {
            throw new IllegalArgumentException(r.name() + " is " + r.byteSize() + " bytes, got " + value.length);
        }
        System.arraycopy(value, 0, data, r.offset(), value.length);
        present.set(regnum);
        return this;
    }

    /** Marks a register absent (unavailable on reads, not to be written on writes). */
    public RegisterFile clear(int regnum) {
        layout.register(regnum);
        present.clear(regnum);
        return this;
    }

    /** Copies every register present in {@code other} (same layout) into this file. */
    public RegisterFile merge(RegisterFile other) {
        if (other.layout != layout) {
            throw new IllegalArgumentException("layouts differ");
        }
        for (int i = other.present.nextSetBit(0); i >= 0; i = other.present.nextSetBit(i + 1)) {
            RegisterDef r = layout.register(i);
            System.arraycopy(other.data, r.offset(), data, r.offset(), r.byteSize());
            present.set(i);
        }
        return this;
    }

    public RegisterFile copy() {
        return new RegisterFile(layout, data.clone(), (BitSet) present.clone());
    }

    @Override
    public String toString() {
        return "RegisterFile[" + present.cardinality() + "/" + layout.registerCount() + " present]";
    }
}
