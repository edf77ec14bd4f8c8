package dev.tdemu.emulator.cli;

import static dev.tdemu.emulator.cli.CliTest.tdemu;
import static dev.tdemu.emulator.cli.RunInputsTest.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.cli.CliTest.Run;
import dev.tdemu.emulator.vm.TraceReader;
import dev.tdemu.proto.TraceEnd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** `tdemu run --trace FILE`: never over an input, never before the guest loaded, replaced in one step, bounded. */
@Timeout(120)
class TraceOptionTest {
    private static Path hello(Path dir) throws IOException {
        try (var in = TraceOptionTest.class.getResourceAsStream("/guests/hello.elf")) {
            return Files.write(dir.resolve("v.elf"), in.readAllBytes());
        }
    }

    private static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** The exits of a whole trace, and its end record. */
    private static TraceEnd read(Path trace, long[] exits) throws Exception {
        try (TraceReader r = TraceReader.open(trace)) {
            while (r.next() != null) {
                exits[0]++;
            }
            assertThat(r.ending()).isInstanceOf(TraceReader.Ending.Complete.class);
            return ((TraceReader.Ending.Complete) r.ending()).end();
        }
    }

    @Test
    void aTraceThatIsTheGuestItselfIsRefusedAndTheGuestKeptThroughAnyLink(@TempDir Path dir) throws Exception {
        Path guest = hello(dir);
        byte[] original = Files.readAllBytes(guest);
        Path symlink = Files.createSymbolicLink(dir.resolve("sym.trace"), guest.getFileName());
        Path hardLink = Files.createLink(dir.resolve("hard.trace"), guest);
        for (Path trace : List.of(guest, dir.resolve(".").resolve("v.elf"), symlink, hardLink)) {
            assertRefused(tdemu("run", guest.toString(), "--trace", trace.toString()),
                    "--trace " + trace + " is the same file as " + guest + ", which this run reads");
            assertThat(Files.readAllBytes(guest)).as(trace.toString()).isEqualTo(original);
        }
        assertThat(files(dir)).containsExactly("hard.trace", "sym.trace", "v.elf");
    }

    @Test
    void aRunThatCannotLoadItsGuestLeavesAnExistingTraceAlone(@TempDir Path dir) throws Exception {
        Path trace = Files.writeString(dir.resolve("exits.trace"), "last week's trace");
        Path junk = Files.writeString(dir.resolve("junk.elf"), "not an ELF");
        assertRefused(tdemu("run", junk.toString(), "--trace", trace.toString()), "junk.elf: not an ELF file (bad magic)");
        assertRefused(tdemu("run", "builtin:nope", "--trace", trace.toString()), "no built-in guest named 'nope'");
        assertRefused(tdemu("run", dir.resolve("absent.elf").toString(), "--trace", trace.toString()), "absent.elf: no such file");
        assertThat(Files.readString(trace)).isEqualTo("last week's trace");
        assertThat(files(dir)).containsExactly("exits.trace", "junk.elf");
    }

    @Test
    void aFinishedRunReplacesTheTraceInOneStepAndLeavesNothingElse(@TempDir Path dir) throws Exception {
        Path trace = Files.writeString(dir.resolve("exits.trace"), "last week's trace");
        Run r = tdemu("run", "builtin:hello", "--trace", trace.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        long[] exits = {0};
        TraceEnd end = read(trace, exits);
        assertThat(exits[0]).isPositive().isEqualTo(end.getExitsRecorded());
        assertThat(end.getEndedBy()).isEqualTo("guest exited with status 0");
        assertThat(files(dir)).containsExactly("exits.trace");
    }

    @Test
    void theTraceLimitCutsTheTraceWhichKeepsWhatItHasAndSaysItWasCut(@TempDir Path dir) throws Exception {
        Path guest = TestGuests.exiting(dir, 3000);
        Path trace = dir.resolve("exits.trace");
        Run r = tdemu("run", guest.toString(), "--trace", trace.toString(), "--trace-limit", "64K");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).containsPattern("tdemu: the trace reached --trace-limit 64K after \\d+ exit\\(s\\); it keeps those "
                + "and records that it was cut");
        assertThat(Files.size(trace)).isLessThanOrEqualTo(64 << 10);
        long[] exits = {0};
        TraceEnd end = read(trace, exits);
        assertThat(exits[0]).isEqualTo(end.getExitsRecorded()).isGreaterThan(100);
        assertThat(end.getExitsRecorded() + end.getExitsNotRecorded()).as("every CPUID and the exit").isEqualTo(3001);
        assertThat(end.getSizeLimit()).isEqualTo(64 << 10);

        Run shown = tdemu("trace", "show", trace.toString());
        assertThat(shown.exit()).isZero();
        assertThat(shown.out()).contains(exits[0] + " exit(s); the run ended: guest exited with status 0")
                .contains("the trace was cut at its size limit (64 KiB): " + end.getExitsNotRecorded()
                        + " later exit(s) were not recorded");
    }

    @Test
    void theDefaultTraceLimitIsOneGibibyte() {
        assertThat(tdemu("run", "--help").out()).containsPattern("--trace-limit=SIZE\\s+The most the trace may take")
                .contains("Default: 1G");
    }

    @Test
    void aTraceOnADeviceOrInAMissingDirectoryIsRefused(@TempDir Path dir) {
        assertRefused(tdemu("run", "builtin:hello", "--trace", "/dev/full"), "/dev/full: a character device, not a regular file");
        assertThat(Files.isRegularFile(Path.of("/dev/full"))).isFalse();
        assertRefused(tdemu("run", "builtin:hello", "--trace", dir.resolve("no/such.trace").toString()), "no such directory");
    }
}
