package dev.tdemu.emulator.elf;

import dev.tdemu.emulator.io.InputFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A parsed ELF64 x86-64 executable: its entry point and PT_LOAD segments. Only what a guest
 * image needs is read; anything that would make loading ambiguous or unsafe is refused with an
 * {@link ElfFormatException} whose message names the problem.
 */
public record ElfImage(String name, long entry, List<LoadSegment> segments, Map<String, Long> symbols) {
    private static final int EHDR_SIZE = 64;
    private static final int PHDR_SIZE = 56;
    private static final int EM_X86_64 = 62;
    private static final int ET_EXEC = 2;
    private static final int ET_DYN = 3;
    private static final int PT_LOAD = 1;
    private static final int PF_X = 1, PF_W = 2, PF_R = 4;
    private static final int SHDR_SIZE = 64;
    private static final int SHT_SYMTAB = 2;
    private static final int SYM_SIZE = 24;
    /** Guest images are small test programs; a bound keeps a hostile header from exhausting memory. */
    public static final long MAX_SEGMENT_BYTES = 1L << 30;
    /** The largest guest image file there can be: the most guest RAM a VM can have. */
    public static final long MAX_FILE_BYTES = 4L << 30;
    private static final int MAX_PHDRS = 256;
    /** Symbol and string tables beyond this are ignored, as are longer names (symbols are a convenience). */
    private static final long MAX_SYMBOL_TABLE_BYTES = 64L << 20;
    private static final int MAX_SYMBOL_NAME = 4096;

    public ElfImage {
        segments = List.copyOf(segments);
        symbols = Map.copyOf(symbols);
    }

    /** The address of a symbol from the image's symbol table. */
    public java.util.OptionalLong symbol(String name) {
        Long a = symbols.get(name);
        return a == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(a);
    }

    /** Loads a guest image file of at most {@link #MAX_FILE_BYTES} (see {@link #load(Path, long)}). */
    public static ElfImage load(Path file) throws IOException, ElfFormatException {
        return load(file, MAX_FILE_BYTES);
    }

