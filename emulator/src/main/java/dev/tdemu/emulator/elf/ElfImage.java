package dev.tdemu.emulator.elf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A parsed ELF64 x86-64 executable: its entry point and PT_LOAD segments. Only what a guest
 * image needs is read; anything that would make loading ambiguous or unsafe is refused with an
 * {@link ElfFormatException} whose message names the problem.
 */
public record ElfImage(String name, long entry, List<LoadSegment> segments, java.util.Map<String, Long> symbols) {
    private static final int EHDR_SIZE = 64;
    private static final int PHDR_SIZE = 56;
    private static final int EM_X86_64 = 62;
    private static final int ET_EXEC = 2;
    private static final int ET_DYN = 3;
    private static final int PT_LOAD = 1;
    private static final int PF_X = 1, PF_W = 2, PF_R = 4;
    /** Guest images are small test programs; a bound keeps a hostile header from exhausting memory. */
    public static final long MAX_SEGMENT_BYTES = 1L << 30;
    private static final int MAX_PHDRS = 256;

    public ElfImage {
        segments = List.copyOf(segments);
        symbols = java.util.Map.copyOf(symbols);
    }

    /** The address of a symbol from the image's symbol table. */
    public java.util.OptionalLong symbol(String name) {
        Long a = symbols.get(name);
        return a == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(a);
    }

