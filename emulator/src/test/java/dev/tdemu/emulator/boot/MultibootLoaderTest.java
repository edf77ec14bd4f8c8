package dev.tdemu.emulator.boot;

import dev.tdemu.core.x86.Segment;

import static dev.tdemu.emulator.boot.MultibootImages.Seg;
import static dev.tdemu.emulator.boot.MultibootImages.aout;
import static dev.tdemu.emulator.boot.MultibootImages.bytes;
import static dev.tdemu.emulator.boot.MultibootImages.elf;
import static dev.tdemu.emulator.boot.MultibootImages.guest;
import static dev.tdemu.emulator.boot.MultibootImages.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tdemu.emulator.machine.GuestMemory;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MultibootLoaderTest {
    private static final long MiB = 1L << 20;
    /** Guest RAM starts as this, so that "zeroed" and "left alone" can be told apart. */
    private static final byte POISON = (byte) 0xAA;

    @TempDir
    Path dir;
    private GuestMemory mem;

    @AfterEach
    void closeMemory() {
        if (mem != null) {
            mem.close();
        }
    }

    private GuestMemory ram(long size) {
        mem = new GuestMemory(size);
        mem.fill(0, size, POISON);
        return mem;
    }

    private MultibootBoot boot(long ramSize, Path kernel, String cmdline, Path... modules) throws MultibootException {
        List<MultibootRequest.Module> mods = Arrays.stream(modules)
                .map(p -> new MultibootRequest.Module(p, "mod " + p.getFileName())).toList();
        return MultibootLoader.load(ram(ramSize), new MultibootRequest(kernel, cmdline, mods));
    }

    private MultibootBoot boot(long ramSize, Path kernel) throws MultibootException {
        return boot(ramSize, kernel, "");
    }

    private String string(long address, int length) {
        return new String(mem.readBytes(address, length), StandardCharsets.US_ASCII);
    }

    /** The NUL-terminated string at {@code address}. */
    private String cString(long address) {
        StringBuilder s = new StringBuilder();
        for (long a = address; mem.read8(a) != 0; a++) {
            s.append((char) mem.read8(a));
        }
        return s.toString();
    }

    private void assertFilled(long from, long to, int value) {
        byte[] b = mem.readBytes(from, (int) (to - from));
        int i = 0;
        while (i < b.length && b[i] == (byte) value) {
            i++;
        }
        assertThat(i).as("first byte in 0x%x..0x%x that is not 0x%02x", from, to, value & 0xFF).isEqualTo(b.length);
    }

    // --- real images assembled by gas (testguests/src/main/multiboot) ---

    @Test
    void elf32KernelSegmentsLandAtTheirAddressesAndBssIsZeroed() throws Exception {
        MultibootBoot b = boot(8 * MiB, guest(dir, "mb-elf32.elf"));
        assertThat(b.image().format()).isEqualTo(KernelImage.Format.ELF32);
        assertThat(b.header().flags()).isEqualTo(3);
        assertThat(b.segments()).extracting(KernelSegment::address, KernelSegment::fileSize, KernelSegment::memorySize)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0x100000L, 0x20L, 0x20L),
                        org.assertj.core.groups.Tuple.tuple(0x102000L, 0x20L, 0x2020L));
        assertThat(b.entry()).isEqualTo(0x10000c);
        assertThat(mem.read32(0x100000)).as("the header opens .text").isEqualTo(0x1BADB002L);
        assertThat(mem.read8(0x10000c)).as("cli at the entry").isEqualTo(0xFA);
        assertThat(string(0x102000, 16)).isEqualTo("ELF32-DATA-MARK!");
        assertFilled(0x102020, 0x104020, 0);
        assertThat(mem.read8(0x104020)).as("nothing written past memsz").isEqualTo(POISON & 0xFF);
        assertThat(mem.read8(0x101000)).as("nothing written between segments").isEqualTo(POISON & 0xFF);
    }

    @Test
    void elf64KernelLoadsByPhysicalAddressAndItsEntryIsTranslated() throws Exception {
        MultibootBoot b = boot(8 * MiB, guest(dir, "mb-elf64.elf"));
        assertThat(b.image().format()).isEqualTo(KernelImage.Format.ELF64);
        assertThat(b.segments()).extracting(KernelSegment::address).containsExactly(0x200000L, 0x300000L);
        assertThat(b.entry()).as("e_entry 0xc020000c in the segment at physical 0x200000").isEqualTo(0x20000c);
        assertThat(b.entryState().eip()).isEqualTo(0x20000c);
        assertThat(mem.read32(0x200000)).isEqualTo(0x1BADB002L);
        assertThat(string(0x300000, 16)).isEqualTo("ELF64-DATA-MARK!");
        assertFilled(0x300020, 0x301020, 0);
        assertThat(mem.read8(0x301020)).isEqualTo(POISON & 0xFF);
    }

    @Test
    void aoutKludgeAddressesAreHonouredForAFlatBinary() throws Exception {
        MultibootBoot b = boot(8 * MiB, guest(dir, "mb-aout.bin"));
        assertThat(b.image().format()).isEqualTo(KernelImage.Format.AOUT_KLUDGE);
        assertThat(b.header().fileOffset()).isEqualTo(0x10);
        assertThat(b.segments()).containsExactly(new KernelSegment(0x200000, 0, 0x1020, 0x2020));
        assertThat(b.entry()).isEqualTo(0x200040);
        assertThat(string(0x200000, 16)).isEqualTo("AOUT-TEXT-START!");
        assertThat(mem.read32(0x200010)).isEqualTo(0x1BADB002L);
        assertThat(string(0x201000, 16)).isEqualTo("AOUT-DATA-START!");
        assertFilled(0x201020, 0x202020, 0);
        assertThat(mem.read8(0x202020)).isEqualTo(POISON & 0xFF);
    }

    @Test
    void aoutKludgeWinsOverTheElfHeadersWhenFlagBit16IsSet() throws Exception {
        MultibootBoot b = boot(8 * MiB, guest(dir, "mb-aout.elf"));
        assertThat(b.image().format()).isEqualTo(KernelImage.Format.AOUT_KLUDGE);
        assertThat(b.entry()).as("entry_addr, not the ELF's e_entry 0x200030").isEqualTo(0x200040);
        assertThat(b.segments()).hasSize(1);
        assertThat(b.segments().getFirst().address()).isEqualTo(0x200000);
        assertThat(string(0x200000, 16)).isEqualTo("AOUT-TEXT-START!");
        assertThat(string(0x201000, 16)).isEqualTo("AOUT-DATA-START!");
        assertFilled(0x201020, 0x202020, 0);
    }

    @Test
    void theInformationStructureHoldsEveryFieldTheLoaderPasses() throws Exception {
        Path initrd = write(dir, "env", "NR_CPUS=1\n".getBytes(StandardCharsets.US_ASCII));
        MultibootBoot b = boot(8 * MiB, guest(dir, "mb-elf32.elf"), "x86/debug.flat -v", initrd);
        long mbi = b.infoAddress();
        assertThat(mbi).isEqualTo(MultibootInfo.INFO_ADDRESS).isLessThan(MiB);
        assertThat(mem.read32(mbi)).as("flags: memory, cmdline, mods, mmap, boot loader name").isEqualTo(0x24D);
        assertThat(mem.read32(mbi + 4)).as("mem_lower KiB").isEqualTo(639);
        assertThat(mem.read32(mbi + 8)).as("mem_upper KiB").isEqualTo(7 * 1024);
        assertThat(mem.read32(mbi + 12)).as("boot_device (flag bit 1 clear)").isZero();
        assertThat(cString(mem.read32(mbi + 16))).isEqualTo("x86/debug.flat -v");
        assertThat(mem.read32(mbi + 20)).as("mods_count").isEqualTo(1);
        assertThat(mem.read32(mbi + 24)).as("mods_addr").isEqualTo(MultibootInfo.MODULES_ADDRESS);
        assertFilled(mbi + 28, mbi + 44, 0);  // syms (flag bits 4, 5 clear)
        assertThat(mem.read32(mbi + 44)).as("mmap_length").isEqualTo(3 * 24);
        assertThat(mem.read32(mbi + 48)).as("mmap_addr").isEqualTo(MultibootInfo.MMAP_ADDRESS);
        assertFilled(mbi + 52, mbi + 64, 0);  // drives, config_table
        assertThat(cString(mem.read32(mbi + 64))).isEqualTo("tdemu");
        assertFilled(mbi + 68, mbi + MultibootInfo.INFO_SIZE, 0);  // apm, vbe, framebuffer
        for (long a : new long[] {mem.read32(mbi + 16), mem.read32(mbi + 24), mem.read32(mbi + 48), mem.read32(mbi + 64)}) {
            assertThat(a).as("pointer 0x%x inside the information area", a)
                    .isBetween(MultibootInfo.AREA_BASE, MultibootInfo.AREA_END - 1);
        }
    }

    @Test
    void theMemoryMapReportsLowRamTheBiosAreaAndExtendedRam() throws Exception {
        boot(6 * MiB, guest(dir, "mb-elf32.elf"));
        long e = mem.read32(MultibootInfo.INFO_ADDRESS + 48);
        long[][] expected = {{0, 0x9FC00, 1}, {0x9FC00, 0x100000 - 0x9FC00, 2}, {0x100000, 5 * MiB, 1}};
        for (long[] region : expected) {
            assertThat(mem.read32(e)).as("size field").isEqualTo(20);
            assertThat(mem.read64(e + 4)).as("base_addr").isEqualTo(region[0]);
            assertThat(mem.read64(e + 12)).as("length").isEqualTo(region[1]);
            assertThat(mem.read32(e + 20)).as("type").isEqualTo(region[2]);
            e += mem.read32(e) + 4;
        }
        assertThat(e).isEqualTo(mem.read32(MultibootInfo.INFO_ADDRESS + 48) + mem.read32(MultibootInfo.INFO_ADDRESS + 44));
        assertThat(mem.read32(MultibootInfo.INFO_ADDRESS + 8)).isEqualTo(5 * 1024);
    }

    @Test
    void modulesArePageAlignedAboveTheKernelWithTheirStrings() throws Exception {
        byte[] first = new byte[5000];
        new java.util.Random(1).nextBytes(first);
        Path m1 = write(dir, "initrd", first);
        Path m2 = write(dir, "second", new byte[] {1, 2, 3});
        MultibootBoot b = boot(8 * MiB, guest(dir, "mb-elf32.elf"), "", m1, m2);
        // The kernel's highest byte is 0x10401f (bss end 0x104020).
        assertThat(b.modules()).extracting(BootModule::start, BootModule::end)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0x105000L, 0x105000L + 5000),
                        org.assertj.core.groups.Tuple.tuple(0x107000L, 0x107003L));
        assertThat(mem.readBytes(0x105000, 5000)).isEqualTo(first);
        assertThat(mem.readBytes(0x107000, 3)).containsExactly(1, 2, 3);
        long mods = mem.read32(MultibootInfo.INFO_ADDRESS + 24);
        assertThat(mem.read32(MultibootInfo.INFO_ADDRESS + 20)).isEqualTo(2);
        assertThat(mem.read32(mods)).isEqualTo(0x105000);
        assertThat(mem.read32(mods + 4)).as("mod_end is exclusive").isEqualTo(0x105000 + 5000);
        assertThat(cString(mem.read32(mods + 8))).isEqualTo("mod initrd");
        assertThat(mem.read32(mods + 12)).as("reserved").isZero();
        assertThat(mem.read32(mods + 16)).isEqualTo(0x107000);
        assertThat(mem.read32(mods + 20)).isEqualTo(0x107003);
        assertThat(cString(mem.read32(mods + 24))).isEqualTo("mod second");
    }

    @Test
    void modulesOfAKernelLoadedBelowOneMiBGoAboveOneMiB() throws Exception {
        // Like kvm-unit-tests' realmode.flat, which loads at 0x8000.
        Path k = write(dir, "low", aout(0x3000, 0x10, 0, 0x8000, 0, 0, 0x8020, (byte) 0x90));
        Path m = write(dir, "m", new byte[] {42});
        MultibootBoot b = boot(4 * MiB, k, "", m);
        assertThat(b.segments()).containsExactly(new KernelSegment(0x8000, 0, 0x3000, 0x3000));
        assertThat(b.modules().getFirst().start()).isEqualTo(MiB);
        assertThat(mem.read8(MiB)).isEqualTo(42);
    }

    @Test
    void loadEndZeroLoadsTheWholeFileAndBssEndZeroMeansNoBss() throws Exception {
        Path k = write(dir, "k", aout(0x1801, 0x40, 0, 0x300000, 0, 0, 0x300100, (byte) 0x5A));
        MultibootBoot b = boot(4 * MiB, k);
        assertThat(b.segments()).containsExactly(new KernelSegment(0x300000, 0, 0x1801, 0x1801));
        assertFilled(0x300000, 0x300040, 0x5A);
        assertFilled(0x300060, 0x301801, 0x5A);
        assertThat(mem.read8(0x301801)).isEqualTo(POISON & 0xFF);
    }

    @Test
    void aoutTextMayStartBeforeTheHeaderInTheFile() throws Exception {
        // header_addr - load_addr = 0x20 while the header sits at file offset 0x100: the text starts at 0xe0.
        byte[] file = bytes(0x1000, 0x11);
        System.arraycopy(MultibootImages.header(0x10000, 0, 0x400020, 0x400000, 0x400800, 0x401000, 0x400030), 0,
                file, 0x100, 32);
        MultibootBoot b = boot(8 * MiB, write(dir, "k", file));
        assertThat(b.segments()).containsExactly(new KernelSegment(0x400000, 0xe0, 0x800, 0x1000));
        assertThat(mem.read32(0x400020)).isEqualTo(0x1BADB002L);
        assertFilled(0x400800, 0x401000, 0);
    }

    @Test
    void aPureBssSegmentIsZeroedWhateverItsFileOffsetSays() throws Exception {
        byte[] image = elf(false, 0x100000, 0, List.of(Seg.at(0x100000, bytes(16, 0x90), 16),
                Seg.at(0x180000, new byte[0], 0x3000)));
        java.nio.ByteBuffer.wrap(image).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(52 + 32 + 4, 0x7FFF_0000);
        MultibootBoot b = boot(4 * MiB, write(dir, "k", image));
        assertThat(b.segments()).extracting(KernelSegment::address).containsExactly(0x100000L, 0x180000L);
        assertFilled(0x180000, 0x183000, 0);
        assertThat(mem.read8(0x183000)).isEqualTo(POISON & 0xFF);
    }

    @Test
    void theEntryStateIsWhatTheSpecificationPrescribes() throws Exception {
        MultibootBoot b = boot(8 * MiB, guest(dir, "mb-elf32.elf"));
        EntryState32 s = b.entryState();
        assertThat(s.eax()).isEqualTo(0x2BADB002L);
        assertThat(s.ebx()).isEqualTo(b.infoAddress());
        assertThat(s.eip()).isEqualTo(0x10000c);
        assertThat(s.cr0() & 1).as("CR0.PE").isEqualTo(1);
        assertThat(s.cr0() & (1L << 31)).as("CR0.PG").isZero();
        assertThat(s.eflags() & (1 << 9)).as("IF").isZero();
        assertThat(s.eflags() & (1 << 17)).as("VM").isZero();
        assertThat(s.cr4()).isZero();
        assertThat(s.efer()).as("no long mode").isZero();
        assertThat(s.cs().code()).isTrue();
        assertThat(s.cs().defaultBig()).as("32-bit code").isTrue();
        for (Segment r : List.of(s.cs(), s.ds(), s.es(), s.fs(), s.gs(), s.ss())) {
            assertThat(r.base()).isZero();
            assertThat(r.limit()).isEqualTo(0xFFFF_FFFFL);
            assertThat(r.present()).isTrue();
            assertThat(r.dpl()).isZero();
            assertThat(mem.read64(s.gdtBase() + (r.selector() & ~7))).as("GDT entry of selector 0x%x", r.selector())
                    .isEqualTo(r.code() ? EntryState32.FLAT_CODE32_DESCRIPTOR : EntryState32.FLAT_DATA32_DESCRIPTOR);
        }
        for (Segment r : List.of(s.ds(), s.es(), s.fs(), s.gs(), s.ss())) {
            assertThat(r.code()).isFalse();
            assertThat(r.accessRights() & 2).as("writable").isEqualTo(2);
        }
        assertThat(s.gdtLimit()).isEqualTo(23);
    }

    @Test
    void qemuStyleRequestsPutTheKernelNameBeforeTheAppendedArguments() {
        Path k = Path.of("x86/vmexit.flat");
        assertThat(MultibootRequest.likeQemu(k, "cpuid", List.of()).commandLine()).isEqualTo("x86/vmexit.flat cpuid");
        MultibootRequest r = MultibootRequest.likeQemu(k, "", List.of(Path.of("/tmp/env")));
        assertThat(r.commandLine()).isEqualTo("x86/vmexit.flat");
        assertThat(r.modules()).containsExactly(new MultibootRequest.Module(Path.of("/tmp/env"), "/tmp/env"));
    }

    // --- refusals: one line naming the file and the problem; nothing written ---

    private void assertRefused(long ramSize, Path kernel, String message, Path... modules) {
        assertThatThrownBy(() -> boot(ramSize, kernel, "", modules))
                .isInstanceOf(MultibootException.class)
                .hasMessage(message)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertFilled(0, Math.min(ramSize, 4 * MiB), POISON);
    }

    @Test
    void aKernelWithoutAMultibootHeaderIsRefused() {
        Path k = write(dir, "plain", bytes(9000, 0));
        assertRefused(4 * MiB, k, k + ": not a multiboot kernel: no header (magic 0x1BADB002 at a 4-byte aligned "
                + "offset) in the first 8192 bytes");
    }

    @Test
    void aBadChecksumIsRefusedThroughTheLoader() throws Exception {
        byte[] file = bytes(4096, 0);
        System.arraycopy(MultibootImages.header(0, 0x100), 0, file, 0x200, 12);
        Path k = write(dir, "bad", file);
        assertRefused(4 * MiB, k, k + ": the multiboot header at file offset 0x200 has a bad checksum "
                + "(magic + flags + checksum = 0x00000100, not 0)");
    }

    @Test
    void aRequiredButUnsupportedFlagIsRefusedThroughTheLoader() {
        Path k = write(dir, "k", elf(false, 0x100000, 0x8000, List.of(Seg.at(0x100000, bytes(16, 0x90), 16))));
        assertRefused(4 * MiB, k, k + ": the kernel requires features this loader does not support "
                + "(multiboot header flag bits 0x8000 of 0x00008000)");
    }

    @Test
    void aLoadAddressOutsideRamIsRefused() {
        Path k = guest(dir, "mb-elf64.elf");
        assertRefused(2 * MiB, k, k + ": segment 0x200000..0x200020 (0x20 file bytes from offset 0x1000, 0x0 zeroed) "
                + "lies outside guest RAM (0x0..0x200000)");
    }

    @Test
    void aBssReachingPastTheEndOfRamIsRefused() {
        Path k = write(dir, "k", aout(0x100, 0, 0, 0x1FF000, 0, 0x200001, 0x1FF020, (byte) 0));
        assertRefused(2 * MiB, k, k + ": segment 0x1ff000..0x200001 (0x100 file bytes from offset 0x0, 0xf01 zeroed) "
                + "lies outside guest RAM (0x0..0x200000)");
    }

    @Test
    void aLoadOverTheInformationAreaIsRefused() {
        Path k = write(dir, "k", aout(0x1000, 0, 0, 0x8F800, 0, 0, 0x8F820, (byte) 0));
        assertRefused(2 * MiB, k, k + ": segment 0x8f800..0x90800 (0x1000 file bytes from offset 0x0, 0x0 zeroed) "
                + "overlaps the multiboot information area 0x90000..0x9fc00");
    }

    @Test
    void aLoadIntoTheBiosAreaIsRefused() {
        Path k = write(dir, "k", aout(0x100, 0, 0, 0xF0000, 0, 0, 0xF0020, (byte) 0));
        assertRefused(2 * MiB, k, k + ": segment 0xf0000..0xf0100 (0x100 file bytes from offset 0x0, 0x0 zeroed) "
                + "overlaps the reserved BIOS area 0x9fc00..0x100000");
    }

    @Test
    void overlappingSegmentsAreRefused() {
        Path k = write(dir, "k", elf(false, 0x100000, 0, List.of(Seg.at(0x100000, bytes(16, 1), 0x2000),
                Seg.at(0x101000, bytes(16, 2), 0x10))));
        assertRefused(4 * MiB, k, k + ": segments 0x100000..0x102000 (0x10 file bytes from offset 0x1000, 0x1ff0 zeroed) "
                + "and 0x101000..0x101010 (0x10 file bytes from offset 0x2000, 0x0 zeroed) overlap");
    }

    @Test
    void segmentSizesThatOverflowAreRefused() {
        Path wraps = write(dir, "wraps", elf(true, 0x100000, 0,
                List.of(Seg.at(0x100000, bytes(16, 1), 0xFFFF_FFFF_FFFF_F000L))));
        assertRefused(4 * MiB, wraps, wraps + ": ELF program header 0 (PT_LOAD at physical 0x100000) of "
                + "0xfffffffffffff000 bytes wraps around the address space");
        Path above = write(dir, "above", elf(false, 0xFFFFF000L, 0, List.of(Seg.at(0xFFFFF000L, bytes(16, 1), 0x2000))));
        assertRefused(4 * MiB, above, above + ": segment 0xfffff000+0x2000 reaches above 4 GiB; a multiboot kernel "
                + "starts with paging off and loads below 4 GiB");
    }

    @Test
    void anElfEntryOutsideEverySegmentIsRefused() {
        Path k = write(dir, "k", elf(false, 0x200000, 0, List.of(Seg.at(0x100000, bytes(16, 1), 16))));
        assertRefused(4 * MiB, k, k + ": the ELF entry point 0x200000 is not inside any PT_LOAD segment");
    }

    @Test
    void aTruncatedElfSegmentIsRefused() throws Exception {
        Path full = guest(dir, "mb-elf32.elf");
        byte[] bytes = Files.readAllBytes(full);
        Path k = write(dir, "cut.elf", Arrays.copyOf(bytes, 0x2010));
        assertRefused(4 * MiB, k, k + ": the file is truncated: ELF program header 1 (PT_LOAD at physical 0x102000) "
                + "needs bytes 0x2000..0x2020, but the file has only 8208 bytes");
    }

    @Test
    void aTruncatedElfHeaderIsRefused() {
        byte[] file = bytes(40, 0);
        System.arraycopy(new byte[] {0x7f, 'E', 'L', 'F', 1, 1, 1}, 0, file, 0, 7);
        System.arraycopy(MultibootImages.header(0, 0), 0, file, 16, 12);
        Path k = write(dir, "k", file);
        assertRefused(4 * MiB, k, k + ": the file is truncated: the ELF header needs bytes 0x0..0x34, "
                + "but the file has only 40 bytes");
    }

    @Test
    void aTruncatedAoutImageIsRefused() {
        Path k = write(dir, "k", aout(0x800, 0, 0, 0x200000, 0x201000, 0, 0x200020, (byte) 0));
        assertRefused(4 * MiB, k, k + ": the file is truncated: the multiboot address fields load bytes 0x0..0x1000 "
                + "of the file, but it has only 2048 bytes");
    }

    @Test
    void anAoutEntryOutsideTheImageIsRefused() {
        Path k = write(dir, "k", aout(0x800, 0, 0, 0x200000, 0, 0, 0x300000, (byte) 0));
        assertRefused(4 * MiB, k, k + ": multiboot entry_addr 0x300000 is outside the loaded image 0x200000..0x200800 "
                + "(0x800 file bytes from offset 0x0, 0x0 zeroed)");
    }

    @Test
    void aFileThatIsNeitherElfNorAoutKludgeIsRefused() {
        byte[] file = bytes(64, 0);
        System.arraycopy(MultibootImages.header(2, 0), 0, file, 0, 12);
        Path k = write(dir, "k", file);
        assertRefused(4 * MiB, k, k + ": neither an ELF file nor a kernel with multiboot address fields (header flag "
                + "bit 16), so there is no way to know where it loads");
    }

    @Test
    void aDirectoryIsRefusedAsKernel() {
        assertRefused(4 * MiB, dir, dir + ": the kernel is a directory");
    }

    @Test
    void aMissingKernelIsRefused() {
        Path k = dir.resolve("nope");
        assertRefused(4 * MiB, k, k + ": kernel file not found");
    }

    @Test
    void aKernelFileLargerThanRamIsRefusedBeforeReading() throws Exception {
        Path k = sparse("huge", 2 * MiB + 1);
        assertRefused(2 * MiB, k, k + ": the kernel file (2097153 bytes) is larger than guest RAM (2097152 bytes)");
    }

    @Test
    void anInitrdLargerThanRamIsRefused() throws Exception {
        Path initrd = sparse("initrd", 3 * MiB);
        assertRefused(2 * MiB, guest(dir, "mb-elf32.elf"),
                initrd + ": the module file (3145728 bytes) is larger than guest RAM (2097152 bytes)", initrd);
    }

    @Test
    void anInitrdThatDoesNotFitAboveTheKernelIsRefused() throws Exception {
        Path initrd = sparse("initrd", MiB);
        assertRefused(2 * MiB, guest(dir, "mb-elf32.elf"), initrd + ": the module (1048576 bytes) does not fit in "
                + "guest RAM: placed at 0x105000 above the kernel and earlier modules it would end at 0x205000, "
                + "RAM ends at 0x200000", initrd);
    }

    @Test
    void aCommandLineWithNulIsRefused() {
        Path k = guest(dir, "mb-elf32.elf");
        assertThatThrownBy(() -> boot(4 * MiB, k, "a\0b")).hasMessage(k + ": the command line contains a NUL character");
    }

    @Test
    void aCommandLineTooLongForTheInformationAreaIsRefused() {
        Path k = guest(dir, "mb-elf32.elf");
        assertThatThrownBy(() -> boot(4 * MiB, k, "x".repeat(70000)))
                .hasMessage(k + ": the command line and module strings need 70007 bytes; the multiboot information "
                        + "area has room for 62464");
    }

    private Path sparse(String name, long size) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }
}
