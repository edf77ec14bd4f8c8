package dev.tdemu.emulator.boot;

import dev.tdemu.emulator.machine.GuestMemory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The Multiboot information structure (specification 3.3) and everything it points to, all in
 * one area of conventional memory that no kernel segment may overlap:
 *
 * <pre>
 * 0x90000  multiboot_info (116 bytes, the 0.6.96 layout up to the framebuffer fields)
 * 0x90080  the entry GDT: null, flat 32-bit code 0x08, flat 32-bit data 0x10
 * 0x90100  memory map, 24 bytes per entry (size = 20, base_addr, length, type)
 * 0x90400  module structures, 16 bytes each (mod_start, mod_end, string, reserved)
 * 0x90800  strings, NUL-terminated: boot loader name, command line, module strings
 * 0x9fc00  end (the reserved BIOS area starts here)
 * </pre>
 *
 * Page 0 (kvm-unit-tests copies its SIPI trampoline there), 0x2000 (its INIT test's scratch word)
 * and 0x8000-0xdfff (its realmode.flat) stay free for the kernel.
 */
public final class MultibootInfo {
    public static final long AREA_BASE = 0x90000;
    public static final long AREA_END = MemoryMap.CONVENTIONAL_END;
    public static final long INFO_ADDRESS = AREA_BASE;
    public static final long GDT_ADDRESS = 0x90080;
    public static final long MMAP_ADDRESS = 0x90100;
    public static final long MODULES_ADDRESS = 0x90400;
    public static final long STRINGS_ADDRESS = 0x90800;
    public static final int INFO_SIZE = 116;
    public static final int MMAP_ENTRY_SIZE = 24;
    public static final int MODULE_SIZE = 16;
    public static final int MAX_MMAP_ENTRIES = (int) ((MODULES_ADDRESS - MMAP_ADDRESS) / MMAP_ENTRY_SIZE);
    public static final int MAX_MODULES = (int) ((STRINGS_ADDRESS - MODULES_ADDRESS) / MODULE_SIZE);
    public static final String BOOT_LOADER_NAME = "tdemu";

    // multiboot_info field offsets
    public static final int FLAGS = 0, MEM_LOWER = 4, MEM_UPPER = 8, BOOT_DEVICE = 12, CMDLINE = 16,
            MODS_COUNT = 20, MODS_ADDR = 24, SYMS = 28, MMAP_LENGTH = 44, MMAP_ADDR = 48, DRIVES_LENGTH = 52,
            DRIVES_ADDR = 56, CONFIG_TABLE = 60, BOOT_LOADER_NAME_FIELD = 64, APM_TABLE = 68, VBE_CONTROL_INFO = 72,
            FRAMEBUFFER_ADDR = 88;

    // multiboot_info.flags bits (MULTIBOOT_INFO_* in GRUB's multiboot.h)
    public static final int INFO_MEMORY = 1;
    public static final int INFO_CMDLINE = 1 << 2;
    public static final int INFO_MODS = 1 << 3;
    public static final int INFO_MEM_MAP = 1 << 6;
    public static final int INFO_BOOT_LOADER_NAME = 1 << 9;
    /** What tdemu always passes; mods is set with mods_count 0 too, as QEMU does. */
    public static final int FLAGS_PASSED = INFO_MEMORY | INFO_CMDLINE | INFO_MODS | INFO_MEM_MAP | INFO_BOOT_LOADER_NAME;

    private final MemoryMap memoryMap;
    private final byte[] commandLine;
    private final List<PlacedModule> modules;

    /** A module whose bytes are already placed; only its string still needs a place. */
    record PlacedModule(String file, String string, long start, long end) {
    }

    private MultibootInfo(MemoryMap memoryMap, byte[] commandLine, List<PlacedModule> modules) {
        this.memoryMap = memoryMap;
        this.commandLine = commandLine;
        this.modules = modules;
    }

    /** Checks that everything fits in the area before anything is written. */
    static MultibootInfo plan(String kernel, MemoryMap memoryMap, String commandLine, List<PlacedModule> modules)
            throws MultibootException {
        if (memoryMap.regions().size() > MAX_MMAP_ENTRIES) {
            throw new IllegalArgumentException("memory map of " + memoryMap.regions().size() + " regions");
        }
        if (modules.size() > MAX_MODULES) {
            throw new MultibootException(String.format("%s: %d boot modules, the loader has room for %d",
                    kernel, modules.size(), MAX_MODULES));
        }
        long strings = cString(kernel, "the boot loader name", BOOT_LOADER_NAME).length;
        byte[] cmdline = cString(kernel, "the command line", commandLine);
        strings += cmdline.length;
        for (PlacedModule m : modules) {
            strings += cString(kernel, "the string of module " + m.file(), m.string()).length;
        }
        if (strings > AREA_END - STRINGS_ADDRESS) {
            throw new MultibootException(String.format(
                    "%s: the command line and module strings need %d bytes; the multiboot information area has room for %d",
                    kernel, strings, AREA_END - STRINGS_ADDRESS));
        }
        return new MultibootInfo(memoryMap, cmdline, List.copyOf(modules));
    }

    private static byte[] cString(String kernel, String what, String s) throws MultibootException {
        if (s.indexOf('\0') >= 0) {
            throw new MultibootException(kernel + ": " + what + " contains a NUL character");
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[utf8.length + 1];
        System.arraycopy(utf8, 0, z, 0, utf8.length);
        return z;
    }

    /** Writes the area; returns the modules with their string addresses. */
    List<BootModule> write(GuestMemory mem) {
        mem.fill(AREA_BASE, AREA_END - AREA_BASE, (byte) 0);
        for (int i = 0; i < EntryState32.GDT.size(); i++) {
            mem.write64(GDT_ADDRESS + 8L * i, EntryState32.GDT.get(i));
        }

        long mmap = MMAP_ADDRESS;
        for (MemoryMap.Region r : memoryMap.regions()) {
            mem.write32(mmap, MMAP_ENTRY_SIZE - 4);  // size excludes the size field itself
            mem.write64(mmap + 4, r.base());
            mem.write64(mmap + 12, r.length());
            mem.write32(mmap + 20, r.type().code());
            mmap += MMAP_ENTRY_SIZE;
        }

        long next = STRINGS_ADDRESS;
        long loaderName = next;
        next = putString(mem, next, BOOT_LOADER_NAME.getBytes(StandardCharsets.UTF_8));
        long cmdline = next;
        mem.writeBytes(cmdline, commandLine);
        next += commandLine.length;
        List<BootModule> loaded = new ArrayList<>();
        for (int i = 0; i < modules.size(); i++) {
            PlacedModule m = modules.get(i);
            long string = next;
            next = putString(mem, next, m.string().getBytes(StandardCharsets.UTF_8));
            long entry = MODULES_ADDRESS + (long) i * MODULE_SIZE;
            mem.write32(entry, m.start());
            mem.write32(entry + 4, m.end());
            mem.write32(entry + 8, string);
            mem.write32(entry + 12, 0);
            loaded.add(new BootModule(m.file(), m.string(), m.start(), m.end(), string));
        }

        long info = INFO_ADDRESS;
        mem.write32(info + FLAGS, FLAGS_PASSED);
        mem.write32(info + MEM_LOWER, memoryMap.memLowerKiB());
        mem.write32(info + MEM_UPPER, Math.min(memoryMap.memUpperKiB(), 0xFFFF_FFFFL));
        mem.write32(info + CMDLINE, cmdline);
        mem.write32(info + MODS_COUNT, modules.size());
        mem.write32(info + MODS_ADDR, MODULES_ADDRESS);
        mem.write32(info + MMAP_LENGTH, (long) memoryMap.regions().size() * MMAP_ENTRY_SIZE);
        mem.write32(info + MMAP_ADDR, MMAP_ADDRESS);
        mem.write32(info + BOOT_LOADER_NAME_FIELD, loaderName);
        return loaded;
    }

    private static long putString(GuestMemory mem, long at, byte[] utf8) {
        mem.writeBytes(at, utf8);
        mem.write8(at + utf8.length, 0);
        return at + utf8.length + 1;
    }
}
