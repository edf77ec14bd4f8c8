package dev.tdemu.emulator.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a kernel's load layout from its ELF program headers, ELF32 or ELF64, as a Multiboot loader
 * does: every PT_LOAD goes to its physical address {@code p_paddr}, and the virtual entry point
 * {@code e_entry} is translated through the segment that contains it. Only the ELF header and the
 * program header table are read.
 *
 * <p>The emulator's {@code elf} package reads ELF64 guests whole for its own boot path; this
 * reader exists because a Multiboot kernel is usually ELF32 (kvm-unit-tests' .flat files are
 * x86-64 code in an ELF32 wrapper) and is loaded by physical address.
 */
final class ElfKernel {
    private static final int ELFCLASS32 = 1, ELFCLASS64 = 2, ELFDATA2LSB = 1;
    private static final int ET_EXEC = 2;
    private static final int EM_386 = 3, EM_X86_64 = 62;
    private static final int PT_LOAD = 1;
    private static final int PN_XNUM = 0xFFFF;
    private static final int EHDR32_SIZE = 52, EHDR64_SIZE = 64;
    private static final int PHDR32_SIZE = 32, PHDR64_SIZE = 56;
    /** Far more than any kernel has; keeps a hostile header from making us read megabytes. */
    private static final int MAX_PHDRS = 1024;
    private static final int MAX_PHENTSIZE = 256;

    private ElfKernel() {
    }

    static boolean isElf(byte[] head) {
        return head.length >= 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F';
    }

    static KernelImage read(ImageFile file) throws MultibootException {
        String name = file.name();
        byte[] ident = file.read(0, 16, "the ELF identification");
        int elfClass = ident[4];
        if (elfClass != ELFCLASS32 && elfClass != ELFCLASS64) {
            throw new MultibootException(name + ": unknown ELF class " + elfClass + " (EI_CLASS is 1 for ELF32, 2 for ELF64)");
        }
        if (ident[5] != ELFDATA2LSB) {
            throw new MultibootException(name + ": not a little-endian ELF file (EI_DATA=" + ident[5] + ")");
        }
        boolean is64 = elfClass == ELFCLASS64;
        ByteBuffer eh = le(file.read(0, is64 ? EHDR64_SIZE : EHDR32_SIZE, "the ELF header"));
        int type = Short.toUnsignedInt(eh.getShort(16));
        int machine = Short.toUnsignedInt(eh.getShort(18));
        if (machine != EM_386 && machine != EM_X86_64) {
            throw new MultibootException(name + ": not an x86 ELF file (e_machine=" + machine + ")");
        }
        if (type != ET_EXEC) {
            throw new MultibootException(name + ": not an ELF executable (e_type=" + type
                    + "); a multiboot kernel is linked to fixed addresses (ET_EXEC)");
        }
        long entry = is64 ? eh.getLong(24) : u32(eh, 24);
        long phoff = is64 ? eh.getLong(32) : u32(eh, 28);
        int phentsize = Short.toUnsignedInt(eh.getShort(is64 ? 54 : 42));
        int phnum = Short.toUnsignedInt(eh.getShort(is64 ? 56 : 44));
        int minEntry = is64 ? PHDR64_SIZE : PHDR32_SIZE;
        if (phnum == 0) {
            throw new MultibootException(name + ": the ELF file has no program headers");
        }
        if (phnum == PN_XNUM || phnum > MAX_PHDRS) {
            throw new MultibootException(name + ": too many ELF program headers (e_phnum=" + phnum + ")");
        }
        if (phentsize < minEntry || phentsize > MAX_PHENTSIZE) {
            throw new MultibootException(name + ": ELF program header entries of " + phentsize + " bytes, expected "
                    + minEntry);
        }
        if (phoff < 0) {
            throw new MultibootException(String.format("%s: ELF program headers at offset 0x%x, beyond any file", name, phoff));
        }
        ByteBuffer ph = le(file.read(phoff, phnum * phentsize, "the ELF program header table"));

        List<KernelSegment> segments = new ArrayList<>();
        long physicalEntry = -1;
        for (int i = 0; i < phnum; i++) {
            int p = i * phentsize;
            if (ph.getInt(p) != PT_LOAD) {
                continue;
            }
            long offset = is64 ? ph.getLong(p + 8) : u32(ph, p + 4);
            long vaddr = is64 ? ph.getLong(p + 16) : u32(ph, p + 8);
            long paddr = is64 ? ph.getLong(p + 24) : u32(ph, p + 12);
            long filesz = is64 ? ph.getLong(p + 32) : u32(ph, p + 16);
            long memsz = is64 ? ph.getLong(p + 40) : u32(ph, p + 20);
            String seg = String.format("%s: ELF program header %d (PT_LOAD at physical 0x%x)", name, i, paddr);
            if (memsz == 0) {
                continue;
            }
            if (Long.compareUnsigned(filesz, memsz) > 0) {
                throw new MultibootException(String.format("%s has more file bytes (0x%x) than memory bytes (0x%x)",
                        seg, filesz, memsz));
            }
            // Negative as signed means at least 2^63: no RAM is that large, the placement check would
            // refuse it, but KernelSegment needs non-negative sizes first.
            if (paddr < 0 || memsz < 0 || Long.compareUnsigned(paddr + memsz, paddr) < 0) {
                throw new MultibootException(String.format("%s of 0x%x bytes wraps around the address space",
                        seg, memsz));
            }
            if (filesz > 0) {  // a pure-bss segment's p_offset is never read
                file.requireInside(offset, filesz, String.format("ELF program header %d (PT_LOAD at physical 0x%x)", i, paddr));
            }
            segments.add(new KernelSegment(paddr, offset, filesz, memsz));
            if (physicalEntry < 0 && Long.compareUnsigned(entry - vaddr, memsz) < 0) {
                physicalEntry = paddr + (entry - vaddr);
            }
        }
        if (segments.isEmpty()) {
            throw new MultibootException(name + ": the ELF file has no loadable (PT_LOAD) segments");
        }
        if (physicalEntry < 0) {
            throw new MultibootException(String.format("%s: the ELF entry point 0x%x is not inside any PT_LOAD segment",
                    name, entry));
        }
        return new KernelImage(is64 ? KernelImage.Format.ELF64 : KernelImage.Format.ELF32, physicalEntry, segments);
    }

    private static ByteBuffer le(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long u32(ByteBuffer b, int off) {
        return Integer.toUnsignedLong(b.getInt(off));
    }
}
