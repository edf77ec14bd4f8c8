package dev.tdemu.emulator.cli;

import static dev.tdemu.emulator.cli.PcKernelFiles.kernel;
import static dev.tdemu.emulator.cli.PcKernelFiles.tdemu;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.cli.CliTest.Run;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** `tdemu run` and `tdemu check` with a Multiboot kernel and tdemu's own options. */
@Timeout(120)
class PcKernelRunTest {
    @Test
    void serialStdioEchoesStdinThroughComOne(@TempDir Path dir) throws Exception {
        Run r = tdemu(new ByteArrayInputStream("hello, COM1\0".getBytes(StandardCharsets.US_ASCII)), Map.of(),
                "run", "--serial", "stdio", kernel(dir, "mb-serial-echo.elf").toString());
        assertThat(r.out()).isEqualTo("hello, COM1");
        assertThat(r.exit()).isEqualTo(85);
        assertThat(r.err()).isEmpty();
    }

    @ParameterizedTest(name = "--policy {0}")
    @ValueSource(strings = {"pre-tdx", "v1-skip-restore", "v5-as-posted", "dr7-only", "upstream"})
    void everyPolicyWithHostBreakpointsRunsAPcKernelWithItsInvariantsJudged(String policy, @TempDir Path dir) throws Exception {
        Run r = CliTest.tdemu("run", "-v", "--policy", policy, "--host-break", "0x200040", "--host-watch", "0x300100:8:w",
                kernel(dir, "mb-exit-pass.elf").toString());
        assertThat(r.out()).isEqualTo("PASS: mb-exit-pass\nSUMMARY: 1 tests\n");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("guest exited with status 1", "every invariant held at every exit")
                .containsPattern("host breakpoints fired [1-9][0-9]* time\\(s\\)");
    }

    @Test
    void aPcKernelInATdFailsOnItsFirstVirtualizationException(@TempDir Path dir) throws Exception {
        Run r = CliTest.tdemu("run", "--mode", "td", "--tdx-dr", "leave-guest-state", kernel(dir, "mb-exit-pass.elf").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).startsWith("tdemu: guest triple fault: TD vCPU 0").contains("#VE");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void theSerialOptionsAreForPcKernelsOnly() {
        Run r = CliTest.tdemu("run", "--serial", "stdio", "builtin:hello");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--append, --initrd and --serial are for PC kernels (Multiboot)");
    }

    @Test
    void checkJudgesAPcKernelByItsExitStatusAndTheInvariantsUnderEveryPolicy(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("pc.textproto"), """
                name: "pc"
                modes: GUEST_MODE_VMX
                host_breakpoints { address: 0x300100 kind: BREAKPOINT_KIND_WRITE length: 8 }
                host_breakpoints { address: 0x200040 kind: BREAKPOINT_KIND_EXECUTE length: 1 }
                checks: "HOST_BREAKPOINTS_INTACT"
                """);
        Path report = dir.resolve("report");
        Run r = CliTest.tdemu("check", "--guest", kernel(dir, "mb-exit-pass.elf").toString(), "--config", config.toString(),
                "--report", report.toString());
        // every built-in policy that runs VMX guests: the seed's five and PRE_TDX_NO_DR7_CLEAR,
        // DEBUGCTL_AT_VCPU_LOAD, TDX_MERGED, UPSTREAM_6_17
        assertThat(r.out()).contains("VMX guests", "9 cells, every one as expected");
        assertThat(r.exit()).as("a PC kernel's default expected exit status is 1: every check passed").isZero();
        var cells = dev.tdemu.proto.CheckReport.parseFrom(Files.readAllBytes(report)).getCellsList();
        assertThat(cells).hasSize(9).allSatisfy(c -> {
            assertThat(c.getVerdict()).isEqualTo(dev.tdemu.proto.Verdict.PASS);
            assertThat(c.getExits()).as("each COM1 byte is an exit the host workload follows").isGreaterThan(30);
        });
    }

    @Test
    void aPcKernelsOwnVerdictCountsInCheck(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("pc.textproto"), """
                name: "pc-expects-3"
                modes: GUEST_MODE_VMX
                checks: "HOST_BREAKPOINTS_INTACT"
                expected_exit_status: 3
                guest_failure: "GUEST_BREAKPOINTS_INTACT"
                """);
        Run r = CliTest.tdemu("check", "--guest", kernel(dir, "mb-exit-pass.elf").toString(), "--config", config.toString(),
                "--policy", "upstream");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("FAIL", "the guest saw it (exit status 1): PASS: mb-exit-pass / SUMMARY: 1 tests");
    }

    @Test
    void aPcKernelsDebuggerBreakpointBySymbolIsRefusedWithTheReason(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("pc.textproto"), """
                name: "pc-debugger"
                modes: GUEST_MODE_VMX
                checks: "DEBUGGER_BREAKPOINTS_EXACT"
                debugger { breakpoints { symbol: "main" kind: BREAKPOINT_KIND_EXECUTE expected_hits: 1 } }
                """);
        Run r = CliTest.tdemu("check", "--guest", kernel(dir, "mb-exit-pass.elf").toString(), "--config", config.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("the debugger breakpoint on symbol 'main' cannot be set: a Multiboot kernel's symbols are "
                + "not read; give its address");
    }
}
