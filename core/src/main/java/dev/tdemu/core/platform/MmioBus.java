package dev.tdemu.core.platform;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Guest-physical addresses outside RAM: MMIO devices registered by range. An access no device
 * claims reads all-ones and ignores writes (a PC's unclaimed bus cycles), reported once per 4 KiB
 * page to the {@link Unclaimed} listener.
 */
public final class MmioBus {
    /** Told once per page the first time an access reaches a page nobody claims. */
    @FunctionalInterface
    public interface Unclaimed {
        void access(long address, int size, boolean write);
    }

    /** A device's claim on {@code [base, base + size)}. */
    public record Region(String name, long base, long size, MmioDevice device) {
        public boolean covers(long address) {
            return Long.compareUnsigned(address - base, size) < 0;
        }
    }

    private final TreeMap<Long, Region> regions = new TreeMap<>(Long::compareUnsigned);
    private final Set<Long> reportedPages = new HashSet<>();
    private final Unclaimed unclaimed;

    public MmioBus(Unclaimed unclaimed) {
        this.unclaimed = unclaimed;
    }

    public MmioBus() {
        this((address, size, write) -> { });
    }

    /** Claims {@code [base, base + size)} for {@code device}; an overlap with another region is refused. */
    public void register(String name, long base, long size, MmioDevice device) {
        if (size <= 0 || Long.compareUnsigned(base + size - 1, base) < 0) {
            throw new IllegalArgumentException(String.format("%s: 0x%x+0x%x is not a range", name, base, size));
        }
        Region r = new Region(name, base, size, device);
        var below = regions.floorEntry(base + size - 1);
        if (below != null && Long.compareUnsigned(below.getValue().base() + below.getValue().size() - 1, base) >= 0) {
            throw new IllegalArgumentException(String.format("%s: 0x%x+0x%x overlaps %s", name, base, size, below.getValue().name()));
        }
        regions.put(base, r);
    }

    /** Removes the region registered at {@code base} (a device that moves, like a relocated local APIC). */
    public void unregister(long base) {
        regions.remove(base);
    }

    public Optional<Region> region(long address) {
        var e = regions.floorEntry(address);
        return e != null && e.getValue().covers(address) ? Optional.of(e.getValue()) : Optional.empty();
    }

    public long read(long address, int size) {
        Optional<Region> r = region(address);
        if (r.isEmpty()) {
            report(address, size, false);
            return PortBus.mask(size);
        }
        return r.get().device().read(address - r.get().base(), size) & PortBus.mask(size);
    }

    public void write(long address, int size, long value) {
        Optional<Region> r = region(address);
        if (r.isEmpty()) {
            report(address, size, true);
            return;
        }
        r.get().device().write(address - r.get().base(), size, value & PortBus.mask(size));
    }

    private void report(long address, int size, boolean write) {
        if (reportedPages.add(address >>> 12)) {
            unclaimed.access(address, size, write);
        }
    }
}
