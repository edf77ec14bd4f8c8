package dev.tdemu.emulator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CliTest {
    record Run(int exit, String out, String err) {}

    static Run tdemu(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void checkRunsTheHelloGuestAndSucceeds() {
        Run r = tdemu("check");
        assertThat(r.out()).contains("Hello from a tdemu guest!").contains("exited with status 0");
        assertThat(r.exit()).isZero();
    }

    @Test
    void runReturnsTheGuestsExitStatusAndPrintsItsConsole() {
        Run r = tdemu("run", "builtin:hello");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).isEqualTo("Hello from a tdemu guest!\n");
    }

    @Test
    void aGuestThatLoopsForeverIsStoppedByTheTimeout() {
        Run r = tdemu("run", "builtin:binding-loop", "--timeout", "200ms");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("guest timeout").contains("did not finish within 200 ms");
    }

    @Test
    void malformedGuestFilesAreReportedPlainly(@TempDir Path tmp) throws Exception {
        Path junk = Files.writeString(tmp.resolve("junk.elf"), "definitely not an ELF");
        Run r = tdemu("run", junk.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("tdemu: junk.elf: not an ELF file (bad magic)\n");
        Run missing = tdemu("run", tmp.resolve("absent.elf").toString());
        assertThat(missing.err()).contains("absent.elf: no such file");
    }

    @Test
    void unknownBuiltinAndBadDurationAreUserErrors() {
        assertThat(tdemu("run", "builtin:nope").err()).contains("no built-in guest named 'nope'");
        Run r = tdemu("run", "builtin:hello", "--timeout", "soon");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("'soon' is not a duration");
    }

    @Test
    void guestsListsTheBuiltInGuests() {
        assertThat(tdemu("guests").out().lines()).contains("hello");
    }

    @Test
    void badLogSettingsAreRefusedBeforeAnythingRuns() {
        Run r = tdemu("--log", "nosuch=debug", "guests");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("unknown log subsystem 'nosuch'");
        assertThat(r.out()).isEmpty();
        assertThat(tdemu("--log", "cpu=loud", "guests").err()).contains("unknown log level");
        assertThat(tdemu("--log", "cpu=warn", "guests").exit()).isZero();
    }

    @Test
    void durationsAcceptTheUsualUnits() {
        assertThat(Durations.parse("500ms").toMillis()).isEqualTo(500);
        assertThat(Durations.parse("3").toSeconds()).isEqualTo(3);
        assertThat(Durations.parse("2m").toSeconds()).isEqualTo(120);
    }
}
