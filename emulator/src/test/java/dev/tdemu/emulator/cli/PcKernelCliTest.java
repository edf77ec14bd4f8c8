package dev.tdemu.emulator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * `tdemu run` with a Multiboot kernel (the PC machine, chosen by the header): COM1 to stdout byte
 * for byte, isa-debug-exit as the process status, a timer storm ended by --timeout and by
 * SIGINT, and bad kernels refused with one line before anything runs. The kernels are
 * testguests' (testguests/src/main/multiboot).
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a blocked read is not interruptible
class PcKernelCliTest {
    private static final int MAGIC = 0x1BADB002;
    private final List<Process> started = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void endWhatIsLeft() {
        started.forEach(Process::destroyForcibly);
    }

    private Path kernel(String file) {
        try (InputStream in = getClass().getResourceAsStream("/guests/multiboot/" + file)) {
            if (in == null) {
                throw new IllegalStateException("test kernel guests/multiboot/" + file + " missing: build testguests");
            }
            return Files.write(dir.resolve(file), in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The offset of the Multiboot header in {@code file}. */
    private static int header(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        for (int off = 0; off + 4 <= Math.min(file.length, 8192); off += 4) {
            if (b.getInt(off) == MAGIC) {
                return off;
            }
        }
        throw new IllegalStateException("no multiboot header");
    }

    @Test
    void com1GoesToStdoutUnchangedAndTheKernelsChecksPass() {
        CliTest.Run r = CliTest.tdemu("run", kernel("pc64-serial.elf").toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(1); // isa-debug-exit 0: (0 << 1) | 1
        assertThat(r.err()).isEmpty();
        byte[] expected = new byte[256];
        for (int i = 0; i < 256; i++) {
            expected[i] = (byte) i;
        }
        String out = new String(r.stdout(), StandardCharsets.ISO_8859_1);
        int at = out.indexOf("bytes<");
        assertThat(at).as(out).isNotNegative();
        assertThat(Arrays.copyOfRange(r.stdout(), at + 6, at + 6 + 256)).isEqualTo(expected);
        assertThat(out.substring(at + 6 + 256)).startsWith(">end\n");
        assertThat(out).contains("conformance pc64-serial: ").doesNotContain("FAIL");
    }

    @Test
    void theProcessEndsWithTheIsaDebugExitStatus() {
        Path k = kernel("pc64-exit.elf");
        assertThat(CliTest.tdemu("run", k.toString(), "--append", "f4:b:2a").exit()).isEqualTo(0x2a << 1 | 1);
        assertThat(CliTest.tdemu("run", k.toString(), "--append", "f4:l:0").exit()).isEqualTo(1);
    }

    @Test
    void aTimerStormEndsAtTheTimeLimitWithOneClearLine() {
        CliTest.Run r = CliTest.tdemu("run", "--timeout", "1s", kernel("pc64-storm.elf").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("storm on\n" + ".".repeat(8192) + "\n");
        assertThat(r.err()).matches("tdemu: guest timeout: the guest did not finish within 1000 ms; vCPU 0 at RIP 0x[0-9a-f]+\n");
    }

    @Test
    void aHeaderWithABadChecksumIsRefusedBeforeTheRun() throws IOException {
        byte[] k = Files.readAllBytes(kernel("pc64-smoke.elf"));
        k[header(k) + 8] ^= 1;
        Path bad = Files.write(dir.resolve("bad.elf"), k);
        assertRefused(CliTest.tdemu("run", bad.toString()), bad + ": the multiboot header at file offset 0x"
                + Integer.toHexString(header(k)) + " has a bad checksum");
    }

    @Test
    void aKernelLoadingOutsideRamIsRefusedBeforeTheRun() throws IOException {
        // The a.out-kludge kernel's header says where it loads: move that to 1 GiB, beyond 128 MiB of RAM.
        byte[] k = Files.readAllBytes(kernel("pc-bootinfo-aout.bin"));
        ByteBuffer b = ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN);
        int fields = header(k) + 12;
        for (int i = 0; i < 5; i++) {
            b.putInt(fields + 4 * i, b.getInt(fields + 4 * i) + 0x3FF0_0000);
        }
        Path high = Files.write(dir.resolve("high.bin"), k);
        assertRefused(CliTest.tdemu("run", high.toString(), "--memory", "128M"), "lies outside guest RAM (0x0..0x8000000)");
    }

    @Test
    void anInitrdLargerThanRamIsRefusedBeforeTheRun() throws IOException {
        Path huge = dir.resolve("huge.img");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(16L << 20); // sparse: nothing is written
        }
        assertRefused(CliTest.tdemu("run", kernel("pc32-bootinfo.elf").toString(), "--memory", "8M", "--initrd", huge.toString()),
                huge + ": the module file (16777216 bytes) is larger than guest RAM (8388608 bytes)");
    }

    private static void assertRefused(CliTest.Run r, String message) {
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.stdout()).as("nothing ran").isEmpty();
        assertThat(r.err()).startsWith("tdemu: ").contains(message);
        assertThat(r.err().lines()).as(r.err()).hasSize(1);
    }

    /** SIGINT reaches tdemu while the guest drowns in timer interrupts: it stops, says so and reports where. */
    @Test
    void sigintStopsATimerStorm() throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dlog4j2.configurationFile=log4j2.xml", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "run", "--timeout", "0",
                kernel("pc64-storm.elf").toString());
        Process p = new ProcessBuilder(command).start();
        started.add(p);
        CompletableFuture<byte[]> err = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                err.complete(p.getErrorStream().readAllBytes());
            } catch (IOException e) {
                err.completeExceptionally(e);
            }
        });
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CountDownLatch stormOn = new CountDownLatch(1);
        Thread reader = Thread.ofPlatform().start(() -> {
            try (InputStream in = p.getInputStream()) {
                for (int c; (c = in.read()) >= 0; ) {
                    synchronized (out) {
                        out.write(c);
                        if (out.size() == 9 && out.toString(StandardCharsets.US_ASCII).equals("storm on\n")) {
                            stormOn.countDown();
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertThat(stormOn.await(60, TimeUnit.SECONDS)).as("the kernel started its storm").isTrue();
        assertThat(new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor()).isZero();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("tdemu ended").isTrue();
        reader.join();
        String stderr = new String(err.get(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(stderr).isEqualTo(130);
        assertThat(stderr).matches("tdemu: guest interrupted: stopped by SIGINT; vCPU 0 at RIP 0x[0-9a-f]+\n");
        // The first 8 KiB reached the pipe when the console's buffer filled (that is how "storm on"
        // showed); what the guest wrote after that was still buffered at the signal and must be
        // there too. How much it wrote by then is its own business on a busy machine: at least the
        // 8,183 dots of the first 8 KiB, at most all 8,192 and the newline.
        String console = out.toString(StandardCharsets.US_ASCII);
        assertThat(console).as("all of the console, the part still buffered too")
                .matches("storm on\n\\.{8183,8192}\n?").startsWith("storm on\n" + ".".repeat(8183));
        assertThat(console.endsWith("\n") == console.equals("storm on\n" + ".".repeat(8192) + "\n"))
                .as("a newline only after all 8,192 dots").isTrue();
    }
}
