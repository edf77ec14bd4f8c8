package dev.tdemu.emulator.boot;

import java.util.ArrayList;
import java.util.List;

/**
 * The guest-physical memory map the loader reports (Multiboot mmap, the BIOS E820 types): RAM
 * from 0 to the start of the extended BIOS data area, the BIOS area up to 1 MiB reserved, and RAM
 * from 1 MiB to the end of guest memory.
 *
 * @param regions sorted, non-overlapping
 */
public record MemoryMap(List<Region> regions) {
    /** End of conventional memory as a PC BIOS reports it: the EBDA starts at 639 KiB. */
    public static final long CONVENTIONAL_END = 0x9FC00;
    /** Start of extended ("upper") memory. */
    public static final long EXTENDED_START = 0x100000;

    public MemoryMap {
        regions = List.copyOf(regions);
        for (int i = 1; i < regions.size(); i++) {
            if (regions.get(i).base() < regions.get(i - 1).end()) {
                throw new IllegalArgumentException("memory map regions out of order or overlapping: " + regions);
            }
        }
    }

    /** E820 / Multiboot mmap region types. */
    public enum Type {
        /** Type 1: RAM the kernel may use. */
        AVAILABLE(1),
        /** Type 2: not to be used (the BIOS area). */
        RESERVED(2);

        private final int code;

        Type(int code) {
            this.code = code;
        }

        /** The value of the mmap entry's {@code type} field. */
        public int code() {
            return code;
        }
    }

    /** One mmap entry: {@code length} bytes at {@code base}. */
    public record Region(long base, long length, Type type) {
        public long end() {
            return base + length;
        }

        public boolean contains(long address, long size) {
            return address >= base && size >= 0 && address <= end() && size <= end() - address;
        }

        public boolean overlaps(long address, long size) {
            return size > 0 && address < end() && (address >= base || base - address < size);
        }

        @Override
        public String toString() {
            return String.format("0x%x..0x%x %s", base, end(), type);
        }
    }

    /** The map of a PC with {@code ramSize} bytes of RAM at guest-physical 0 (at least 2 MiB). */
    public static MemoryMap pc(long ramSize) {
        if (ramSize <= EXTENDED_START) {
            throw new IllegalArgumentException("a PC memory map needs RAM above 1 MiB, not " + ramSize + " bytes");
        }
        List<Region> r = new ArrayList<>();
        r.add(new Region(0, CONVENTIONAL_END, Type.AVAILABLE));
        r.add(new Region(CONVENTIONAL_END, EXTENDED_START - CONVENTIONAL_END, Type.RESERVED));
        r.add(new Region(EXTENDED_START, ramSize - EXTENDED_START, Type.AVAILABLE));
        return new MemoryMap(r);
    }

    /** mem_lower: KiB of RAM from address 0 (at most 640). */
    public long memLowerKiB() {
        return availableFrom(0) / 1024;
    }

    /** mem_upper: KiB of RAM from 1 MiB up to the first hole. */
    public long memUpperKiB() {
        return availableFrom(EXTENDED_START) / 1024;
    }

    private long availableFrom(long start) {
        long end = start;
        for (Region region : regions) {
            if (region.type() == Type.AVAILABLE && region.base() <= end && region.end() > end) {
                end = region.end();
            }
        }
        return end - start;
    }

    /** Whether {@code size} bytes at {@code address} are all inside one AVAILABLE region. */
    public boolean isAvailable(long address, long size) {
        return regions.stream().anyMatch(r -> r.type() == Type.AVAILABLE && r.contains(address, size));
    }

    /** The first region that is not RAM and overlaps the range, if any. */
    public java.util.Optional<Region> reservedOverlap(long address, long size) {
        return regions.stream().filter(r -> r.type() != Type.AVAILABLE && r.overlaps(address, size)).findFirst();
    }
}
