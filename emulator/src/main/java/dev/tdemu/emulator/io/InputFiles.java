package dev.tdemu.emulator.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The checks every file tdemu reads or replaces goes through first: what kind of file it is (a
 * FIFO would block the reader forever, a device may never end), whether two paths are the same
 * file (a trace must not replace the guest it traces), and bounded, strict reading of text.
 */
public final class InputFiles {
    private InputFiles() {}

    /** S_IFMT and the file types of stat(2), as the "unix:mode" attribute reports them. */
    private static final int S_IFMT = 0170000, S_IFIFO = 0010000, S_IFCHR = 0020000, S_IFDIR = 0040000,
            S_IFBLK = 0060000, S_IFSOCK = 0140000;

    /**
     * What kind of file {@code file} is when it is not a regular file ("a FIFO", "a directory",
     * "a character device", ...), following symbolic links; empty for a regular file.
     *
     * @throws NoSuchFileException when there is nothing there
     */
    public static Optional<String> irregularKind(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        if (a.isRegularFile()) {
            return Optional.empty();
        }
        if (a.isDirectory()) {
            return Optional.of("a directory");
        }
        try {
            int mode = (Integer) Files.getAttribute(file, "unix:mode");
            return Optional.of(switch (mode & S_IFMT) {
                case S_IFIFO -> "a FIFO";
                case S_IFCHR -> "a character device";
                case S_IFBLK -> "a block device";
                case S_IFSOCK -> "a socket";
                case S_IFDIR -> "a directory";
                default -> "not a regular file";
            });
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return Optional.of("not a regular file");
        }
    }

    /**
     * Refuses anything but an existing regular file, naming the path: "PATH: a FIFO, not a
     * regular file".
     */
    public static void requireRegularFile(Path file, String what) throws IOException, BadInputException {
        Optional<String> kind = irregularKind(file);
        if (kind.isPresent()) {
            throw new BadInputException(file + ": " + kind.get() + ", not a regular file (" + what + " must be one)");
        }
    }

    /**
     * Whether two paths name the same file, through symbolic and hard links alike (their file keys,
     * device and inode, are equal). A path that does not exist is no other file.
     */
    public static boolean sameFile(Path a, Path b) throws IOException {
        if (!Files.exists(a) || !Files.exists(b)) {
            return false;
        }
        Object ka = Files.readAttributes(a, BasicFileAttributes.class).fileKey();
        Object kb = Files.readAttributes(b, BasicFileAttributes.class).fileKey();
        return ka != null && kb != null ? Objects.equals(ka, kb) : Files.isSameFile(a, b);
    }

    /**
     * Reads a regular file of at most {@code maxBytes} as strict UTF-8: a binary file or one in
     * another encoding is refused with the offset of the first bad byte.
     */
    public static String readUtf8(Path file, String what, long maxBytes) throws IOException, BadInputException {
        requireRegularFile(file, what);
        byte[] bytes;
        try (SeekableByteChannel ch = Files.newByteChannel(file)) {
            long size = ch.size();
            if (size > maxBytes) {
                throw new BadInputException(file + ": " + describeSize(size) + ", more than a " + what + " may have ("
                        + describeSize(maxBytes) + ")");
            }
            ByteBuffer b = ByteBuffer.allocate((int) size);
            while (b.hasRemaining() && ch.read(b) >= 0) {
                // read it all (the size is bounded above)
            }
            bytes = b.array();
        }
        return decodeUtf8(file.toString(), bytes);
    }

    /** Strict UTF-8 decoding; the message names the first byte that is not UTF-8 and its offset. */
    public static String decodeUtf8(String where, byte[] bytes) throws BadInputException {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                throw new BadInputException(where + ": not text (a NUL byte at offset " + i + ")");
            }
        }
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        var r = d.decode(in, out, true);
        if (r.isError()) {
            int at = in.position();
            throw new BadInputException(String.format("%s: not UTF-8 text (byte 0x%02x at offset %d)", where,
                    bytes[at] & 0xFF, at));
        }
        d.flush(out);
        return out.flip().toString();
    }

    /** 64 MiB, 1.5 GiB, 300 bytes. */
    public static String describeSize(long bytes) {
        if (Long.compareUnsigned(bytes, 1L << 10) < 0) {
            return bytes + " bytes";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes < 0 ? bytes + 0x1p64 : bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? String.format(Locale.ROOT, "%d %s", (long) v, units[u])
                : String.format(Locale.ROOT, "%.1f %s", v, units[u]));
    }

}
