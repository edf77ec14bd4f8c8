package dev.tdemu.emulator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.gdbstub.RspClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** {@code tdemu run --gdb PORT --wait} says what the guest does, and does it. */
@Timeout(120)
class RunWithGdbTest {
    private static final Pattern PORT = Pattern.compile("GDB stub on 127\\.0\\.0\\.1:(\\d+) ");

    /** The buffer's text so far (the run writes to it from its own thread). */
    private static String text(ByteArrayOutputStream buffer) {
        synchronized (buffer) {
            return buffer.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void aNonDebugTdWaitsForGdbSaysWhatGdbWillSeeAndRunsOnOnceGdbLeaves() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        CommandLine cl = Main.commandLine(new Main.Streams(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false));
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(
                () -> cl.execute("run", "builtin:debuggee", "--mode", "td", "--gdb", "0", "--wait"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Matcher m = PORT.matcher("");
        while (!m.reset(text(err)).find()) {
            assertThat(run).as("the run ended before the stub listened: " + text(err)).isNotDone();
            assertThat(System.nanoTime()).as("the stub's line never came").isLessThan(deadline);
            Thread.sleep(10);
        }
        assertThat(text(err))
                .contains("the guest waits at its first instruction until gdb continues it, or detaches or quits "
                        + "(then it runs on without a debugger)")
                .contains("this TD is not a debug TD: gdb can attach and use the host-side monitor commands (dr, exits, "
                        + "policy, check), but sees no registers or memory (run it with --debug-td)");
        try (RspClient gdb = RspClient.connect("127.0.0.1", Integer.parseInt(m.group(1)), Duration.ofSeconds(30))) {
            gdb.request("qSupported:multiprocess+;swbreak+;hwbreak+");
            assertThat(gdb.request("?")).startsWith("T05");
            assertThat(gdb.monitor("dr").output()).contains("TD's own     (hidden: not a debug TD)");
            assertThat(run).as("held for gdb").isNotDone();
            assertThat(gdb.request("D;1")).isEqualTo("OK");
        }
        assertThat(run.get(60, TimeUnit.SECONDS)).as("the guest's exit status after it ran on: " + text(err)).isZero();
        assertThat(text(out)).contains("debuggee: done");
    }
}
