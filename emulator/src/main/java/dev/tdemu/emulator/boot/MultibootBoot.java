package dev.tdemu.emulator.boot;

import java.util.ArrayList;
import java.util.List;

/**
 * A kernel loaded by {@link MultibootLoader}: what is where in guest memory, and the state the
 * boot CPU must be put in to start it ({@link #entryState()}).
 *
 * @param kernel      the kernel file as named in the request
 * @param header      its Multiboot header
 * @param image       the kernel's segments and physical entry point
 * @param modules     boot modules in load order
 * @param commandLine the string at multiboot_info.cmdline
 * @param memoryMap   what mem_lower, mem_upper and the mmap describe
 * @param infoAddress guest-physical address of multiboot_info (EBX at entry)
 */
public record MultibootBoot(String kernel, MultibootHeader header, KernelImage image, List<BootModule> modules,
                            String commandLine, MemoryMap memoryMap, long infoAddress, EntryState32 entryState) {
    public MultibootBoot {
        modules = List.copyOf(modules);
    }

    public long entry() {
        return image.entry();
    }

    public List<KernelSegment> segments() {
        return image.segments();
    }

    /** One line per fact, for the log and for a person checking a boot by hand. */
    public List<String> describe() {
        List<String> lines = new ArrayList<>();
        lines.add(String.format("multiboot kernel %s: %s, header at file offset 0x%x, flags 0x%08x", kernel,
                image.format(), header.fileOffset(), header.flags()));
        for (KernelSegment s : image.segments()) {
            lines.add("  segment " + s);
        }
        lines.add(String.format("  entry 0x%x, multiboot_info at 0x%x (EAX=0x%08x EBX=0x%x)", image.entry(), infoAddress,
                entryState.eax(), entryState.ebx()));
        lines.add(String.format("  mem_lower %d KiB, mem_upper %d KiB, memory map %s", memoryMap.memLowerKiB(),
                memoryMap.memUpperKiB(), memoryMap.regions()));
        lines.add("  command line \"" + commandLine + "\"");
        for (BootModule m : modules) {
            lines.add(String.format("  module %s: 0x%x..0x%x (%d bytes), string \"%s\"", m.file(), m.start(), m.end(),
                    m.size(), m.string()));
        }
        return lines;
    }
}