    public static ElfImage load(Path file) throws IOException, ElfFormatException {
        return parse(file.getFileName().toString(), Files.readAllBytes(file));
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
                    Path tmp = Files.createTempFile("tdemu-" + n + "-", ".elf");
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

    public static ElfImage parse(String name, byte[] bytes) throws ElfFormatException {
        if (bytes.length < 4 || bytes[0] != 0x7f || bytes[1] != 'E' || bytes[2] != 'L' || bytes[3] != 'F') {
            throw new ElfFormatException(name + ": not an ELF file (bad magic)");
        }
        if (bytes.length < EHDR_SIZE) {
            throw new ElfFormatException(name + ": truncated ELF header (" + bytes.length + " of 64 bytes)");
        }
        if (bytes[4] != 2) {
            throw new ElfFormatException(name + ": not ELF64 (EI_CLASS=" + bytes[4] + "); tdemu runs x86-64 guests");
        }
        if (bytes[5] != 1) {
            throw new ElfFormatException(name + ": not little-endian (EI_DATA=" + bytes[5] + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int type = Short.toUnsignedInt(b.getShort(16));
        int machine = Short.toUnsignedInt(b.getShort(18));
        if (machine != EM_X86_64) {
            throw new ElfFormatException(name + ": not an x86-64 ELF (e_machine=" + machine + ")");
        }
        if (type == ET_DYN) {
            throw new ElfFormatException(name + ": position-independent (ET_DYN) images are not supported; link with -static and a fixed address");
        }
        if (type != ET_EXEC) {
            throw new ElfFormatException(name + ": not an executable (e_type=" + type + ")");
        }
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        int phentsize = Short.toUnsignedInt(b.getShort(54));
        int phnum = Short.toUnsignedInt(b.getShort(56));
        if (phnum == 0) {
            throw new ElfFormatException(name + ": no program headers");
        }
        if (phnum > MAX_PHDRS) {
            throw new ElfFormatException(name + ": too many program headers (" + phnum + ")");
        }
        if (phentsize != PHDR_SIZE) {
            throw new ElfFormatException(name + ": unexpected program header size " + phentsize);
        }
        if (phoff < 0 || phoff > bytes.length || (long) phnum * PHDR_SIZE > bytes.length - phoff) {
            throw new ElfFormatException(name + ": truncated program header table (needs bytes up to "
                    + Long.toUnsignedString(phoff + (long) phnum * PHDR_SIZE) + ", file has " + bytes.length + ")");
        }
        List<LoadSegment> segments = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int p = (int) (phoff + (long) i * PHDR_SIZE);
            if (b.getInt(p) != PT_LOAD) {
                continue;
            }
            int flags = b.getInt(p + 4);
            long offset = b.getLong(p + 8);
            long vaddr = b.getLong(p + 16);
            long filesz = b.getLong(p + 32);
            long memsz = b.getLong(p + 40);
            String seg = name + ": segment " + i;
            if (memsz == 0) {
                continue;
            }
            if (Long.compareUnsigned(filesz, memsz) > 0) {
                throw new ElfFormatException(seg + " has more file bytes (" + filesz + ") than memory bytes (" + memsz + ")");
            }
            if (Long.compareUnsigned(memsz, MAX_SEGMENT_BYTES) > 0) {
                throw new ElfFormatException(seg + " is too large (" + Long.toUnsignedString(memsz) + " bytes)");
            }
            if (Long.compareUnsigned(offset, bytes.length) > 0 || Long.compareUnsigned(filesz, bytes.length - offset) > 0) {
                throw new ElfFormatException(seg + " is truncated: file bytes 0x" + Long.toHexString(offset) + "+0x"
                        + Long.toHexString(filesz) + " lie beyond the end of the file (" + bytes.length + " bytes)");
            }
            if (Long.compareUnsigned(vaddr + memsz, vaddr) < 0) {
                throw new ElfFormatException(seg + " wraps around the address space");
            }
            byte[] data = new byte[(int) filesz];
            System.arraycopy(bytes, (int) offset, data, 0, (int) filesz);
            segments.add(new LoadSegment(vaddr, memsz, data, (flags & PF_R) != 0, (flags & PF_W) != 0, (flags & PF_X) != 0));
        }
        if (segments.isEmpty()) {
            throw new ElfFormatException(name + ": no loadable (PT_LOAD) segments");
        }
        segments.sort(Comparator.comparing(LoadSegment::address, Long::compareUnsigned));
        for (int i = 1; i < segments.size(); i++) {
            LoadSegment prev = segments.get(i - 1), cur = segments.get(i);
            if (Long.compareUnsigned(cur.address(), prev.end()) < 0) {
                throw new ElfFormatException(String.format("%s: overlapping segments 0x%x..0x%x and 0x%x..0x%x",
                        name, prev.address(), prev.end(), cur.address(), cur.end()));
            }
        }
        if (segments.stream().noneMatch(s -> s.executable() && s.contains(entry))) {
            throw new ElfFormatException(String.format("%s: entry point 0x%x is not inside an executable segment", name, entry));
        }
        return new ElfImage(name, entry, segments, readSymbols(b, bytes.length));
    }

    /**
     * Named symbols of the SHT_SYMTAB section, if the image has one. Symbols are a convenience for
     * tests and debuggers, so a missing or damaged table yields no symbols rather than an error.
     */
    private static java.util.Map<String, Long> readSymbols(ByteBuffer b, int fileLength) {
        java.util.Map<String, Long> out = new java.util.HashMap<>();
        try {
            long shoff = b.getLong(40);
            int shentsize = Short.toUnsignedInt(b.getShort(58));
            int shnum = Short.toUnsignedInt(b.getShort(60));
            if (shoff <= 0 || shentsize != 64 || shnum == 0 || shoff + (long) shnum * 64 > fileLength) {
                return out;
            }
            for (int i = 0; i < shnum; i++) {
                int sh = (int) (shoff + 64L * i);
                if (b.getInt(sh + 4) != 2) { // SHT_SYMTAB
                    continue;
                }
                long symOff = b.getLong(sh + 24), symSize = b.getLong(sh + 32);
                int link = b.getInt(sh + 40);
                if (link < 0 || link >= shnum || symOff < 0 || symSize < 0 || symOff + symSize > fileLength) {
                    return out;
                }
                int strSh = (int) (shoff + 64L * link);
                long strOff = b.getLong(strSh + 24), strSize = b.getLong(strSh + 32);
                if (strOff < 0 || strSize < 0 || strOff + strSize > fileLength) {
                    return out;
                }
                for (long at = symOff; at + 24 <= symOff + symSize; at += 24) {
                    int nameIndex = b.getInt((int) at);
                    long value = b.getLong((int) at + 8);
                    if (nameIndex <= 0 || nameIndex >= strSize) {
                        continue;
                    }
                    int start = (int) (strOff + nameIndex), end = start;
                    while (end < strOff + strSize && b.get(end) != 0) {
                        end++;
                    }
                    byte[] nameBytes = new byte[end - start];
                    b.get(start, nameBytes);
                    out.putIfAbsent(new String(nameBytes, java.nio.charset.StandardCharsets.UTF_8), value);
                }
            }
        } catch (IndexOutOfBoundsException e) {
            out.clear();
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
