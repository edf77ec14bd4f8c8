package dev.tdemu.emulator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.vm.TraceFiles;
import dev.tdemu.emulator.vm.TraceReader;
import dev.tdemu.proto.TraceEnd;
import dev.tdemu.proto.TraceRecord;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CLI as its own process, for what only a process shows: signals, a reader that goes away,
 * and memory that must not grow with the input. Every wait is on an event (output appearing,
 * a pipe breaking, the process ending); the timeouts only bound a test that went wrong.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a blocked read is not interruptible
class CliProcessTest {
    private final List<Process> started = new ArrayList<>();

    /** A test that failed half-way leaves no tdemu behind. */
    @AfterEach
    void endWhatIsLeft() {
        started.forEach(Process::destroyForcibly);
    }

    /** `tdemu ARGS` in a JVM of its own, on this test's class path (the main configuration's logging: stderr). */
    private Process tdemu(List<String> jvmOptions, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-Dlog4j2.configurationFile=log4j2.xml");
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        started.add(p);
        return p;
    }

    /** What the callable returns or throws, computed on a thread of its own (never a shared pool: these block). */
    private static <T> CompletableFuture<T> onItsOwnThread(java.util.concurrent.Callable<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    private static CompletableFuture<byte[]> drain(InputStream in) {
        return onItsOwnThread(in::readAllBytes);
    }

    @ParameterizedTest(name = "SIG{0}")
    @CsvSource({"INT, 130", "TERM, 143"})
    void aSignalStopsTheRunWhichFlushesTheConsoleReportsEachVcpuAndFinishesTheTrace(String signal, int status,
            @TempDir Path dir) throws Exception {
        byte[] message = ("start\n" + "x".repeat(64 << 10) + "\ntail of what the guest printed\n").getBytes(StandardCharsets.US_ASCII);
        Path guest = TestGuests.printingThenLooping(dir, message);
        Path trace = dir.resolve("exits.trace");
        Process p = tdemu(List.of(), "run", guest.toString(), "--vcpus", "2", "--timeout", "0", "--trace", trace.toString());
        CompletableFuture<byte[]> err = drain(p.getErrorStream());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CountDownLatch printed = new CountDownLatch(1);
        Thread reader = Thread.ofPlatform().start(() -> {
            byte[] buffer = new byte[8192];
            try (InputStream in = p.getInputStream()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    synchronized (out) {
                        out.write(buffer, 0, n);
                    }
                    printed.countDown();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(printed.await(60, TimeUnit.SECONDS)).as("the guest's output appeared").isTrue();
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor()).isZero();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("tdemu ended").isTrue();
        reader.join();
        String stderr = new String(err.get(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(stderr).isEqualTo(status);
        assertThat(out.toByteArray()).as("all of the console, the part still buffered too").isEqualTo(message);
        assertThat(stderr).containsPattern("tdemu: guest interrupted: stopped by SIG" + signal
                + "; vCPU 0 at RIP 0x1000[0-9a-f]{2}, vCPU 1 at RIP 0x1000[0-9a-f]{2}\n");
        try (TraceReader r = TraceReader.open(trace)) {
            while (r.next() != null) {
                // every exit up to the signal
            }
            assertThat(r.exitsRead()).as("the console hypercall at least").isPositive();
            assertThat(r.ending()).isInstanceOfSatisfying(TraceReader.Ending.Complete.class,
                    c -> assertThat(c.end().getEndedBy()).isEqualTo("stopped by SIG" + signal));
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString()).sorted()).containsExactly("exits.trace", "loop.elf");
        }
    }

    /** Writes a trace into {@code out}: the header, then exits until {@code count} or until nobody reads. */
    private static long feed(OutputStream out, long count) throws IOException {
        long n = 0;
        try (OutputStream o = new BufferedOutputStream(out, 1 << 16)) {
            TraceFiles.preamble(o);
            TraceFiles.record(o, TraceRecord.newBuilder().setHeader(TraceFiles.header()).build());
            while (n < count) {
                TraceFiles.record(o, TraceRecord.newBuilder().setExit(TraceFiles.exit(++n)).build());
            }
        }
        return n;
    }

    private static Path fifo(Path dir) throws Exception {
        Path f = dir.resolve("trace.fifo");
        assertThat(new ProcessBuilder("mkfifo", f.toString()).inheritIO().start().waitFor()).isZero();
        return f;
    }

    @Test
    void traceShowStopsReadingOnceItsOutputIsClosed(@TempDir Path dir) throws Exception {
        Path fifo = fifo(dir);
        Process p = tdemu(List.of("-Xmx64m"), "trace", "show", fifo.toString());
        CompletableFuture<byte[]> err = drain(p.getErrorStream());
        // An endless trace: the writer only stops when tdemu no longer reads (EPIPE on the FIFO).
        CompletableFuture<Throwable> writer = onItsOwnThread(() -> {
            try (OutputStream o = Files.newOutputStream(fifo)) {
                feed(o, Long.MAX_VALUE);
                return null;
            } catch (IOException e) {
                return e;
            }
        });
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(lines.readLine()).startsWith("trace of builtin:made-up");
            assertThat(lines.readLine()).startsWith("#1  vCPU 1");
        } // like `| head -2`: the reader goes away
        assertThat(writer.get(60, TimeUnit.SECONDS)).as("tdemu stopped reading the trace").hasMessageContaining("Broken pipe");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(err.get(), StandardCharsets.UTF_8)).isEqualTo(TraceCommand.Show.CLOSED_PIPE);
    }

    @Test
    void traceShowReadsATraceFarLargerThanItsHeap(@TempDir Path dir) throws Exception {
        Path fifo = fifo(dir);
        // 32 MiB of heap; the trace is about 60 MB and 400,000 exits, each several objects once parsed
        Process p = tdemu(List.of("-Xmx32m"), "trace", "show", fifo.toString(), "--vcpu", "7");
        CompletableFuture<byte[]> out = drain(p.getInputStream());
        CompletableFuture<byte[]> err = drain(p.getErrorStream());
        long written;
        try (OutputStream o = Files.newOutputStream(fifo)) {
            written = feed(o, 400_000);
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String stderr = new String(err.get(), StandardCharsets.UTF_8);
        assertThat(stderr).as("a trace without its end record").isEqualTo("tdemu: warning: " + fifo + " ends after " + written
                + " exit(s) without its end record: the run that wrote it did not finish\n");
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(new String(out.get(), StandardCharsets.UTF_8)).endsWith("400000 exit(s), 0 shown\n");
    }

    @Test
    void aTraceShownByTheProcessIsPrintedInFullWithItsEndRecord(@TempDir Path dir) throws Exception {
        Path file = Files.write(dir.resolve("t.trace"), TraceFiles.trace(3));
        Process p = tdemu(List.of(), "trace", "show", file.toString(), "--json");
        CompletableFuture<byte[]> out = drain(p.getInputStream());
        CompletableFuture<byte[]> err = drain(p.getErrorStream());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(err.get(), StandardCharsets.UTF_8)).isZero();
        TraceEnd end = TraceFiles.end(3);
        assertThat(new String(out.get(), StandardCharsets.UTF_8)).contains("\"exits_recorded\": \"" + end.getExitsRecorded() + "\"");
    }
}
