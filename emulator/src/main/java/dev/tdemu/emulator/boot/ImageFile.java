package dev.tdemu.emulator.boot;

import dev.tdemu.emulator.machine.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * A kernel or module file read with positional reads: only the bytes a header or segment needs,
 * each read checked against the file's size so that a truncated file is a clear error. The file
 * is checked (regular file, not larger than guest RAM) before it is opened, so a FIFO or device
 * never blocks and a huge file is never read.
 */
final class ImageFile implements AutoCloseable {
    /** Modules are copied into guest RAM through a buffer of this size. */
    private static final int COPY_CHUNK = 1 << 20;

    private final Path path;
    private final String name;
    private final FileChannel channel;
    private final long size;

    private ImageFile(Path path, FileChannel channel, long size) {
        this.path = path;
        this.name = path.toString();
        this.channel = channel;
        this.size = size;
    }

    /**
     * Opens {@code path} as the {@code role} ("kernel", "module") of a guest with {@code ramSize}
     * bytes of RAM, refusing what cannot be loaded before reading a byte.
     */
    static ImageFile open(Path path, String role, long ramSize) throws MultibootException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new MultibootException(path + ": " + role + " file not found");
        } catch (IOException e) {
            throw new MultibootException(path + ": cannot read the " + role + " file: " + e.getMessage());
        }
        if (!attrs.isRegularFile()) {
            String kind = attrs.isDirectory() ? "a directory" : "not a regular file (a device, FIFO or socket)";
            throw new MultibootException(path + ": the " + role + " is " + kind);
        }
        if (attrs.size() > ramSize) {
            throw new MultibootException(String.format("%s: the %s file (%d bytes) is larger than guest RAM (%d bytes)",
                    path, role, attrs.size(), ramSize));
        }
        try {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            return new ImageFile(path, ch, attrs.size());
        } catch (IOException e) {
            throw new MultibootException(path + ": cannot open the " + role + " file: " + e.getMessage());
        }
    }

    Path path() {
        return path;
    }

    String name() {
        return name;
    }

    long size() {
        return size;
    }

    /** Whether {@code length} bytes at {@code offset} lie inside the file (overflow-safe). */
    boolean contains(long offset, long length) {
        return offset >= 0 && length >= 0 && offset <= size && length <= size - offset;
    }

    /** Reads exactly {@code length} bytes at {@code offset}; {@code what} names them in an error. */
    byte[] read(long offset, int length, String what) throws MultibootException {
        requireInside(offset, length, what);
        ByteBuffer buf = ByteBuffer.allocate(length);
        readFully(buf, offset, what);
        return buf.array();
    }

    /** Reads the start of the file: up to {@code max} bytes, fewer if the file is shorter. */
    byte[] readHead(int max) throws MultibootException {
        return read(0, (int) Math.min(max, size), "the file's first bytes");
    }

    /** Copies {@code length} file bytes at {@code offset} to guest-physical {@code address}. */
    void copyTo(GuestMemory mem, long address, long offset, long length, String what) throws MultibootException {
        if (length == 0) {
            return;
        }
        requireInside(offset, length, what);
        byte[] chunk = new byte[(int) Math.min(COPY_CHUNK, length)];
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(chunk.length, length - done);
            ByteBuffer buf = ByteBuffer.wrap(chunk, 0, n);
            readFully(buf, offset + done, what);
            if (n == chunk.length) {
                mem.writeBytes(address + done, chunk);
            } else {
                byte[] tail = new byte[n];
                System.arraycopy(chunk, 0, tail, 0, n);
                mem.writeBytes(address + done, tail);
            }
            done += n;
        }
    }

    void requireInside(long offset, long length, String what) throws MultibootException {
        if (!contains(offset, length)) {
            throw new MultibootException(String.format(
                    "%s: the file is truncated: %s needs bytes 0x%x..0x%x, but the file has only %d bytes",
                    name, what, offset, offset + length, size));
        }
    }

    private void readFully(ByteBuffer buf, long offset, String what) throws MultibootException {
        try {
            long pos = offset;
            while (buf.hasRemaining()) {
                int n = channel.read(buf, pos);
                if (n < 0) {
                    throw new MultibootException(String.format(
                            "%s: the file ended at byte %d while reading %s (did it shrink while tdemu read it?)",
                            name, pos, what));
                }
                pos += n;
            }
        } catch (IOException e) {
            throw new MultibootException(name + ": cannot read " + what + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Read-only channel: nothing was written that a failed close could lose.
        }
    }
}
