package dev.tdemu.emulator.cli;

import static dev.tdemu.emulator.cli.PcKernelFiles.kernel;
import static dev.tdemu.emulator.cli.PcKernelFiles.tdemu;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.cli.CliTest.Run;
import dev.tdemu.emulator.vm.VmResult;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** `tdemu qemu`: kvm-unit-tests' runner's command lines run on tdemu, with QEMU's exit statuses. */
@Timeout(120)
class QemuCommandTest {
    /** The runner's options before -kernel (x86/run, with pc-testdev present and pci-testdev absent). */
    static final List<String> RUNNER = List.of("qemu", "--no-reboot", "-nodefaults", "-global", "kvm-pit.lost_tick_policy=discard",
            "-device", "pc-testdev", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4", "-display", "none", "-serial", "stdio",
            "-machine", "accel=tcg");

    static String[] runner(Path kernel, String... more) {
        List<String> args = new ArrayList<>(RUNNER);
        args.add("-kernel");
        args.add(kernel.toString());
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    static Run qemu(String... args) {
        return tdemu(InputStream.nullInputStream(), Map.of(), args);
    }

    @Test
    void aKernelThatPassesPrintsItsReportAndExitsWithIsaDebugExitsStatusAndNothingOnStderr(@TempDir Path dir) throws Exception {
        Path env = Files.writeString(dir.resolve("env"), "TARGET=\nQEMU_ACCEL=tcg\n");
        Run r = qemu(runner(kernel(dir, "mb-exit-pass.elf"), "-smp", "1", "-initrd", env.toString(), "-m", "64"));
        assertThat(r.out()).isEqualTo("PASS: mb-exit-pass\nSUMMARY: 1 tests\n");
        assertThat(r.exit()).as("(0 << 1) | 1").isEqualTo(1);
        assertThat(r.err()).as("the runner reads anything on stderr as QEMU failing").isEmpty();
    }

    @Test
    void theRunnersSmpTwoStartsTheApplicationProcessorAndExitsWithTheKernelsStatus(@TempDir Path dir) throws Exception {
        Path env = Files.writeString(dir.resolve("env"), "TARGET=\nQEMU_ACCEL=tcg\n");
        Run r = qemu(runner(kernel(dir, "pc64-smp.elf"), "-smp", "2", "-initrd", env.toString()));
        assertThat(r.out()).contains("smp.cpus 0x2\n").contains("conformance pc64-smp: 34 passed, 0 failed\n")
                .doesNotContain("FAIL");
        assertThat(r.exit()).as("(0 << 1) | 1").isEqualTo(1);
        assertThat(r.err()).isEmpty();
    }

    @Test
    void serialStdioFeedsStdinToComOneByteExactly(@TempDir Path dir) throws Exception {
        byte[] payload = new byte[8 * 1024];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (1 + i % 255); // every value but NUL, which ends the echo
        }
        byte[] input = java.util.Arrays.copyOf(payload, payload.length + 1);
        Run r = tdemu(new ByteArrayInputStream(input), Map.of(), runner(kernel(dir, "mb-serial-echo.elf")));
        assertThat(r.stdout()).isEqualTo(payload);
        assertThat(r.exit()).as("(0x2A << 1) | 1").isEqualTo(85);
        assertThat(r.err()).isEmpty();
    }

