package dev.tdemu.emulator.cli;

import static dev.tdemu.emulator.cli.CliTest.tdemu;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.cli.CliTest.Run;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** `tdemu check --guest --config` with a scenario it cannot run: refused once, before any cell runs. */
@Timeout(60)
class CheckInputsTest {
    private static final String VALID = """
            name: "mine"
            modes: GUEST_MODE_VMX
            checks: "HOST_BREAKPOINTS_INTACT"
            """;

    @TempDir
    Path dir;

    private Path guest() throws IOException {
        try (var in = getClass().getResourceAsStream("/guests/debugger-target.elf")) {
            return Files.write(dir.resolve("target.elf"), in.readAllBytes());
        }
    }

    private Run check(byte[] scenario) throws IOException {
        Path config = Files.write(dir.resolve("mine.textproto"), scenario);
        return tdemu("check", "--guest", guest().toString(), "--config", config.toString());
    }

    private static void assertRefused(Run r, String message) {
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).startsWith("tdemu: ").contains(message).doesNotContain("Exception");
        assertThat(r.err().lines()).as("one line: " + r.err()).hasSize(1);
        assertThat(r.out()).as("no cell ran").isEmpty();
    }

    static Stream<Arguments> badScenarios() {
        return Stream.of(
                Arguments.of("vcpus: 4294967295", "mine.textproto: vcpus must be 1..16 (0 means 1), not 4294967295"),
                Arguments.of("vcpus: 17", "vcpus must be 1..16 (0 means 1), not 17"),
                Arguments.of("timeout_ms: 9223372036854775807", "timeout_ms must be at most 604800000 (7 days; 0 means 30 s), "
                        + "not 9223372036854775807"),
                Arguments.of("timeout_ms: 9223372036854775808", "not 9223372036854775808"),
                Arguments.of("timeout_ms: 18446744073709551615", "not 18446744073709551615"),
                Arguments.of("expected_exit_status: 256", "expected_exit_status must be 0..255"),
                Arguments.of("modes: GUEST_MODE_UNSPECIFIED", "modes are GUEST_MODE_VMX or GUEST_MODE_TD, not GUEST_MODE_UNSPECIFIED"),
                Arguments.of("host_breakpoints { address: 0x300100 kind: BREAKPOINT_KIND_WRITE length: 3 }",
                        "host_breakpoints 1: a breakpoint covers 1, 2, 4 or 8 bytes, not 3"),
                Arguments.of("host_breakpoints { address: 0x100000 kind: BREAKPOINT_KIND_EXECUTE }",
                        "host_breakpoints 1: host execute breakpoint 0x100000 must lie in host text"),
                Arguments.of("debugger { breakpoints { symbol: \"dbg_func\" } }",
                        "debugger breakpoints 1: kind must be BREAKPOINT_KIND_EXECUTE, BREAKPOINT_KIND_WRITE or "
                                + "BREAKPOINT_KIND_READ_WRITE, not BREAKPOINT_KIND_UNSPECIFIED"),
                Arguments.of("debugger { breakpoints { symbol: \"no_such_symbol\" kind: BREAKPOINT_KIND_EXECUTE } }",
                        "scenario mine: the debugger breakpoint on symbol 'no_such_symbol' cannot be set: target.elf has no "
                                + "such symbol"),
                Arguments.of("vcpus: twelve", "mine.textproto: not a valid Scenario textproto"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badScenarios")
    void aScenarioOutsideTheLimitsIsRefusedNamingIt(String extra, String message) throws IOException {
        assertRefused(check((VALID + extra + "\n").getBytes(StandardCharsets.UTF_8)), message);
    }

    @Test
    void aScenarioFileThatIsNotUtf8TextIsRefusedNamingTheByte() throws IOException {
        byte[] latin1 = (VALID + "description: \"caf\u00e9\"\n").getBytes(StandardCharsets.ISO_8859_1);
        int at = VALID.length() + "description: \"caf".length();
        assertRefused(check(latin1), "mine.textproto: not UTF-8 text (byte 0xe9 at offset " + at + ")");
        assertRefused(check(new byte[] {0x0a, 0x00, (byte) 0xff, 0x12}), "mine.textproto: not text (a NUL byte at offset 1)");
    }

    @Test
    void aScenarioThatIsNotARegularFileIsRefused() throws Exception {
        assertRefused(tdemu("check", "--guest", guest().toString(), "--config", dir.toString()),
                dir + ": a directory, not a regular file");
        Path fifo = dir.resolve("scenario.fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor()).isZero();
        assertRefused(tdemu("check", "--guest", guest().toString(), "--config", fifo.toString()),
                fifo + ": a FIFO, not a regular file");
    }

    @Test
    void theReportMayNotReplaceTheGuestOrTheScenario() throws Exception {
        Path config = Files.writeString(dir.resolve("mine.textproto"), VALID);
        Path guest = guest();
        byte[] before = Files.readAllBytes(guest);
        assertRefused(tdemu("check", "--guest", guest.toString(), "--config", config.toString(), "--report", guest.toString()),
                "--report " + guest + " would overwrite " + guest);
        assertThat(Files.readAllBytes(guest)).isEqualTo(before);
        assertRefused(tdemu("check", "--jobs", "100000"), "--jobs must be 1..256, not 100000");
    }
}
