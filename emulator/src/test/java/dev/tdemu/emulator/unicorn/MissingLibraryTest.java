package dev.tdemu.emulator.unicorn;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Without libunicorn.so.2 the binding refuses with a message saying what to install, not a linkage error. */
class MissingLibraryTest {
    /** Runs in a child JVM whose tdemu.unicorn.library names a library that does not exist. */
    public static void main(String[] args) {
        for (int i = 0; i < 2; i++) { // the second attempt must fail just as clearly
            try {
                Unicorn.open().close();
                System.out.println("OPENED");
            } catch (UnicornUnavailableException e) {
                System.out.println("REFUSED " + e.getMessage());
            }
        }
    }

    @Test
    void aMissingLibraryIsReportedWithWhatToInstall() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-D" + UcLibrary.LIBRARY_PROPERTY + "=libunicorn-not-installed.so.2",
                "-cp", System.getProperty("java.class.path"), MissingLibraryTest.class.getName()))
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out.lines().filter(l -> l.startsWith("REFUSED"))).hasSize(2).allSatisfy(l -> assertThat(l)
                .contains("libunicorn-not-installed.so.2) was not found")
                .contains("libunicorn2t64")
                .contains("./tdemu setup"));
        assertThat(out).doesNotContain("UnsatisfiedLinkError").doesNotContain("OPENED");
    }
}