    /**
     * Loads a guest image file for a guest with {@code guestRamBytes} of RAM. Only a regular file
     * is read (a FIFO would block, a device might never end), and only one that fits in guest
     * RAM; of it only the headers and the bytes the segments need are read.
     */
    public static ElfImage load(Path file, long guestRamBytes) throws IOException, ElfFormatException {
        Optional<String> kind = InputFiles.irregularKind(file);
        if (kind.isPresent()) {
            throw new ElfFormatException(file + ": " + kind.get() + ", not a regular file (a guest image is an ELF file)");
        }
        String name = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (Long.compareUnsigned(size, guestRamBytes) > 0) {
                throw new ElfFormatException(String.format("%s: the file is %s, larger than the guest's %s of RAM "
                        + "(a guest image must fit in guest RAM)", name, InputFiles.describeSize(size),
                        InputFiles.describeSize(guestRamBytes)));
            }
            return parse(name, new ChannelSource(name, channel, size));
        }
    }

    /** Loads a guest bundled with tdemu (the testguests module), e.g. {@code "hello"}. */
    public static ElfImage builtin(String guest) throws ElfFormatException {
        try (InputStream in = ElfImage.class.getResourceAsStream(resource(guest))) {
            if (in == null) {
                throw new ElfFormatException("no built-in guest named '" + guest + "' (see tdemu guests)");
            }
            return parse("builtin:" + guest, in.readAllBytes());
        } catch (IOException e) {
            throw new ElfFormatException("cannot read built-in guest '" + guest + "': " + e.getMessage());
        }
    }

    /** Where a built-in guest is on the class path. */
    private static String resource(String guest) {
        return "/guests/" + guest + ".elf";
    }

    /** Built-in guests copied out of a jar for a debugger, once per process. */
    private static final Map<String, Path> EXTRACTED = new ConcurrentHashMap<>();

    /**
     * The guest as a file on this machine, for a debugger to read its symbols from: the path
     * itself (absolute), or a built-in guest's file; when that is inside a jar, a temporary copy
     * (deleted at exit). Empty when there is no such file.
     */
    public static Optional<Path> file(String guest) {
        if (!guest.startsWith("builtin:")) {
            Path p = Path.of(guest).toAbsolutePath().normalize();
            return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
        }
        String name = guest.substring(8);
        URL url = ElfImage.class.getResource(resource(name));
        if (url == null) {
            return Optional.empty();
        }
        try {
            if (url.getProtocol().equals("file")) {
                return Optional.of(Path.of(url.toURI()));
            }
            return Optional.of(EXTRACTED.computeIfAbsent(name, n -> {
                try (InputStream in = url.openStream()) {
                    Path tmp = Files.createTempFile("tdemu-" + n.replace('/', '-') + "-", ".elf"); // multiboot/NAME: a PC kernel
                    tmp.toFile().deleteOnExit();
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    return tmp;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }));
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Names of the guests bundled with tdemu. */
    public static List<String> builtinNames() {
        try (InputStream in = ElfImage.class.getResourceAsStream("/guests/index.txt")) {
            if (in == null) {
                return List.of();
            }
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Parses an image held in memory (a built-in guest, a test's bytes). */
    public static ElfImage parse(String name, byte[] bytes) throws ElfFormatException {
        try {
            return parse(name, new ArraySource(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // an array cannot fail to read
        }
    }

    /**
     * The image's bytes, read where the headers point: the ELF header first, then the program
     * headers, then only the bytes the segments (and the symbol table) need, so a file's size
     * never decides how much is read.
     */
    private interface Source {
        long size();

        /** {@code length} bytes at {@code offset}, little-endian; the caller checked they lie inside the file. */
        ByteBuffer read(long offset, int length) throws IOException;
    }

    private record ArraySource(byte[] bytes) implements Source {
        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public ByteBuffer read(long offset, int length) {
            return ByteBuffer.wrap(bytes, (int) offset, length).slice().order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    private record ChannelSource(String name, FileChannel channel, long size) implements Source {
        @Override
        public ByteBuffer read(long offset, int length) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
            for (long at = offset; b.hasRemaining(); ) {
                int n = channel.read(b, at);
                if (n < 0) {
                    throw new IOException(name + ": the file got shorter while it was being read");
                }
                at += n;
            }
            return b.flip();
        }
    }

    /**
     * Whether {@code length} bytes at {@code offset} lie inside a file of {@code size} bytes, all
     * three unsigned: no sum is formed, so no header value can overflow its way past the check.
     */
    static boolean inside(long offset, long length, long size) {
        return Long.compareUnsigned(offset, size) <= 0 && Long.compareUnsigned(length, size - offset) <= 0;
    }

    /** A PT_LOAD segment as its program header describes it, checked before any of its bytes are read. */
    private record Planned(int index, int flags, long offset, long address, long fileSize, long memorySize) {
        long end() {
            return address + memorySize;
        }
    }

    private static ElfImage parse(String name, Source src) throws IOException, ElfFormatException {
        long size = src.size();
        ByteBuffer h = src.read(0, (int) Math.min(size, EHDR_SIZE));
        if (size < 4 || h.get(0) != 0x7f || h.get(1) != 'E' || h.get(2) != 'L' || h.get(3) != 'F') {
            throw new ElfFormatException(name + ": not an ELF file (bad magic)");
        }
        if (size < EHDR_SIZE) {
            throw new ElfFormatException(name + ": truncated ELF header (" + size + " of 64 bytes)");
        }
        if (h.get(4) != 2) {
            throw new ElfFormatException(name + ": not ELF64 (EI_CLASS=" + h.get(4) + "); tdemu runs x86-64 guests");
        }
        if (h.get(5) != 1) {
            throw new ElfFormatException(name + ": not little-endian (EI_DATA=" + h.get(5) + ")");
        }
        int type = Short.toUnsignedInt(h.getShort(16));
        int machine = Short.toUnsignedInt(h.getShort(18));
        if (machine != EM_X86_64) {
            throw new ElfFormatException(name + ": not an x86-64 ELF (e_machine=" + machine + ")");
        }
        if (type == ET_DYN) {
            throw new ElfFormatException(name + ": position-independent (ET_DYN) images are not supported; link with -static and a fixed address");
        }
        if (type != ET_EXEC) {
            throw new ElfFormatException(name + ": not an executable (e_type=" + type + ")");
        }
        long entry = h.getLong(24);
        long phoff = h.getLong(32);
        int phentsize = Short.toUnsignedInt(h.getShort(54));
        int phnum = Short.toUnsignedInt(h.getShort(56));
        if (phnum == 0) {
            throw new ElfFormatException(name + ": no program headers");
        }
        if (phnum > MAX_PHDRS) {
            throw new ElfFormatException(name + ": too many program headers (" + phnum + ")");
        }
        if (phentsize != PHDR_SIZE) {
            throw new ElfFormatException(name + ": unexpected program header size " + phentsize);
        }
        if (!inside(phoff, (long) phnum * PHDR_SIZE, size)) {
            throw new ElfFormatException(String.format("%s: truncated program header table: %d entries of %d bytes at "
                    + "offset 0x%x do not fit in the file (%d bytes)", name, phnum, PHDR_SIZE, phoff, size));
        }
        ByteBuffer ph = src.read(phoff, phnum * PHDR_SIZE);
        List<Planned> planned = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int p = i * PHDR_SIZE;
            if (ph.getInt(p) != PT_LOAD) {
                continue;
            }
            Planned seg = new Planned(i, ph.getInt(p + 4), ph.getLong(p + 8), ph.getLong(p + 16), ph.getLong(p + 32),
                    ph.getLong(p + 40));
            String what = name + ": segment " + i;
            if (seg.memorySize() == 0) {
                continue;
            }
            if (Long.compareUnsigned(seg.fileSize(), seg.memorySize()) > 0) {
                throw new ElfFormatException(what + " has more file bytes (" + Long.toUnsignedString(seg.fileSize())
                        + ") than memory bytes (" + Long.toUnsignedString(seg.memorySize()) + ")");
            }
            if (Long.compareUnsigned(seg.memorySize(), MAX_SEGMENT_BYTES) > 0) {
                throw new ElfFormatException(what + " is too large (" + Long.toUnsignedString(seg.memorySize()) + " bytes)");
            }
            if (!inside(seg.offset(), seg.fileSize(), size)) {
                throw new ElfFormatException(what + " is truncated: file bytes 0x" + Long.toHexString(seg.offset()) + "+0x"
                        + Long.toHexString(seg.fileSize()) + " lie beyond the end of the file (" + size + " bytes)");
            }
            // The segment must end at or below 2^64 - 1: an end of exactly 2^64 would read as 0.
            if (Long.compareUnsigned(seg.address(), -seg.memorySize()) >= 0) {
                throw new ElfFormatException(what + " wraps around the address space");
            }
            planned.add(seg);
        }
        if (planned.isEmpty()) {
            throw new ElfFormatException(name + ": no loadable (PT_LOAD) segments");
        }
        planned.sort(Comparator.comparing(Planned::address, Long::compareUnsigned));
        for (int i = 1; i < planned.size(); i++) {
            Planned prev = planned.get(i - 1), cur = planned.get(i);
            if (Long.compareUnsigned(cur.address(), prev.end()) < 0) {
                throw new ElfFormatException(String.format("%s: overlapping segments 0x%x..0x%x and 0x%x..0x%x",
                        name, prev.address(), prev.end(), cur.address(), cur.end()));
            }
        }
        if (planned.stream().noneMatch(s -> (s.flags() & PF_X) != 0 && Long.compareUnsigned(entry, s.address()) >= 0
                && Long.compareUnsigned(entry, s.end()) < 0)) {
            throw new ElfFormatException(String.format("%s: entry point 0x%x is not inside an executable segment", name, entry));
        }
        long fileBytes = planned.stream().mapToLong(Planned::fileSize).sum(); // each at most 1 GiB, at most 256
        long heap = Runtime.getRuntime().maxMemory();
        if (fileBytes > heap / 2) {
            throw new ElfFormatException(name + ": its segments hold " + InputFiles.describeSize(fileBytes)
                    + " of file data, more than this JVM can load (" + InputFiles.describeSize(heap)
                    + " of heap; raise -Xmx)");
        }
        List<LoadSegment> segments = new ArrayList<>();
        for (Planned s : planned) {
            byte[] data = new byte[(int) s.fileSize()];
            if (data.length > 0) {
                src.read(s.offset(), data.length).get(data);
            }
            segments.add(new LoadSegment(s.address(), s.memorySize(), data, (s.flags() & PF_R) != 0,
                    (s.flags() & PF_W) != 0, (s.flags() & PF_X) != 0));
        }
        return new ElfImage(name, entry, segments, readSymbols(src, h));
    }

    /**
     * Named symbols of the SHT_SYMTAB section, if the image has one. Symbols are a convenience for
     * tests and debuggers, so a missing, damaged or oversized table yields no symbols rather than
     * an error.
     */
    private static Map<String, Long> readSymbols(Source src, ByteBuffer header) throws IOException {
        Map<String, Long> out = new HashMap<>();
        long size = src.size();
        long shoff = header.getLong(40);
        int shentsize = Short.toUnsignedInt(header.getShort(58));
        int shnum = Short.toUnsignedInt(header.getShort(60));
        if (shoff == 0 || shentsize != SHDR_SIZE || shnum == 0 || !inside(shoff, (long) shnum * SHDR_SIZE, size)) {
            return out;
        }
        ByteBuffer sh = src.read(shoff, shnum * SHDR_SIZE);
        for (int i = 0; i < shnum; i++) {
            int at = i * SHDR_SIZE;
            if (sh.getInt(at + 4) != SHT_SYMTAB) {
                continue;
            }
            long symOff = sh.getLong(at + 24), symSize = sh.getLong(at + 32);
            long link = Integer.toUnsignedLong(sh.getInt(at + 40));
            if (link >= shnum || !inside(symOff, symSize, size) || symSize > MAX_SYMBOL_TABLE_BYTES) {
                return out;
            }
            int strAt = (int) link * SHDR_SIZE;
            long strOff = sh.getLong(strAt + 24), strSize = sh.getLong(strAt + 32);
            if (!inside(strOff, strSize, size) || strSize > MAX_SYMBOL_TABLE_BYTES) {
                return out;
            }
            ByteBuffer syms = src.read(symOff, (int) symSize);
            ByteBuffer strs = src.read(strOff, (int) strSize);
            for (int sym = 0; sym + SYM_SIZE <= symSize; sym += SYM_SIZE) {
                long nameIndex = Integer.toUnsignedLong(syms.getInt(sym));
                long value = syms.getLong(sym + 8);
                if (nameIndex == 0 || nameIndex >= strSize) {
                    continue;
                }
                int start = (int) nameIndex, end = start;
                int limit = (int) Math.min(strSize, start + (long) MAX_SYMBOL_NAME);
                while (end < limit && strs.get(end) != 0) {
                    end++;
                }
                if (end == limit && (end == strSize || strs.get(end) != 0)) {
                    continue; // no terminating NUL (damaged) or an absurdly long name
                }
                byte[] nameBytes = new byte[end - start];
                strs.get(start, nameBytes);
                out.putIfAbsent(new String(nameBytes, StandardCharsets.UTF_8), value);
            }
        }
        return out;
    }

    /** The lowest and highest (exclusive) addresses the image occupies. */
    public long lowestAddress() {
        return segments.getFirst().address();
    }

    public long highestAddress() {
        return segments.stream().mapToLong(LoadSegment::end).max().orElseThrow();
    }
}
