package dev.tdemu.emulator.elf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ElfImageTest {
    private static String rejection(byte[] bytes) {
        return assertThrows(ElfFormatException.class, () -> ElfImage.parse("t.elf", bytes)).getMessage();
    }

    @Test
    void validImageYieldsEntryAndSortedSegmentsWithPermissions() throws Exception {
        ElfImage img = ElfImage.parse("t.elf", ElfBuilder.valid().note().build());
        assertEquals(0x100000, img.entry());
        assertEquals(2, img.segments().size());
        LoadSegment text = img.segments().get(0);
        assertEquals(0x100000, text.address());
        assertTrue(text.executable() && text.readable() && !text.writable());
        LoadSegment data = img.segments().get(1);
        assertArrayEquals(new byte[] {1, 2, 3}, data.data());
        assertEquals(0x2000, data.memorySize());
        assertTrue(data.writable() && !data.executable());
    }

    @Test
    void bundledHelloGuestParses() throws Exception {
        ElfImage hello = ElfImage.builtin("hello");
        assertEquals(0x100000, hello.entry());
        assertTrue(hello.segments().stream().anyMatch(LoadSegment::executable));
        assertTrue(ElfImage.builtinNames().contains("hello"));
    }

    @Test
    void symbolsOfTheBundledGuestsAreAvailable() throws Exception {
        ElfImage hello = ElfImage.builtin("hello");
        assertEquals(hello.entry(), hello.symbol("_start").orElseThrow());
        assertTrue(hello.symbol("tdemu_init").isPresent());
        assertTrue(hello.symbol("no_such_symbol").isEmpty());
    }

    @Test
    void anImageWithoutSectionHeadersHasNoSymbols() throws Exception {
        assertTrue(ElfImage.parse("t.elf", ElfBuilder.valid().build()).symbols().isEmpty());
    }

    @Test
    void unknownBuiltinGuestIsNamedInTheError() {
        var e = assertThrows(ElfFormatException.class, () -> ElfImage.builtin("nope"));
        assertTrue(e.getMessage().contains("nope"));
    }

    @Test
    void rejectsBadMagic() {
        assertTrue(rejection("hello world".getBytes()).contains("bad magic"));
        assertTrue(rejection(new byte[0]).contains("bad magic"));
    }

    @Test
    void rejectsTruncatedHeader() {
        byte[] full = ElfBuilder.valid().build();
        assertTrue(rejection(Arrays.copyOf(full, 40)).contains("truncated ELF header"));
    }

    @Test
    void rejectsTruncatedProgramHeaders() {
        byte[] full = ElfBuilder.valid().build();
        assertTrue(rejection(Arrays.copyOf(full, 64 + 56 + 10)).contains("truncated program header table"));
    }

    @Test
    void rejectsSegmentDataBeyondEndOfFile() {
        byte[] full = ElfBuilder.valid().build();
        assertTrue(rejection(Arrays.copyOf(full, full.length - 2)).contains("truncated"));
    }

    @Test
    void rejectsElf32() {
        ElfBuilder b = ElfBuilder.valid();
        b.elfClass = 1;
        assertTrue(rejection(b.build()).contains("not ELF64"));
    }

    @Test
    void rejectsBigEndian() {
        ElfBuilder b = ElfBuilder.valid();
        b.dataEncoding = 2;
        assertTrue(rejection(b.build()).contains("little-endian"));
    }

    @Test
    void rejectsOtherMachines() {
        ElfBuilder b = ElfBuilder.valid();
        b.machine = 183; // AArch64
        assertTrue(rejection(b.build()).contains("not an x86-64 ELF"));
    }

    @Test
    void rejectsPositionIndependentAndRelocatableImages() {
        ElfBuilder dyn = ElfBuilder.valid();
        dyn.elfType = 3;
        assertTrue(rejection(dyn.build()).contains("ET_DYN"));
        ElfBuilder rel = ElfBuilder.valid();
        rel.elfType = 1;
        assertTrue(rejection(rel.build()).contains("not an executable"));
    }

    @Test
    void rejectsOverlappingSegments() {
        byte[] bytes = new ElfBuilder().load(5, 0x100000, new byte[4], 0x2000).load(6, 0x101000, new byte[4], 0x1000).build();
        assertThat(rejection(bytes)).contains("overlapping segments 0x100000..0x102000 and 0x101000..0x102000");
    }

    @Test
    void rejectsFileSizeLargerThanMemorySize() {
        byte[] bytes = new ElfBuilder().load(5, 0x100000, new byte[16], 8).build();
        assertThat(rejection(bytes)).contains("more file bytes");
    }

    @Test
    void rejectsEntryOutsideExecutableSegments() {
        ElfBuilder b = ElfBuilder.valid();
        b.entry = 0x101000;
        assertThat(rejection(b.build())).contains("entry point 0x101000 is not inside an executable segment");
    }

    @Test
    void rejectsImagesWithoutLoadSegments() {
        assertThat(rejection(new ElfBuilder().note().build())).contains("no loadable");
    }

    @Test
    void rejectsHugeSegmentsAndAddressWrap() {
        assertThat(rejection(new ElfBuilder().load(5, 0x100000, new byte[1], 1L << 40).build())).contains("too large");
        ElfBuilder wrap = new ElfBuilder().load(5, -0x800, new byte[1], 0x1000);
        wrap.entry = -0x800;
        assertThat(rejection(wrap.build())).contains("wraps around");
    }

    @Test
    void rejectsHostileProgramHeaderOffset() {
        byte[] bytes = ElfBuilder.valid().build();
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(32, Long.MAX_VALUE - 8);
        assertThat(rejection(bytes)).contains("truncated program header table");
    }

    @Test
    void aProgramHeaderOffsetNear2To64IsReportedAsItIs() {
        byte[] bytes = ElfBuilder.valid().build();
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(32, -16);
        assertThat(rejection(bytes)).isEqualTo("t.elf: truncated program header table: 2 entries of 56 bytes at offset "
                + "0xfffffffffffffff0 do not fit in the file (" + bytes.length + " bytes)");
    }

    @Test
    void segmentFileRangesAreCheckedWithoutOverflow() {
        byte[] bytes = ElfBuilder.valid().build();
        // segment 1: p_offset near 2^64, p_filesz 0x20: offset + size wraps to a small number
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 56 + 8, -0x10);
        assertThat(rejection(bytes)).contains("segment 1 is truncated: file bytes 0xfffffffffffffff0+0x3 lie beyond the end");
    }

    @Test
    void aSegmentEndingExactlyAt2To64IsRefused() {
        ElfBuilder b = new ElfBuilder().load(5, -0x1000, new byte[1], 0x1000);
        b.entry = -0x1000;
        assertThat(rejection(b.build())).contains("wraps around the address space");
    }

    @Test
    void onlyTheBytesTheSegmentsNeedAreReadFromAFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        byte[] valid = ElfBuilder.valid().build();
        java.nio.file.Path big = java.nio.file.Files.write(dir.resolve("big.elf"), valid);
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(3L << 30); // sparse: 3 GiB that nobody should read
        }
        ElfImage img = ElfImage.load(big, 4L << 30);
        assertEquals(ElfImage.parse("big.elf", valid), img);
    }

    @Test
    void specialFilesAreRefusedBeforeTheyAreOpened(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var e = assertThrows(ElfFormatException.class, () -> ElfImage.load(java.nio.file.Path.of("/dev/zero")));
        assertThat(e.getMessage()).isEqualTo("/dev/zero: a character device, not a regular file (a guest image is an ELF file)");
        assertThat(assertThrows(ElfFormatException.class, () -> ElfImage.load(dir)).getMessage())
                .startsWith(dir + ": a directory, not a regular file");
    }

    @Test
    void randomCorruptionsNeverEscapeAsAnythingButElfFormatException() {
        byte[] good = ElfBuilder.valid().note().build();
        Random r = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            byte[] bad = good.clone();
            int flips = 1 + r.nextInt(6);
            for (int f = 0; f < flips; f++) {
                bad[r.nextInt(Math.min(bad.length, 64 + 56 * 3))] = (byte) r.nextInt(256);
            }
            if (r.nextInt(4) == 0) {
                bad = Arrays.copyOf(bad, r.nextInt(bad.length + 1));
            }
            try {
                ElfImage.parse("fuzz", bad);
            } catch (ElfFormatException expected) {
                assertThat(expected.getMessage()).startsWith("fuzz");
            }
        }
    }

    @Test
    void aGuestsFileForADebuggerIsTheFileItWasLoadedFrom(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path builtin = ElfImage.file("builtin:debuggee").orElseThrow();
        assertTrue(java.nio.file.Files.isRegularFile(builtin), builtin.toString());
        ElfImage fromFile = ElfImage.load(builtin);
        ElfImage bundled = ElfImage.builtin("debuggee");
        assertEquals(bundled.entry(), fromFile.entry());
        assertEquals(bundled.symbols(), fromFile.symbols());
        assertEquals(builtin, ElfImage.file("builtin:debuggee").orElseThrow(), "the same file every time");
        assertTrue(ElfImage.file("builtin:nope").isEmpty());

        java.nio.file.Path mine = java.nio.file.Files.write(dir.resolve("guest.elf"), java.nio.file.Files.readAllBytes(builtin));
        assertEquals(mine.toAbsolutePath(), ElfImage.file(mine.toString()).orElseThrow());
        assertTrue(ElfImage.file(dir.resolve("absent.elf").toString()).isEmpty());
    }
}
