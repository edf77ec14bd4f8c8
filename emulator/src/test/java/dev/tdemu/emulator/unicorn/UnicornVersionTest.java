package dev.tdemu.emulator.unicorn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class UnicornVersionTest {
    @Test
    void acceptsTheInstalledTwoPointOnePointOne() {
        assertThat(UnicornVersion.isSupported(0x020101ff)).isTrue();
        assertThat(UnicornVersion.requireSupported(0x020101ff)).isEqualTo(new UnicornVersion(2, 1, 1));
    }

    @Test
    void acceptsLaterVersions() {
        assertThat(UnicornVersion.isSupported(0x020100ff)).isTrue();
        assertThat(UnicornVersion.isSupported(0x020200ff)).isTrue();
        assertThat(UnicornVersion.isSupported(0x030000ff)).isTrue();
    }

    @Test
    void refusesTwoPointZeroPointOneNamingThePackageToInstall() {
        assertThat(UnicornVersion.isSupported(0x020001ff)).isFalse();
        assertThatThrownBy(() -> UnicornVersion.requireSupported(0x020001ff))
                .isInstanceOf(UnicornUnavailableException.class)
                .hasMessageContaining("Unicorn 2.0.1")
                .hasMessageContaining("libunicorn2t64")
                .hasMessageContaining(">= 2.1")
                .hasMessageContaining("./tdemu setup")
                .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.VERSION));
    }

    @Test
    void refusesUnicornOneWhoseVersionIsPackedDifferently() {
        // Unicorn 1.x returned (major << 8) + minor.
        assertThat(UnicornVersion.fromPacked(0x0100)).isEqualTo(new UnicornVersion(1, 0, 0));
        assertThat(UnicornVersion.isSupported(0x0100)).isFalse();
        assertThatThrownBy(() -> UnicornVersion.requireSupported(0x0100))
                .hasMessageContaining("Unicorn 1.0.0")
                .hasMessageContaining("libunicorn2t64");
    }

    @Test
    void decodesMajorMinorPatchFromThePackedValue() {
        assertThat(UnicornVersion.fromPacked(0x020101ff)).isEqualTo(new UnicornVersion(2, 1, 1));
        assertThat(UnicornVersion.fromPacked(0x020001ff).toString()).isEqualTo("2.0.1");
    }

    @Test
    void theLoadedEngineIsTheInstalledOne() {
        assertThat(Unicorn.engineVersion()).isEqualTo(new UnicornVersion(2, 1, 1));
    }
}
