package dev.tdemu.emulator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CliTest {
    /** A finished in-process run: its exit status, stdout as bytes (the guest's console is raw bytes), stderr. */
    record Run(int exit, byte[] stdout, String err) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }
    }

    static Run tdemu(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        CommandLine cl = Main.commandLine(new Main.Streams(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false));
        int exit = cl.execute(args);
        cl.getOut().flush();
        cl.getErr().flush();
        return new Run(exit, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"check", "run", "guests", "trace", "trace show"})
    void everyCommandExplainsItselfWithHelp(String command) {
        String[] args = (command + " --help").split(" ");
        Run r = tdemu(args);
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Usage: tdemu " + command).contains("--help");
    }

    @Test
    void checkNarrowedToOneScenarioPrintsItsTablesAndSucceedsWhenEveryCellIsAsExpected() {
        Run r = tdemu("check", "--scenario", "host-bp-survives", "--jobs", "2");
        assertThat(r.out()).contains("VMX guests").contains("TD guests, TDX module INIT_ON_EXIT")
                .containsPattern("\\n  V1_SKIP_RESTORE +FAIL host@1\\n").containsPattern("\\n  UPSTREAM_6_17 +PASS\\n")
                .contains("33 cells, every one as expected");
        assertThat(r.exit()).isZero();
    }

    @Test
    void checkOfOneCellShowsTheExitsAroundItsFirstViolation() {
        Run r = tdemu("check", "--scenario", "host-bp-survives", "--mode", "td", "--policy", "v1-skip-restore",
                "--tdx-dr", "init-on-exit");
        assertThat(r.out()).contains("FAIL host@1, as expected").contains("exits around the first violation (#1)")
                .contains("FAILED HOST_BREAKPOINTS_INTACT").contains("switch_db_regs AUTO_SWITCH");
        assertThat(r.exit()).isZero();
    }

    @Test
    void checkRunsAUsersOwnGuestAndScenarioAndWritesTheReport(@TempDir Path tmp) throws Exception {
        Path config = Files.writeString(tmp.resolve("mine.textproto"), """
                name: "mine"
                modes: GUEST_MODE_TD
                host_breakpoints { address: 0x300100 kind: BREAKPOINT_KIND_WRITE length: 8 }
                checks: "HOST_BREAKPOINTS_INTACT"
                """);
        Path elf = tmp.resolve("hello.elf");
        try (var in = getClass().getResourceAsStream("/guests/hello.elf")) {
            Files.write(elf, in.readAllBytes());
        }
        Path report = tmp.resolve("report");
        Run r = tdemu("check", "--guest", elf.toString(), "--config", config.toString(), "--report", report.toString());
        assertThat(r.out()).contains("TD guests, TDX module RESTORE_HOST_EXCEPT_DR7").contains("mine");
        assertThat(r.exit()).as("V1 and DR7_ONLY lose the host watchpoint, and a user's scenario expects PASS").isEqualTo(1);
        assertThat(dev.tdemu.proto.CheckReport.parseFrom(Files.readAllBytes(report)).getCellsCount()).isEqualTo(24);
        assertThat(Files.readString(tmp.resolve("report.json"))).contains("\"scenario\": \"mine\"");
    }

    @Test
    void checkRefusesUnknownScenariosAndBadConfigs(@TempDir Path tmp) throws Exception {
        assertThat(tdemu("check", "--scenario", "nope").err()).contains("no built-in scenario 'nope'")
                .contains("; in the model: host-bp-entry-window, ").hasLineCount(1);
        Path bad = Files.writeString(tmp.resolve("bad.textproto"), "name: \"x\" modes: GUEST_MODE_VMX checks: \"SOMETHING\"");
        Run r = tdemu("check", "--guest", "/nonexistent.elf", "--config", bad.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("unknown invariant 'SOMETHING'");
    }

    @Test
    void runReturnsTheGuestsExitStatusAndPrintsItsConsole() {
        Run r = tdemu("run", "builtin:hello");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).isEqualTo("Hello from a tdemu guest!\n");
    }

    @Test
    void gdbOnlyOptionsWithoutGdbAreRefused() {
        for (String option : new String[] {"--wait", "--gdb-follow-cpu", "--gdb-stay-put"}) {
            Run r = tdemu("run", "builtin:hello", option);
            assertThat(r.exit()).as(option).isEqualTo(2);
            assertThat(r.err()).contains(option + " needs --gdb PORT");
        }
    }

    @Test
    void followingGdbsCpuAndStayingPutTogetherAreRefused() {
        Run r = tdemu("run", "builtin:hello", "--gdb", "0", "--gdb-follow-cpu", "--gdb-stay-put");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--gdb-follow-cpu and --gdb-stay-put contradict each other");
    }

    @Test
    void aGuestThatLoopsForeverIsStoppedByTheTimeoutWhichNamesEachVcpusRip() {
        Run r = tdemu("run", "builtin:binding-loop", "--timeout", "200ms", "--vcpus", "2");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("guest timeout").contains("did not finish within 200 ms")
                .containsPattern("vCPU 0 at RIP 0x10[0-9a-f]{4}, vCPU 1 at RIP 0x10[0-9a-f]{4}");
        assertThat(r.err().lines()).hasSize(1);
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
    void aGdbPortInUseIsAPlainError() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Run r = tdemu("run", "builtin:hello", "--gdb", Integer.toString(taken.getLocalPort()));
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err()).isEqualTo("tdemu: cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": Address already in use\n");
        }
    }

    @Test
    void unknownBuiltinAndBadDurationAreUserErrors() {
        assertThat(tdemu("run", "builtin:nope").err()).contains("no built-in guest named 'nope'");
        Run r = tdemu("run", "builtin:hello", "--timeout", "soon");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("'soon' is not a duration");
    }

    @Test
    void aBuiltInPcKernelRunsByItsMultibootNameAndAnUnknownOneIsAUserError() {
        Run ok = tdemu("run", "builtin:multiboot/pc64-smp-dr", "--vcpus", "2");
        assertThat(ok.out()).contains("PASS smp-dr.every-cpu-kept-its-own-breakpoints");
        assertThat(ok.exit()).as("isa-debug-exit 0: every check passed").isEqualTo(1);
        Run r = tdemu("run", "builtin:multiboot/nope");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("no built-in PC kernel named 'multiboot/nope'");
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
        java.time.Duration week = java.time.Duration.ofDays(7);
        assertThat(Durations.parse("500ms", "--timeout", week).toMillis()).isEqualTo(500);
        assertThat(Durations.parse("3", "--timeout", week).toSeconds()).isEqualTo(3);
        assertThat(Durations.parse("2m", "--timeout", week).toSeconds()).isEqualTo(120);
        assertThat(Durations.parse("168h", "--timeout", week)).isEqualTo(week);
    }
}
