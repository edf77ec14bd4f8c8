package dev.tdemu.emulator.boot;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** Tells a Multiboot kernel from any other file by its header, reading at most the first 8 KiB of a regular file. */
public final class MultibootProbe {
    private MultibootProbe() {}

    /**
     * Whether {@code file} is a regular file that means to be a Multiboot kernel: the header magic
     * at a 4-byte aligned offset in its first 8 KiB. A broken header (a bad checksum, cut off) still
     * counts, so that the Multiboot loader says what is wrong with it rather than tdemu's own loader
     * taking an ELF64 kernel for one of its guests and running its 32-bit entry as 64-bit code.
     * Anything else, or a file that cannot be read, is not: the loader for what it is says why.
     */
    public static boolean isMultiboot(Path file) {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(file)) {
            ByteBuffer head = ByteBuffer.wrap(in.readNBytes(MultibootHeader.SEARCH_LIMIT)).order(ByteOrder.LITTLE_ENDIAN);
            for (int off = 0; off + 4 <= head.limit(); off += 4) {
                if (head.getInt(off) == MultibootHeader.MAGIC) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }
}
