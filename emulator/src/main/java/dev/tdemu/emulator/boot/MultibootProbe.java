package dev.tdemu.emulator.boot;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** Tells a Multiboot kernel from any other file by its header, reading at most the first 8 KiB of a regular file. */
public final class MultibootProbe {
    private MultibootProbe() {}

    /**
     * Whether {@code file} is a regular file with a Multiboot header (the magic and a checksum that
     * matches) in its first 8 KiB. Anything else, or a file that cannot be read, is not: the loader
     * for what it is then says what is wrong with it.
     */
    public static boolean isMultiboot(Path file) {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(MultibootHeader.SEARCH_LIMIT);
            MultibootHeader.find(file.toString(), head);
            return true;
        } catch (IOException | MultibootException e) {
            return false;
        }
    }
}
