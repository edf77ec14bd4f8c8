package dev.tdemu.emulator.unicorn;

import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.elf.LoadSegment;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A bare engine with guest RAM at guest-physical 0 that lives in Java-owned host memory
 * ({@link Unicorn#mapPtr}), for running a guest image without a VM around it: the engine starts
 * in 64-bit long mode at CPL0 with paging off, so guest addresses are physical addresses.
 */
public final class BareMachine implements AutoCloseable {
    public static final long DEFAULT_RAM_BYTES = 16L << 20;

    private final Arena ramArena = Arena.ofShared();
    private final MemorySegment ram;
    private final Unicorn engine;

    private BareMachine(long ramBytes) {
        if (ramBytes <= 0 || ramBytes % 4096 != 0) {
            ramArena.close();
            throw new IllegalArgumentException("RAM size must be a positive multiple of 4096: " + ramBytes);
        }
        ram = ramArena.allocate(ramBytes, 4096);
        Unicorn uc;
        try {
            uc = Unicorn.open();
            uc.mapPtr(0, ram, Protection.RWX);
        } catch (RuntimeException e) {
            ramArena.close();
            throw e;
        }
        engine = uc;
    }

    /** A machine with {@code ramBytes} of zeroed RAM at 0. */
    public static BareMachine create(long ramBytes) {
        return new BareMachine(ramBytes);
    }

    public static BareMachine create() {
        return create(DEFAULT_RAM_BYTES);
    }

    /**
     * Copies the image's segments into RAM (zeroing their .bss parts), points RIP at its entry and
     * RSP at the top of RAM. Returns the entry address.
     */
    public long load(ElfImage image) {
        for (LoadSegment s : image.segments()) {
            if (Long.compareUnsigned(s.end(), ram.byteSize()) > 0 || Long.compareUnsigned(s.address(), s.end()) > 0) {
                throw new IllegalArgumentException(String.format("%s: %s lies outside guest RAM [0, 0x%x)",
                        image.name(), s, ram.byteSize()));
            }
            byte[] data = s.data();
            MemorySegment dst = ram.asSlice(s.address(), s.memorySize());
            dst.fill((byte) 0);
            MemorySegment.copy(MemorySegment.ofArray(data), 0, dst, 0, data.length);
        }
        // RAM is host memory: the engine has not seen these bytes through uc_mem_write.
        engine.flushTranslations();
        engine.writeReg(X86Reg.RSP, ram.byteSize());
        engine.writeReg(X86Reg.RIP, image.entry());
        return image.entry();
    }

    public Unicorn engine() {
        return engine;
    }

    /** Guest RAM, guest-physical address = offset. */
    public MemorySegment ram() {
        return ram;
    }

    /** Closes the engine, then frees the RAM. */
    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            ramArena.close();
        }
    }
}
