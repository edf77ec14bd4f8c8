package dev.tdemu.emulator.machine;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteOrder;

/**
 * Guest RAM: one page-aligned block of host memory shared by every vCPU's engine (mapped with
 * uc_mem_map_ptr) and read or written directly by Java, so the VMM never copies through the
 * engine. Addresses are guest-physical, starting at 0. Every access is bounds-checked.
 *
 * <p>The block is an anonymous private mapping (mmap), not an arena allocation: the arena zeroes
 * what it allocates, touching every page up front (75 ms for 128 MiB, 0.3-0.6 s for 512 MiB, and
 * as long again to give them back), while the kernel hands out zero pages as the guest first
 * touches them, as QEMU's RAM is. MAP_NORESERVE: a large guest that touches little costs little.
 */
public final class GuestMemory implements AutoCloseable {
    public static final long PAGE_SIZE = 4096;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Aligned 64-bit access with atomic operations (little-endian: the host is x86-64). */
    private static final java.lang.invoke.VarHandle ATOMIC64 = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN)
            .varHandle();

    private static final int PROT_READ = 1, PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
    private static final MethodHandle MMAP, MUNMAP;

    static {
        Linker linker = Linker.nativeLinker();
        MMAP = linker.downcallHandle(linker.defaultLookup().find("mmap").orElseThrow(), FunctionDescriptor.of(
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        MUNMAP = linker.downcallHandle(linker.defaultLookup().find("munmap").orElseThrow(), FunctionDescriptor.of(
                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    }

    private final Arena arena;
    private final MemorySegment ram;

    public GuestMemory(long size) {
        if (size <= 0 || size % (2L << 20) != 0) {
            throw new IllegalArgumentException("guest RAM must be a positive multiple of 2 MiB, not " + size);
        }
        long address;
        try {
            address = (long) MMAP.invokeExact(0L, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                    -1, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("mmap of guest RAM failed", t);
        }
        if (address == -1 || address == 0) { // MAP_FAILED
            throw new OutOfMemoryError("cannot map " + (size >> 20) + " MiB of guest RAM (mmap failed)");
        }
        this.arena = Arena.ofShared();
        // Unmapped when the arena closes, after every access through the segment has ended.
        this.ram = MemorySegment.ofAddress(address).reinterpret(size, arena, ignored -> unmap(address, size));
    }

    private static void unmap(long address, long size) {
        try {
            int ignored = (int) MUNMAP.invokeExact(address, size);
        } catch (Throwable t) {
            throw new IllegalStateException("munmap of guest RAM failed", t);
        }
    }

    public MemorySegment segment() {
        return ram;
    }

    public long size() {
        return ram.byteSize();
    }

    public boolean contains(long address, long length) {
        return address >= 0 && length >= 0 && address <= ram.byteSize() - length;
    }

    private void check(long address, long length) {
        if (!contains(address, length)) {
            throw new GuestMemoryException(address, length, ram.byteSize());
        }
    }

    public int read8(long a) {
        check(a, 1);
        return Byte.toUnsignedInt(ram.get(ValueLayout.JAVA_BYTE, a));
    }

    public int read16(long a) {
        check(a, 2);
        return Short.toUnsignedInt(ram.get(U16, a));
    }

    public long read32(long a) {
        check(a, 4);
        return Integer.toUnsignedLong(ram.get(U32, a));
    }

    public long read64(long a) {
        check(a, 8);
        return ram.get(U64, a);
    }

    /**
     * Atomically replaces the aligned quadword at {@code a} with {@code update} if it still holds
     * {@code expected} (a LOCK CMPXCHG, as the CPU sets paging-entry flags that another vCPU or
     * engine may be changing).
     */
    public boolean compareAndSet64(long a, long expected, long update) {
        check(a, 8);
        if ((a & 7) != 0) {
            throw new IllegalArgumentException("unaligned quadword at 0x" + Long.toHexString(a));
        }
        return ATOMIC64.compareAndSet(ram, a, expected, update);
    }

    /** Reads {@code size} (1, 2, 4 or 8) bytes little-endian, zero-extended. */
    public long read(long a, int size) {
        return switch (size) {
            case 1 -> read8(a);
            case 2 -> read16(a);
            case 4 -> read32(a);
            case 8 -> read64(a);
            default -> throw new IllegalArgumentException("access size " + size);
        };
    }

    public void write8(long a, int v) {
        check(a, 1);
        ram.set(ValueLayout.JAVA_BYTE, a, (byte) v);
    }

    public void write16(long a, int v) {
        check(a, 2);
        ram.set(U16, a, (short) v);
    }

    public void write32(long a, long v) {
        check(a, 4);
        ram.set(U32, a, (int) v);
    }

    public void write64(long a, long v) {
        check(a, 8);
        ram.set(U64, a, v);
    }

    public void write(long a, int size, long v) {
        switch (size) {
            case 1 -> write8(a, (int) v);
            case 2 -> write16(a, (int) v);
            case 4 -> write32(a, v);
            case 8 -> write64(a, v);
            default -> throw new IllegalArgumentException("access size " + size);
        }
    }

    public byte[] readBytes(long a, int length) {
        check(a, length);
        return ram.asSlice(a, length).toArray(ValueLayout.JAVA_BYTE);
    }

    public void writeBytes(long a, byte[] bytes) {
        check(a, bytes.length);
        MemorySegment.copy(bytes, 0, ram, ValueLayout.JAVA_BYTE, a, bytes.length);
    }

    public void fill(long a, long length, byte value) {
        check(a, length);
        ram.asSlice(a, length).fill(value);
    }

    @Override
    public void close() {
        arena.close();
    }
}
