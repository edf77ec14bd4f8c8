package dev.tdemu.emulator.pc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each way a Multiboot kernel can be booted, seen from inside the kernel: pc32-bootinfo reports
 * over COM1 the state it was entered in and the information structure it was given, and these
 * tests compare that with the Multiboot specification (0.6.96, 3.2 "Machine state", 3.3 "Boot
 * information format") and with what the run asked for (command line, modules, memory).
 */
@Timeout(60)
class PcBootTest {
    private static final long MiB = 1L << 20;
    private static final long INFO_MEMORY = 1, INFO_CMDLINE = 1 << 2, INFO_MODS = 1 << 3, INFO_MEM_MAP = 1 << 6,
            INFO_BOOT_LOADER_NAME = 1 << 9;
    private static final long CR0_PE = 1, CR0_PG = 1L << 31, EFLAGS_IF = 1 << 9, EFLAGS_VM = 1 << 17;
    /** LAR's access rights: type in 11:8, S 12, DPL 14:13, P 15, D/B 22, G 23. */
    private static final long AR_S = 1 << 12, AR_DPL = 3 << 13, AR_P = 1 << 15, AR_DB = 1 << 22, AR_G = 1 << 23;
    private static final long TYPE_CODE = 0x800, TYPE_READABLE_OR_WRITABLE = 0x200;

    @TempDir
    Path dir;

    /** The one source, linked three ways: the loader must find the same entry state and information through each. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"pc32-bootinfo.elf", "pc-bootinfo-elf64.elf", "pc-bootinfo-aout.bin"})
    void theKernelIsEnteredAsTheSpecificationSaysWhetherElf32Elf64OrAnAoutKludgeBinary(String kernel) {
        PcKernels.Run r = PcKernels.run(dir, kernel).assertExited(PcKernels.ALL_PASSED);
        assertThat(r.value("eax")).as("EAX: the boot loader magic").isEqualTo("0x2badb002");
        assertThat(r.hex("ebx")).as("EBX: the information structure, in conventional memory").isBetween(0x1000L, 0x9FC00L - 116);
        assertThat(r.hex("cr0") & (CR0_PE | CR0_PG)).as("CR0: protected mode, paging off").isEqualTo(CR0_PE);
        assertThat(r.hex("eflags") & (EFLAGS_IF | EFLAGS_VM)).as("EFLAGS: IF and VM clear").isZero();
        assertFlat(r, "cs", true);
        for (String data : List.of("ds", "es", "fs", "gs", "ss")) {
            assertFlat(r, data, false);
        }
        assertThat(r.hex("a20.alias")).as("A20 on: a write 1 MiB up does not wrap onto the address below").isZero();
        assertThat(r.value("boot_loader_name")).isEqualTo("tdemu");
        assertThat(r.text()).endsWith("bootinfo done\n");
    }

    private static void assertFlat(PcKernels.Run r, String sreg, boolean code) {
        String p = "seg." + sreg + ".";
        assertThat(r.hex(p + "limit")).as(sreg + " limit (LSL)").isEqualTo(0xFFFF_FFFFL);
        assertThat(r.hex(p + "base")).as(sreg + " base (its GDT descriptor)").isZero();
        long rights = r.hex(p + "rights");
        assertThat(rights & (AR_S | AR_P | AR_DB | AR_G | AR_DPL)).as(sreg + ": present, DPL 0, 32-bit, 4 KiB granular")
                .isEqualTo(AR_S | AR_P | AR_DB | AR_G);
        assertThat(rights & (TYPE_CODE | TYPE_READABLE_OR_WRITABLE)).as(sreg + (code ? ": execute/read code" : ": read/write data"))
                .isEqualTo(code ? TYPE_CODE | TYPE_READABLE_OR_WRITABLE : TYPE_READABLE_OR_WRITABLE);
    }

    @ParameterizedTest(name = "{0} MiB")
    @ValueSource(ints = {8, 64, 128})
    void memLowerMemUpperAndTheMemoryMapDescribeTheRamOfTheRun(int mib) {
        PcKernels.Run r = PcKernels.run(dir, "pc32-bootinfo.elf", c -> c.setMemoryBytes(mib * MiB))
                .assertExited(PcKernels.ALL_PASSED);
        assertThat(r.hex("flags") & (INFO_MEMORY | INFO_MEM_MAP)).isEqualTo(INFO_MEMORY | INFO_MEM_MAP);
        assertThat(r.hex("mem_lower")).as("KiB from 0 to the EBDA").isEqualTo(639);
        assertThat(r.hex("mem_upper")).as("KiB from 1 MiB to the end of RAM").isEqualTo((mib - 1) * 1024L);
        assertThat(r.hex("mmap_length")).isEqualTo(3 * 24);
        List<Long> baseHi = r.hexes("mmap.base_hi"), baseLo = r.hexes("mmap.base_lo"), lengthHi = r.hexes("mmap.length_hi"),
                lengthLo = r.hexes("mmap.length_lo"), type = r.hexes("mmap.type");
        assertThat(baseHi).containsExactly(0L, 0L, 0L);
        assertThat(lengthHi).containsExactly(0L, 0L, 0L);
        assertThat(baseLo).containsExactly(0L, 0x9FC00L, 0x100000L);
        assertThat(lengthLo).containsExactly(0x9FC00L, 0x100000L - 0x9FC00L, mib * MiB - 0x100000L);
        assertThat(type).as("RAM, the BIOS area reserved, RAM").containsExactly(1L, 2L, 1L);
    }

    @Test
    void theCommandLineIsTheKernelsNameThenTheAppendedText() {
        PcKernels.Run r = PcKernels.run(dir, "pc32-bootinfo.elf", c -> c.setKernelCommandLine("console=ttyS0 x=\"a b\"  -v"))
                .assertExited(PcKernels.ALL_PASSED);
        assertThat(r.hex("flags") & INFO_CMDLINE).isEqualTo(INFO_CMDLINE);
        assertThat(r.value("cmdline")).isEqualTo(dir.resolve("pc32-bootinfo.elf") + " console=ttyS0 x=\"a b\"  -v");
    }

    @Test
    void withoutAppendTheCommandLineIsTheKernelsNameAlone() {
        PcKernels.Run r = PcKernels.run(dir, "pc32-bootinfo.elf").assertExited(PcKernels.ALL_PASSED);
        assertThat(r.value("cmdline")).isEqualTo(dir.resolve("pc32-bootinfo.elf").toString());
        assertThat(r.hex("mods_count")).as("the mods flag is set with no modules, as QEMU does").isZero();
        assertThat(r.hex("flags") & INFO_MODS).isEqualTo(INFO_MODS);
    }

    @Test
    void eachInitrdIsAPageAlignedModuleAboveTheKernelWithItsBytesAndItsFileNameAsString() throws IOException {
        byte[] first = random(12_345, 1), second = random(4096, 2), third = random(1, 3);
        Path a = Files.write(dir.resolve("first.bin"), first), b = Files.write(dir.resolve("second module.bin"), second),
                c = Files.write(dir.resolve("third"), third);
        PcKernels.Run r = PcKernels.run(dir, "pc32-bootinfo.elf",
                cfg -> cfg.addInitrd(a.toString()).addInitrd(b.toString()).addInitrd(c.toString()))
                .assertExited(PcKernels.ALL_PASSED);
        assertThat(r.hex("flags") & INFO_MODS).isEqualTo(INFO_MODS);
        assertThat(r.hex("mods_count")).isEqualTo(3);
        List<Long> start = r.hexes("mod.start"), end = r.hexes("mod.end"), sum = r.hexes("mod.sum");
        assertThat(r.all("mod.string")).containsExactly(a.toString(), b.toString(), c.toString());
        byte[][] contents = {first, second, third};
        for (int i = 0; i < 3; i++) {
            assertThat(start.get(i) % 4096).as("module %d page-aligned", i).isZero();
            assertThat(start.get(i)).as("module %d above the kernel", i).isGreaterThanOrEqualTo(r.hex("kernel_end"));
            assertThat(end.get(i) - start.get(i)).as("module %d length", i).isEqualTo(contents[i].length);
            assertThat(sum.get(i)).as("module %d bytes (their sum)", i).isEqualTo(sum(contents[i]));
            if (i > 0) {
                assertThat(start.get(i)).as("module %d after module %d", i, i - 1).isGreaterThanOrEqualTo(end.get(i - 1));
            }
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static long sum(byte[] b) {
        long s = 0;
        for (byte x : b) {
            s += x & 0xFF;
        }
        return s & 0xFFFF_FFFFL;
    }
}
