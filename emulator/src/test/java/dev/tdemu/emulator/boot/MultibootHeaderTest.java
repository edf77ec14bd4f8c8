package dev.tdemu.emulator.boot;

import static dev.tdemu.emulator.boot.MultibootImages.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MultibootHeaderTest {

    private static byte[] fileWith(int size, int offset, byte[] header) {
        byte[] file = MultibootImages.bytes(size, 0x90);
        System.arraycopy(header, 0, file, offset, header.length);
        return file;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 4, 0x100, 0x1000, 8192 - 12})
    void headerIsFoundAtAnyFourByteAlignedOffsetInTheFirst8KiB(int offset) throws Exception {
        MultibootHeader h = MultibootHeader.find("k", fileWith(16384, offset, header(0x3, 0)));
        assertThat(h.fileOffset()).isEqualTo(offset);
        assertThat(h.flags()).isEqualTo(3);
        assertThat(h.addressFields()).isEmpty();
    }

    @Test
    void addressFieldsAreReadWhenFlagBit16IsSet() throws Exception {
        MultibootHeader h = MultibootHeader.find("k",
                fileWith(8192, 8192 - 32, header(0x10000, 0, 0x200020, 0x200000, 0x201000, 0x202000, 0x200040)));
        assertThat(h.fileOffset()).isEqualTo(8192 - 32);
        assertThat(h.addressFields()).contains(
                new MultibootHeader.AddressFields(0x200020, 0x200000, 0x201000, 0x202000, 0x200040));
    }

    @Test
    void headerBeyondTheFirst8KiBIsNotFound() {
        assertThatThrownBy(() -> MultibootHeader.find("k", fileWith(16384, 8192, header(0, 0))))
                .isInstanceOf(MultibootException.class)
                .hasMessage("k: not a multiboot kernel: no header (magic 0x1BADB002 at a 4-byte aligned offset) in the first 8192 bytes");
    }

    @Test
    void unalignedMagicIsNotAHeader() {
        assertThatThrownBy(() -> MultibootHeader.find("k", fileWith(4096, 0x102, header(0, 0))))
                .hasMessageContaining("not a multiboot kernel");
    }

    @Test
    void badChecksumIsRefusedNamingTheOffset() {
        assertThatThrownBy(() -> MultibootHeader.find("k", fileWith(4096, 0x104, header(0x2, 1))))
                .isInstanceOf(MultibootException.class)
                .hasMessage("k: the multiboot header at file offset 0x104 has a bad checksum "
                        + "(magic + flags + checksum = 0x00000001, not 0)");
    }

    @Test
    void aGoodHeaderAfterAStrayMagicIsUsed() throws Exception {
        byte[] file = fileWith(4096, 0x20, header(0x2, 7));
        System.arraycopy(header(0x1, 0), 0, file, 0x40, 12);
        assertThat(MultibootHeader.find("k", file).fileOffset()).isEqualTo(0x40);
    }

    @Test
    void headerCutOffByThe8KiBLimitIsRefused() {
        // Flag bit 16 needs 32 bytes; only 12 remain before offset 8192.
        assertThatThrownBy(() -> MultibootHeader.find("k", fileWith(16384, 8192 - 12, header(0x10000, 0))))
                .hasMessage("k: the multiboot header at file offset 0x1ff4 is cut off: its flags 0x00010000 need 32 bytes, "
                        + "but only 12 remain in the first 8192 bytes of the file");
    }

    @Test
    void headerCutOffByTheEndOfTheFileIsRefused() {
        assertThatThrownBy(() -> MultibootHeader.find("k", fileWith(40, 16, header(0x10000, 0))))
                .hasMessageContaining("is cut off: its flags 0x00010000 need 32 bytes, but only 24 remain");
    }

    @Test
    void requiredFlagBitsTheLoaderDoesNotKnowAreRefused() throws Exception {
        MultibootHeader h = MultibootHeader.find("k", fileWith(64, 0, header(0x23, 0)));
        assertThatThrownBy(() -> h.checkSupported("k"))
                .isInstanceOf(MultibootException.class)
                .hasMessage("k: the kernel requires features this loader does not support "
                        + "(multiboot header flag bits 0x0020 of 0x00000023)");
    }

    @Test
    void aRequiredVideoModeIsRefused() throws Exception {
        MultibootHeader h = MultibootHeader.find("k", fileWith(64, 0, header(0x4, 0, 0, 0, 0, 0, 0, 1, 80, 25, 0)));
        assertThat(h.videoMode()).contains(new MultibootHeader.VideoMode(1, 80, 25, 0));
        assertThatThrownBy(() -> h.checkSupported("k"))
                .hasMessage("k: the kernel requires a video mode (multiboot header flag bit 2, flags 0x00000004); "
                        + "tdemu has no display");
    }

    @Test
    void pageAlignedModulesAndMemoryInfoAreSupportedAndUnknownOptionalBitsIgnored() throws Exception {
        MultibootHeader.find("k", fileWith(64, 0, header(0x00100003, 0))).checkSupported("k");
    }
}
