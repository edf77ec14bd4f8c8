package dev.tdemu.emulator.boot;

import static dev.tdemu.emulator.boot.MultibootImages.header;
import static dev.tdemu.emulator.boot.MultibootImages.write;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How `tdemu run` tells a Multiboot kernel (the PC machine) from one of tdemu's own guests. */
class MultibootProbeTest {
    @TempDir
    Path dir;

    private static byte[] fileWithHeaderAt(int size, int offset, byte[] header) {
        byte[] file = new byte[size];
        System.arraycopy(header, 0, file, offset, header.length);
        return file;
    }

    @Test
    void aHeaderAtAnAlignedOffsetInTheFirst8KibMakesAMultibootKernel() {
        assertThat(MultibootProbe.isMultiboot(write(dir, "k", fileWithHeaderAt(0x3000, 0x1FF0, header(3, 0))))).isTrue();
    }

    /** The loader then refuses it with its reason; tdemu's own loader must not run its 32-bit entry as 64-bit code. */
    @Test
    void aHeaderWithABadChecksumStillMakesAMultibootKernel() {
        assertThat(MultibootProbe.isMultiboot(write(dir, "k", fileWithHeaderAt(0x3000, 0x1000, header(3, 1))))).isTrue();
    }

    @Test
    void theMagicUnalignedOrBeyond8KibOrNowhereDoesNot() {
        assertThat(MultibootProbe.isMultiboot(write(dir, "a", fileWithHeaderAt(0x3000, 0x1002, header(3, 0))))).isFalse();
        assertThat(MultibootProbe.isMultiboot(write(dir, "b", fileWithHeaderAt(0x3000, 0x2000, header(3, 0))))).isFalse();
        assertThat(MultibootProbe.isMultiboot(write(dir, "c", new byte[0x3000]))).isFalse();
        assertThat(MultibootProbe.isMultiboot(write(dir, "d", new byte[0]))).isFalse();
        assertThat(MultibootProbe.isMultiboot(dir)).as("a directory").isFalse();
        assertThat(MultibootProbe.isMultiboot(dir.resolve("missing"))).isFalse();
    }
}
