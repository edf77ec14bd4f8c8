package dev.tdemu.emulator.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * The Multiboot header of a kernel image (Multiboot Specification 0.6.96, section 3.1): where it
 * is in the file, its flags, and the optional address fields (flag bit 16, the "a.out kludge")
 * and video fields (flag bit 2).
 *
 * @param fileOffset    byte offset of the magic in the file (4-byte aligned, below 8192)
 * @param flags         the header's flags word; bits 0-15 are requirements, 16-31 optional
 * @param addressFields present when flag bit 16 is set
 * @param videoMode     present when flag bit 2 is set
 */
public record MultibootHeader(int fileOffset, int flags, Optional<AddressFields> addressFields,
                              Optional<VideoMode> videoMode) {
    public static final int MAGIC = 0x1BADB002;
    /** What the loader puts in EAX so the kernel knows a Multiboot loader started it. */
    public static final int BOOTLOADER_MAGIC = 0x2BADB002;
    /** The header must lie entirely within the first 8192 bytes of the file. */
    public static final int SEARCH_LIMIT = 8192;

    /** Bit 0: boot modules must be page (4 KiB) aligned. */
    public static final int PAGE_ALIGN_MODULES = 1;
    /** Bit 1: mem_lower/mem_upper (and the memory map if possible) must be passed. */
    public static final int MEMORY_INFO = 1 << 1;
    /** Bit 2: the kernel asks for a video mode (fields at offsets 32-47). */
    public static final int VIDEO_MODE = 1 << 2;
    /** Bit 16: the address fields at offsets 12-31 are valid and say where to load the image. */
    public static final int ADDRESS_FIELDS = 1 << 16;
    /** Bits 0-15 are requirements: a loader that does not know one must refuse the image. */
    static final int REQUIREMENT_BITS = 0xFFFF;
    /** The requirements this loader fulfils (bit 0: modules are always page-aligned; bit 1: memory info is always passed). */
    static final int SUPPORTED_REQUIREMENTS = PAGE_ALIGN_MODULES | MEMORY_INFO;

    private static final int REQUIRED_BYTES = 12;
    private static final int WITH_ADDRESS_BYTES = 32;
    private static final int WITH_VIDEO_BYTES = 48;

    public MultibootHeader {
        if (addressFields.isPresent() != ((flags & ADDRESS_FIELDS) != 0)) {
            throw new IllegalArgumentException("address fields are present exactly when flag bit 16 is set");
        }
        if (videoMode.isPresent() != ((flags & VIDEO_MODE) != 0)) {
            throw new IllegalArgumentException("video fields are present exactly when flag bit 2 is set");
        }
    }

    /**
     * The a.out-kludge fields, all physical addresses (u32): {@code headerAddr} is where the magic
     * itself lands, {@code loadAddr} the start of the text; {@code loadEndAddr} 0 means "to the end
     * of the file", {@code bssEndAddr} 0 means "no bss".
     */
    public record AddressFields(long headerAddr, long loadAddr, long loadEndAddr, long bssEndAddr, long entryAddr) {
    }

    /** The preferred video mode: {@code modeType} 0 linear graphics, 1 EGA text. */
    public record VideoMode(long modeType, long width, long height, long depth) {
    }

    public boolean has(int flag) {
        return (flags & flag) == flag;
    }

    /**
     * Finds the header in the start of a file: the first 4-byte aligned magic whose checksum is
     * right (magic + flags + checksum == 0 mod 2^32), as GRUB and QEMU do; a magic with a wrong
     * checksum and no good one after it is reported with its offset.
     *
     * @param head the first {@code min(8192, file size)} bytes of the file
     */
    public static MultibootHeader find(String name, byte[] head) throws MultibootException {
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        int limit = Math.min(head.length, SEARCH_LIMIT);
        int badChecksumAt = -1;
        int badSum = 0;
        for (int off = 0; off + REQUIRED_BYTES <= limit; off += 4) {
            if (b.getInt(off) != MAGIC) {
                continue;
            }
            int flags = b.getInt(off + 4);
            int sum = MAGIC + flags + b.getInt(off + 8);
            if (sum == 0) {
                return parseAt(name, b, off, flags, limit);
            }
            if (badChecksumAt < 0) {
                badChecksumAt = off;
                badSum = sum;
            }
        }
        if (badChecksumAt >= 0) {
            throw new MultibootException(String.format(
                    "%s: the multiboot header at file offset 0x%x has a bad checksum (magic + flags + checksum = 0x%08x, not 0)",
                    name, badChecksumAt, badSum));
        }
        throw new MultibootException(String.format(
                "%s: not a multiboot kernel: no header (magic 0x%08X at a 4-byte aligned offset) in the first %d bytes",
                name, MAGIC, limit));
    }

    private static MultibootHeader parseAt(String name, ByteBuffer b, int off, int flags, int limit)
            throws MultibootException {
        int needed = (flags & VIDEO_MODE) != 0 ? WITH_VIDEO_BYTES
                : (flags & ADDRESS_FIELDS) != 0 ? WITH_ADDRESS_BYTES : REQUIRED_BYTES;
        if (off + needed > limit) {
            throw new MultibootException(String.format(
                    "%s: the multiboot header at file offset 0x%x is cut off: its flags 0x%08x need %d bytes, "
                            + "but only %d remain in the first %d bytes of the file",
                    name, off, flags, needed, limit - off, SEARCH_LIMIT));
        }
        Optional<AddressFields> address = Optional.empty();
        if ((flags & ADDRESS_FIELDS) != 0) {
            address = Optional.of(new AddressFields(u32(b, off + 12), u32(b, off + 16), u32(b, off + 20),
                    u32(b, off + 24), u32(b, off + 28)));
        }
        Optional<VideoMode> video = Optional.empty();
        if ((flags & VIDEO_MODE) != 0) {
            video = Optional.of(new VideoMode(u32(b, off + 32), u32(b, off + 36), u32(b, off + 40), u32(b, off + 44)));
        }
        return new MultibootHeader(off, flags, address, video);
    }

    /**
     * Refuses the image if it requires what this loader cannot give: a video mode (tdemu has no
     * display) or any requirement bit (0-15) the specification did not define when this loader
     * was written. Optional bits 16-31 other than 16 are ignored, as the specification allows.
     */
    public void checkSupported(String name) throws MultibootException {
        if (has(VIDEO_MODE)) {
            throw new MultibootException(String.format(
                    "%s: the kernel requires a video mode (multiboot header flag bit 2, flags 0x%08x); tdemu has no display",
                    name, flags));
        }
        int unknown = flags & REQUIREMENT_BITS & ~SUPPORTED_REQUIREMENTS;
        if (unknown != 0) {
            throw new MultibootException(String.format(
                    "%s: the kernel requires features this loader does not support (multiboot header flag bits 0x%04x of 0x%08x)",
                    name, unknown, flags));
        }
    }

    private static long u32(ByteBuffer b, int off) {
        return Integer.toUnsignedLong(b.getInt(off));
    }
}
