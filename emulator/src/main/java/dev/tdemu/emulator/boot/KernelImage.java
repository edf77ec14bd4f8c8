package dev.tdemu.emulator.boot;

import java.util.Comparator;
import java.util.List;

/**
 * Where a kernel's bytes go and where it starts, before anything is written to guest memory.
 *
 * @param format   how the layout was read
 * @param entry    guest-physical address of the first instruction (32-bit protected mode)
 * @param segments sorted by address, non-empty
 */
public record KernelImage(Format format, long entry, List<KernelSegment> segments) {

    /** Where the load layout came from. */
    public enum Format {
        /** ELF32 program headers (kvm-unit-tests' .flat files). */
        ELF32,
        /** ELF64 program headers. */
        ELF64,
        /** The multiboot header's address fields (flag bit 16), which win over any ELF headers. */
        AOUT_KLUDGE
    }

    public KernelImage {
        if (segments.isEmpty()) {
            throw new IllegalArgumentException("a kernel has at least one segment");
        }
        segments = segments.stream().sorted(Comparator.comparingLong(KernelSegment::address)).toList();
    }

    /** First address past the highest loaded byte (bss included). */
    public long end() {
        return segments.stream().mapToLong(KernelSegment::end).max().orElseThrow();
    }

    /**
     * The layout the a.out kludge describes (specification 3.1.3): the file from offset
     * {@code headerOffset - (header_addr - load_addr)} is loaded at load_addr up to load_end_addr
     * (0: to the end of the file), then zeroed up to bss_end_addr (0: no bss).
     */
    static KernelImage fromAddressFields(String name, MultibootHeader header, long fileSize) throws MultibootException {
        MultibootHeader.AddressFields a = header.addressFields().orElseThrow();
        if (a.headerAddr() < a.loadAddr()) {
            throw new MultibootException(String.format(
                    "%s: multiboot header_addr 0x%x is below load_addr 0x%x (the header must lie in the loaded text)",
                    name, a.headerAddr(), a.loadAddr()));
        }
        long textOffset = header.fileOffset() - (a.headerAddr() - a.loadAddr());
        if (textOffset < 0) {
            throw new MultibootException(String.format(
                    "%s: multiboot header_addr 0x%x - load_addr 0x%x puts the text start %d bytes before the start of the file",
                    name, a.headerAddr(), a.loadAddr(), -textOffset));
        }
        long loadSize;
        if (a.loadEndAddr() == 0) {
            loadSize = fileSize - textOffset;
        } else if (a.loadEndAddr() < a.loadAddr()) {
            throw new MultibootException(String.format("%s: multiboot load_end_addr 0x%x is below load_addr 0x%x",
                    name, a.loadEndAddr(), a.loadAddr()));
        } else {
            loadSize = a.loadEndAddr() - a.loadAddr();
        }
        if (loadSize < 0 || textOffset + loadSize > fileSize) {
            throw new MultibootException(String.format(
                    "%s: the file is truncated: the multiboot address fields load bytes 0x%x..0x%x of the file, "
                            + "but it has only %d bytes", name, textOffset, textOffset + loadSize, fileSize));
        }
        long memorySize = loadSize;
        if (a.bssEndAddr() != 0) {
            if (a.bssEndAddr() < a.loadAddr() + loadSize) {
                throw new MultibootException(String.format(
                        "%s: multiboot bss_end_addr 0x%x is below the end of the loaded text and data 0x%x",
                        name, a.bssEndAddr(), a.loadAddr() + loadSize));
            }
            memorySize = a.bssEndAddr() - a.loadAddr();
        }
        if (memorySize == 0) {
            throw new MultibootException(name + ": the multiboot address fields load nothing");
        }
        KernelSegment only = new KernelSegment(a.loadAddr(), textOffset, loadSize, memorySize);
        if (a.entryAddr() < only.address() || a.entryAddr() >= only.end()) {
            throw new MultibootException(String.format("%s: multiboot entry_addr 0x%x is outside the loaded image %s",
                    name, a.entryAddr(), only));
        }
        return new KernelImage(Format.AOUT_KLUDGE, a.entryAddr(), List.of(only));
    }
}
