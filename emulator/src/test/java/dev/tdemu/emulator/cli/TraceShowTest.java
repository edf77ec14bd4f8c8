package dev.tdemu.emulator.cli;

import static dev.tdemu.emulator.cli.CliTest.tdemu;
import static dev.tdemu.emulator.cli.RunInputsTest.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tdemu.emulator.cli.CliTest.Run;
import dev.tdemu.emulator.vm.TraceFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** `tdemu trace show`: streams, validates the framing, shows what a damaged trace still has. */
@Timeout(60)
class TraceShowTest {
    private static int blocks(String out) {
        return (int) out.lines().filter(l -> l.startsWith("#")).count();
    }

    @Test
    void aWholeTraceShowsEveryExitAndHowTheRunEnded(@TempDir Path dir) throws Exception {
        Path t = Files.write(dir.resolve("t.trace"), TraceFiles.trace(6));
        Run r = tdemu("trace", "show", t.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("trace of builtin:made-up: GUEST_MODE_VMX").contains("2 vCPU(s)")
                .endsWith("6 exit(s); the run ended: guest exited with status 0\n");
        assertThat(blocks(r.out())).isEqualTo(6);
        assertThat(r.err()).isEmpty();
    }

    @Test
    void violationsVcpuAndJsonStillSelectAndFormat(@TempDir Path dir) throws Exception {
        Path t = Files.write(dir.resolve("t.trace"), TraceFiles.trace(12));
        Run violations = tdemu("trace", "show", t.toString(), "--violations");
        assertThat(blocks(violations.out())).as("exits 3, 6, 9, 12").isEqualTo(4);
        assertThat(violations.out()).contains("12 exit(s), 4 shown");
        Run vcpu1 = tdemu("trace", "show", t.toString(), "--vcpu", "1");
        assertThat(blocks(vcpu1.out())).as("odd exits").isEqualTo(6);
        Run both = tdemu("trace", "show", t.toString(), "--vcpu", "1", "--violations", "--json");
        assertThat(both.exit()).isZero();
        JsonObject doc = JsonParser.parseString(both.out()).getAsJsonObject();
        assertThat(doc.getAsJsonObject("header").getAsJsonObject("config").get("guest_image").getAsString())
                .isEqualTo("builtin:made-up");
        assertThat(doc.getAsJsonArray("exits")).hasSize(2); // 3 and 9
        assertThat(doc.getAsJsonArray("exits").get(1).getAsJsonObject().get("sequence").getAsString()).isEqualTo("9");
        assertThat(doc.getAsJsonObject("end").get("exits_recorded").getAsString()).isEqualTo("12");
        assertRefused(tdemu("trace", "show", t.toString(), "--vcpu", "-1"), "--vcpu must be a vCPU index (0 or more), not -1");
    }

    @Test
    void aTraceCutByThreeBytesShowsEveryExitThenWarns(@TempDir Path dir) throws Exception {
        byte[] whole = TraceFiles.trace(6);
        Path t = Files.write(dir.resolve("t.trace"), Arrays.copyOf(whole, whole.length - 3));
        Run r = tdemu("trace", "show", t.toString());
        assertThat(blocks(r.out())).isEqualTo(6);
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("tdemu: warning: " + t + " is truncated").contains("6 complete exit(s)");
        assertThat(r.err().lines()).hasSize(1);
    }

    @Test
    void aTraceCutInsideAnExitShowsTheCompleteOnesAndItsJsonSaysWhatIsWrong(@TempDir Path dir) throws Exception {
        Path t = Files.write(dir.resolve("t.trace"), Arrays.copyOf(TraceFiles.trace(6), TraceFiles.offsetOfExit(5) + 7));
        Run r = tdemu("trace", "show", t.toString());
        assertThat(blocks(r.out())).isEqualTo(4);
        assertThat(r.out()).contains("4 exit(s)");
        assertThat(r.exit()).isEqualTo(2);
        Run json = tdemu("trace", "show", t.toString(), "--json");
        JsonObject doc = JsonParser.parseString(json.out()).getAsJsonObject();
        assertThat(doc.getAsJsonArray("exits")).hasSize(4);
        assertThat(doc.get("end").isJsonNull()).isTrue();
        assertThat(doc.get("problem").getAsString()).contains("is truncated");
    }

    @Test
    void aDamagedRecordEndsTheTraceWithAWarning(@TempDir Path dir) throws Exception {
        byte[] bad = TraceFiles.trace(6);
        bad[TraceFiles.offsetOfExit(3) + 30] ^= 0x10;
        Path t = Files.write(dir.resolve("t.trace"), bad);
        Run r = tdemu("trace", "show", t.toString());
        assertThat(blocks(r.out())).isEqualTo(2);
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("tdemu: warning: " + t + " is damaged at offset " + TraceFiles.offsetOfExit(3)
                + " (checksum mismatch); the 2 exit(s) before it were read\n");
    }

    @Test
    void filesThatAreNotTracesAreRefusedAtOnce(@TempDir Path dir) throws Exception {
        Path empty = Files.write(dir.resolve("empty.trace"), new byte[0]);
        assertRefused(tdemu("trace", "show", empty.toString()), empty + ": an empty file, not a tdemu exit trace");
        assertRefused(tdemu("trace", "show", "/dev/zero"), "/dev/zero: not a tdemu exit trace");
        assertRefused(tdemu("trace", "show", dir.toString()), dir + ": a directory, not an exit trace");
        ByteArrayOutputStream old = new ByteArrayOutputStream();
        TraceFiles.header().writeDelimitedTo(old);
        TraceFiles.exit(1).writeDelimitedTo(old);
        Path oldTrace = Files.write(dir.resolve("old.trace"), old.toByteArray());
        assertRefused(tdemu("trace", "show", oldTrace.toString()),
                "traces written before trace format version 1 have none and must be recorded again");
    }

    @Test
    void showingStopsAsSoonAsNobodyReadsTheOutput(@TempDir Path dir) throws Exception {
        Path t = Files.write(dir.resolve("t.trace"), TraceFiles.trace(100_000));
        // stdout whose reader went away after 16 KiB, as `| head` does: every later write fails (EPIPE)
        OutputStream closedPipe = new OutputStream() {
            long written;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (written + len > 16 << 10) {
                    throw new IOException("Broken pipe");
                }
                written += len;
            }
        };
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        var cl = Main.commandLine(new Main.Streams(new PrintStream(closedPipe, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false));
        int exit = cl.execute("trace", "show", t.toString());
        assertThat(exit).isEqualTo(TraceCommand.Show.CLOSED_PIPE);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }
}
