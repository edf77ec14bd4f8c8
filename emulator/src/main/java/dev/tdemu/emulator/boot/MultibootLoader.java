package dev.tdemu.emulator.boot;

import dev.tdemu.emulator.machine.GuestMemory;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A Multiboot v1 boot loader (Multiboot Specification 0.6.96) writing into guest RAM:
 * <ol>
 * <li>finds the header in the kernel's first 8192 bytes and refuses requirements it cannot meet;</li>
 * <li>takes the load layout from the a.out-kludge address fields when flag bit 16 is set (they win
 *     over ELF headers, as in GRUB and QEMU), else from the ELF32/ELF64 program headers;</li>
 * <li>checks the whole placement — segments in RAM, below 4 GiB, not overlapping each other, the
 *     reserved BIOS area or the information area; modules in RAM — before writing a byte;</li>
 * <li>copies the segments and zeroes their bss, copies each module page-aligned above the kernel
 *     (never below 1 MiB), and writes the information structure ({@link MultibootInfo}).</li>
 * </ol>
 * Header flag bit 0 (page-aligned modules) and bit 1 (memory information) are always honoured,
 * whether asked for or not.
 */
public final class MultibootLoader {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.boot");
    private static final long PAGE = GuestMemory.PAGE_SIZE;
    /** The kernel starts in 32-bit protected mode with paging off: it can reach 4 GiB, no more. */
    private static final long FOUR_GIB = 1L << 32;

    private MultibootLoader() {
    }

    public static MultibootBoot load(GuestMemory mem, MultibootRequest request) throws MultibootException {
        long ram = mem.size();
        MemoryMap map = MemoryMap.pc(ram);
        List<ImageFile> opened = new ArrayList<>();
        try (ImageFile kernel = ImageFile.open(request.kernel(), "kernel", ram)) {
            String name = kernel.name();
            byte[] head = kernel.readHead(MultibootHeader.SEARCH_LIMIT);
            MultibootHeader header = MultibootHeader.find(name, head);
            header.checkSupported(name);
            KernelImage image;
            if (header.has(MultibootHeader.ADDRESS_FIELDS)) {
                image = KernelImage.fromAddressFields(name, header, kernel.size());
            } else if (ElfKernel.isElf(head)) {
                image = ElfKernel.read(kernel);
            } else {
                throw new MultibootException(name + ": neither an ELF file nor a kernel with multiboot address fields "
                        + "(header flag bit 16), so there is no way to know where it loads");
            }
            checkPlacement(name, image, map);

            List<MultibootInfo.PlacedModule> placed = new ArrayList<>();
            long next = Math.max(MemoryMap.EXTENDED_START, alignUp(image.end()));
            for (MultibootRequest.Module m : request.modules()) {
                ImageFile file = ImageFile.open(m.file(), "module", ram);
                opened.add(file);
                long start = next;
                if (!map.isAvailable(start, file.size())) {
                    throw new MultibootException(String.format(
                            "%s: the module (%d bytes) does not fit in guest RAM: placed at 0x%x above the kernel and "
                                    + "earlier modules it would end at 0x%x, RAM ends at 0x%x",
                            file.name(), file.size(), start, start + file.size(), ram));
                }
                placed.add(new MultibootInfo.PlacedModule(file.name(), m.string(), start, start + file.size()));
                next = alignUp(start + file.size());
            }
            MultibootInfo info = MultibootInfo.plan(name, map, request.commandLine(), placed);

            for (KernelSegment s : image.segments()) {
                kernel.copyTo(mem, s.address(), s.fileOffset(), s.fileSize(), "the segment at 0x" + Long.toHexString(s.address()));
                mem.fill(s.address() + s.fileSize(), s.memorySize() - s.fileSize(), (byte) 0);
            }
            for (int i = 0; i < opened.size(); i++) {
                ImageFile f = opened.get(i);
                f.copyTo(mem, placed.get(i).start(), 0, f.size(), "the module");
            }
            List<BootModule> modules = info.write(mem);

            EntryState32 state = EntryState32.multiboot(image.entry(), MultibootInfo.INFO_ADDRESS, MultibootInfo.GDT_ADDRESS);
            MultibootBoot boot = new MultibootBoot(name, header, image, modules, request.commandLine(), map,
                    MultibootInfo.INFO_ADDRESS, state);
            if (LOG.isDebugEnabled()) {
                boot.describe().forEach(LOG::debug);
            }
            return boot;
        } finally {
            opened.forEach(ImageFile::close);
        }
    }

    /** The one place that decides where a kernel may load. */
    private static void checkPlacement(String name, KernelImage image, MemoryMap map) throws MultibootException {
        KernelSegment previous = null;
        for (KernelSegment s : image.segments()) {
            if (Long.compareUnsigned(s.address(), FOUR_GIB) >= 0 || s.memorySize() > FOUR_GIB - s.address()) {
                throw new MultibootException(String.format(
                        "%s: segment 0x%x+0x%x reaches above 4 GiB; a multiboot kernel starts with paging off and loads below 4 GiB",
                        name, s.address(), s.memorySize()));
            }
            if (overlaps(s, MultibootInfo.AREA_BASE, MultibootInfo.AREA_END)) {
                throw new MultibootException(String.format(
                        "%s: segment %s overlaps the multiboot information area 0x%x..0x%x", name, s,
                        MultibootInfo.AREA_BASE, MultibootInfo.AREA_END));
            }
            var reserved = map.reservedOverlap(s.address(), s.memorySize());
            if (reserved.isPresent()) {
                throw new MultibootException(String.format("%s: segment %s overlaps the reserved BIOS area 0x%x..0x%x",
                        name, s, reserved.get().base(), reserved.get().end()));
            }
            if (!map.isAvailable(s.address(), s.memorySize())) {
                throw new MultibootException(String.format("%s: segment %s lies outside guest RAM (0x0..0x%x)", name, s,
                        map.regions().getLast().end()));
            }
            if (previous != null && s.address() < previous.end()) {
                throw new MultibootException(String.format("%s: segments %s and %s overlap", name, previous, s));
            }
            previous = s;
        }
    }

    private static boolean overlaps(KernelSegment s, long start, long end) {
        return s.memorySize() > 0 && s.address() < end && start - s.address() < s.memorySize();
    }

    private static long alignUp(long a) {
        return (a + PAGE - 1) & -PAGE;
    }
}