    @Test
    void aMissingKernelIsSaidInQemusWordsWhichTheRunnerLooksFor(@TempDir Path dir) {
        Run r = qemu(runner(dir.resolve("_NO_FILE_4Uhere_"), "-smp", "1"));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("tdemu: could not load kernel '" + dir.resolve("_NO_FILE_4Uhere_") + "': no such file\n");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void aMissingInitrdIsSaid(@TempDir Path dir) throws Exception {
        Run r = qemu(runner(kernel(dir, "mb-exit-pass.elf"), "-initrd", dir.resolve("env").toString()));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("tdemu: could not load initrd '" + dir.resolve("env") + "': no such file\n");
    }

    @Test
    void aRefusedOptionIsOneLineNamingItAndExitTwo(@TempDir Path dir) throws Exception {
        Run r = qemu(runner(kernel(dir, "mb-exit-pass.elf"), "-chardev", "file,id=x,path=y"));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("tdemu: -chardev: not an option tdemu qemu accepts (tdemu qemu -help lists them)\n");
        Run smp = qemu(runner(kernel(dir, "mb-exit-pass.elf"), "-smp", "65"));
        assertThat(smp.exit()).isEqualTo(2);
        assertThat(smp.err()).endsWith("Invalid SMP CPUs 65. The max CPUs supported by machine 'pc' is 64\n");
        assertThat(smp.err().lines()).hasSize(1);
    }

    @Test
    void aGdbPortTheUserChoseIsServedQuietlyAsQemuDoesAndOneTheSystemChoseIsTold(@TempDir Path dir) throws Exception {
        int port;
        try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Path kernel = kernel(dir, "mb-exit-pass.elf");
        Run chosen = qemu(runner(kernel, "-gdb", "tcp::" + port));
        assertThat(chosen.exit()).isEqualTo(1);
        assertThat(chosen.err()).as("nothing for the runner to mistake for a failure").isEmpty();
        Run any = qemu(runner(kernel, "-gdb", "tcp::0"));
        assertThat(any.exit()).isEqualTo(1);
        assertThat(any.err()).matches("tdemu: GDB stub on 127\\.0\\.0\\.1:[0-9]+ \\(gdb: target remote :[0-9]+\\)\n");
    }

    @Test
    void theRunnersProbesAreAnswered() {
        Run help = qemu("qemu", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).startsWith("QEMU emulator version 0.0.0 (tdemu " + Main.VERSION).contains("-kernel FILE");
        Run devices = qemu("qemu", "-device", "?");
        assertThat(devices.exit()).isZero();
        assertThat(devices.out()).contains("\"pc-testdev\"").doesNotContain("pci-testdev");
        Run version = qemu("qemu", "-version");
        assertThat(version.out()).startsWith("QEMU emulator version 0.0.0 ");
        assertThat(help.err() + devices.err() + version.err()).isEmpty();
    }

    @Test
    void tdemusOwnOptionsComeFromTheEnvironment(@TempDir Path dir) throws Exception {
        Path trace = dir.resolve("run.trace");
        Run r = tdemu(InputStream.nullInputStream(), Map.of(QemuCommand.OPTIONS_VARIABLE,
                " --policy pre-tdx  --host-watch 0x300100:8:w --host-break 0x200040 --trace " + trace + " -v "),
                runner(kernel(dir, "mb-exit-pass.elf")));
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("guest exited with status 1", "every invariant held at every exit",
                "host breakpoints fired");
        Run show = CliTest.tdemu("trace", "show", trace.toString());
        assertThat(show.exit()).isZero();
        assertThat(show.out().lines().findFirst().orElseThrow()).contains("mb-exit-pass.elf", "policy DR_SWITCH_POLICY_PRE_TDX");
        assertThat(show.out()).contains("IO_INSTRUCTION");
    }

    @Test
    void theEnvironmentMayNotSayWhatTheQemuOptionsSay(@TempDir Path dir) throws Exception {
        Run r = tdemu(InputStream.nullInputStream(), Map.of(QemuCommand.OPTIONS_VARIABLE, "--memory 64M"),
                runner(kernel(dir, "mb-exit-pass.elf")));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("tdemu: TDEMU_QEMU_OPTIONS: --memory is for the QEMU options to say (tdemu qemu -help)\n");
        Run bad = tdemu(InputStream.nullInputStream(), Map.of(QemuCommand.OPTIONS_VARIABLE, "--policy nonsense"),
                runner(kernel(dir, "mb-exit-pass.elf")));
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).startsWith("tdemu: --policy must be one of ");
        Run quoted = tdemu(InputStream.nullInputStream(), Map.of(QemuCommand.OPTIONS_VARIABLE, "--trace 'a b'"),
                runner(kernel(dir, "mb-exit-pass.elf")));
        assertThat(quoted.err()).isEqualTo("tdemu: TDEMU_QEMU_OPTIONS: quoting is not supported (words are split at white space)\n");
    }

    @ParameterizedTest
    @EnumSource(VmResult.Outcome.class)
    void everyEndingHasQemusExitStatus(VmResult.Outcome outcome) {
        VmResult r = new VmResult(outcome, "", outcome == VmResult.Outcome.EXITED ? 0x155 : -1, "", 0, List.of(), 0,
                null, List.of(), 0);
        int expected = switch (outcome) {
            case EXITED -> 0x55; // the low byte of isa-debug-exit's (V << 1) | 1, as the process shows it
            case HALTED, TRIPLE_FAULT, FATAL_ERROR, KILLED -> 0; // the guest ended without isa-debug-exit
            case TIMEOUT -> 124;
            case INTERRUPTED, MEMORY_FAULT, NOT_MODELLED, INTERNAL_ERROR -> 134;
        };
        assertThat(QemuCommand.exitStatus(r)).isEqualTo(expected);
    }

    @Test
    void aGuestThatHaltsForGoodEndsWithStatusZeroAndSaysSo(@TempDir Path dir) throws Exception {
        // mb-elf32 stores what it was handed and halts with interrupts off: QEMU would hang, tdemu ends the run.
        Run r = qemu(runner(kernel(dir, "mb-elf32.elf")));
        assertThat(r.exit()).isZero();
        assertThat(r.err()).startsWith("tdemu: guest halted: every vCPU halted");
    }
}
