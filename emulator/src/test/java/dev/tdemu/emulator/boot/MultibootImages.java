package dev.tdemu.emulator.boot;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Multiboot kernels for the tests: the gas-built guests of testguests (guests/multiboot/) copied
 * to files, and small images built byte by byte for the cases a linker would not produce.
 */
final class MultibootImages {
    static final int MAGIC = 0x1BADB002;

    private MultibootImages() {
    }

    /** A built guest from testguests' guests/multiboot/ written to {@code dir}. */
    static Path guest(Path dir, String file) {
        try (InputStream in = MultibootImages.class.getResourceAsStream("/guests/multiboot/" + file)) {
            if (in == null) {
                throw new IllegalStateException("test guest guests/multiboot/" + file + " missing: build testguests");
            }
            Path p = dir.resolve(file);
            Files.write(p, in.readAllBytes());
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path write(Path dir, String name, byte[] bytes) {
        try {
            return Files.write(dir.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** magic, flags, checksum (right unless {@code checksumError} is non-zero), then {@code fields}. */
    static byte[] header(int flags, int checksumError, long... fields) {
        ByteBuffer b = le(12 + 4 * fields.length);
        b.putInt(MAGIC).putInt(flags).putInt(-(MAGIC + flags) + checksumError);
        for (long f : fields) {
            b.putInt((int) f);
        }
        return b.array();
    }

    /**
     * A flat a.out-kludge kernel of {@code fileSize} bytes whose header is at {@code headerOffset}
     * and whose text starts at the file's first byte ({@code header_addr = loadAddr + headerOffset}).
     * Every byte outside the header is {@code fill}.
     */
    static byte[] aout(int fileSize, int headerOffset, int flags, long loadAddr, long loadEndAddr, long bssEndAddr,
                       long entryAddr, byte fill) {
        byte[] file = new byte[fileSize];
        java.util.Arrays.fill(file, fill);
        byte[] h = header(flags | 0x10000, 0, loadAddr + headerOffset, loadAddr, loadEndAddr, bssEndAddr, entryAddr);
        System.arraycopy(h, 0, file, headerOffset, h.length);
        return file;
    }

    /** One PT_LOAD: {@code data} goes to physical {@code paddr}, zeroed up to {@code memsz}. */
    record Seg(long vaddr, long paddr, byte[] data, long memsz) {
        static Seg at(long address, byte[] data, long memsz) {
            return new Seg(address, address, data, memsz);
        }
    }

    /**
     * An ELF32 or ELF64 executable for x86 with the multiboot header (flags {@code mbFlags}) at
     * file offset 0x100 and segment i's bytes at file offset 0x1000 * (i + 1).
     */
    static byte[] elf(boolean is64, long entry, int mbFlags, List<Seg> segs) {
        int ehsize = is64 ? 64 : 52, phentsize = is64 ? 56 : 32;
        int size = 0x1000 * (segs.size() + 1);
        ByteBuffer b = le(size);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) (is64 ? 2 : 1), 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) (is64 ? 62 : 3)).putInt(20, 1);
        if (is64) {
            b.putLong(24, entry).putLong(32, ehsize).putShort(52, (short) ehsize).putShort(54, (short) phentsize)
                    .putShort(56, (short) segs.size());
        } else {
            b.putInt(24, (int) entry).putInt(28, ehsize).putShort(40, (short) ehsize).putShort(42, (short) phentsize)
                    .putShort(44, (short) segs.size());
        }
        for (int i = 0; i < segs.size(); i++) {
            Seg s = segs.get(i);
            int p = ehsize + i * phentsize;
            long off = 0x1000L * (i + 1);
            if (is64) {
                b.putInt(p, 1).putInt(p + 4, 7).putLong(p + 8, off).putLong(p + 16, s.vaddr()).putLong(p + 24, s.paddr())
                        .putLong(p + 32, s.data().length).putLong(p + 40, s.memsz()).putLong(p + 48, 0x1000);
            } else {
                b.putInt(p, 1).putInt(p + 4, (int) off).putInt(p + 8, (int) s.vaddr()).putInt(p + 12, (int) s.paddr())
                        .putInt(p + 16, s.data().length).putInt(p + 20, (int) s.memsz()).putInt(p + 24, 7)
                        .putInt(p + 28, 0x1000);
            }
            b.put((int) off, s.data());
        }
        b.put(0x100, header(mbFlags, 0));
        return b.array();
    }

    static byte[] bytes(int n, int value) {
        byte[] a = new byte[n];
        java.util.Arrays.fill(a, (byte) value);
        return a;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
