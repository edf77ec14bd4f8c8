package dev.tdemu.emulator.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class QemuSizeTest {
    @ParameterizedTest(name = "-m {0} = {1} bytes")
    @CsvSource({
        "128, 134217728",
        "2048, 2147483648",
        "512M, 536870912",
        "512m, 536870912",
        "4g, 4294967296",
        "2G, 2147483648",
        "1.5G, 1610612736",
        "0.5, 524288",
        "131072K, 134217728",
        "134217728B, 134217728",
        "1T, 1099511627776",
        "' 64M ', 67108864",
    })
    void aNumberIsMebibytesUnlessAUnitSaysOtherwise(String text, long bytes) {
        assertThat(QemuSize.parse(text, 'M', "-m")).isEqualTo(bytes);
    }

    @ParameterizedTest(name = "-m {0}")
    @ValueSource(strings = {"", "M", "-1", "12Q", "1,5G", "0x10", "1e3", "++1", "1.G"})
    void whatIsNotASizeIsRefusedNamingTheOptionAndTheText(String text) {
        assertThatThrownBy(() -> QemuSize.parse(text, 'M', "-m")).isInstanceOf(QemuOptionException.class)
                .hasMessage("-m " + text + ": not a size (a number of MiB, or with a unit: 512M, 2G, 1.5G)");
    }

    @org.junit.jupiter.api.Test
    void aFractionOfAByteAndAnOverflowAreRefused() {
        assertThatThrownBy(() -> QemuSize.parse("1.1B", 'M', "-m")).hasMessage("-m 1.1B: not a whole number of bytes");
        assertThatThrownBy(() -> QemuSize.parse("16E", 'M', "-m")).hasMessage("-m 16E: too large");
    }

    @org.junit.jupiter.api.Test
    void sizesReadBackInTheLargestUnitThatDividesThem() {
        assertThat(QemuSize.describe(128L << 20)).isEqualTo("128 MiB");
        assertThat(QemuSize.describe(3L << 30)).isEqualTo("3 GiB");
        assertThat(QemuSize.describe(1536L << 10)).isEqualTo("1536 KiB");
        assertThat(QemuSize.describe(1000)).isEqualTo("1000 bytes");
    }
}
