package dev.tdemu.emulator.gdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.VmConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The real gdb binary, in batch mode, against real guests in a VM behind the GDB stub: the flows
 * a kernel developer uses. gdb is installed by ./tdemu setup; a machine without it skips these
 * with the reason.
 */
@Timeout(120)
class GdbVmTest {
    static final ElfImage DEBUGGEE = builtin("debuggee");
    static final long FUNC = DEBUGGEE.symbol("dbg_func").orElseThrow();
    static final long VAR = DEBUGGEE.symbol("dbg_var").orElseThrow();
    static final long RVAR = DEBUGGEE.symbol("dbg_rvar").orElseThrow();

    StubbedVm stub;

    static ElfImage builtin(String name) {
        try {
            return ElfImage.builtin(name);
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static Path gdb() {
        Path p = Path.of("/usr/bin/gdb");
        assumeTrue(Files.isExecutable(p), "gdb is not installed (./tdemu setup installs it); skipping the gdb end-to-end tests");
        return p;
    }

    void start(VmConfig config) throws Exception {
        stub = StubbedVm.start(config);
    }

    static VmConfig.Builder config(String guest, GuestMode mode) {
        return VmConfig.newBuilder().setGuestImage("builtin:" + guest).setMode(mode).setTimeoutMs(60_000);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (stub != null) {
            stub.close();
        }
    }

    record Gdb(String output, int exit) {}

    /**
     * gdb's line for a stop at breakpoint 1 in {@code function}: with line tables (the guests are
     * assembled with -g) "Breakpoint 1, function () at FILE:LINE" when the PC starts a line, else
     * "Breakpoint 1, 0xADDRESS in function () ...".
     */
    static String stoppedAt(String function, long address) {
        return "Breakpoint 1, (0x" + String.format("%016x", address) + " in )?" + function + " \\(\\)";
    }

    /**
     * Runs gdb against the stub with {@code commands}; once {@code interruptWhen} holds (null:
     * never) gdb gets SIGINT, as from Ctrl-C.
     */
    Gdb gdb(BooleanSupplier interruptWhen, String... commands) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(gdb().toString(), "-batch", "-nx", "-ex", "set architecture i386:x86-64",
                "-ex", "set pagination off", "-ex", "target remote 127.0.0.1:" + stub.port()));
        for (String c : commands) {
            argv.add("-ex");
            argv.add(c);
        }
        return debugger(argv, interruptWhen);
    }

    /** Runs a debugger to its end (at most 60 s) and returns what it printed. */
    static Gdb debugger(List<String> argv, BooleanSupplier interruptWhen) throws IOException, InterruptedException {
        Path out = Files.createTempFile("debugger", ".txt");
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (interruptWhen != null) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!interruptWhen.getAsBoolean()) {
                if (System.nanoTime() > deadline || !p.isAlive()) {
                    p.destroyForcibly();
                    throw new AssertionError("the moment to interrupt " + argv.getFirst() + " never came; output:\n"
                            + Files.readString(out));
                }
                Thread.sleep(5);
            }
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(argv.getFirst() + " hung; output so far:\n" + Files.readString(out));
        }
        String text = Files.readString(out);
        Files.deleteIfExists(out);
        return new Gdb(text, p.exitValue());
    }

    @Test
    void hardwareBreakpointInAVmxGuestIsReportedAtItsAddressAndDr7ShowsTheGuestsOwnValue() throws Exception {
        start(config("debuggee", GuestMode.GUEST_MODE_VMX).build());
        Gdb g = gdb(null, "hbreak *0x" + Long.toHexString(FUNC), "continue", "info registers rip", "info registers dr7");
        assertThat(g.output()).contains("Hardware assisted breakpoint 1 at 0x" + Long.toHexString(FUNC))
                .containsPattern(stoppedAt("dbg_func", FUNC))
                .containsPattern("rip\\s+0x" + Long.toHexString(FUNC))
                .containsPattern("dr7\\s+0x440"); // the guest's own L3, kept apart from the debugger's slot by KVM
    }

    /** gdb loads the guest's symbols from the stub (qXfer:exec-file) without a file command. */
    @Test
    void gdbFindsTheGuestsSymbolsOnItsOwn() throws Exception {
        start(config("debuggee", GuestMode.GUEST_MODE_VMX).build());
        Gdb g = gdb(null, "hbreak dbg_func", "continue", "bt 2", "p/x (long) dbg_var");
        assertThat(g.output()).as("gdb's output").contains("Reading symbols from ")
                .contains("Hardware assisted breakpoint 1 at 0x" + Long.toHexString(FUNC))
                .containsPattern(stoppedAt("dbg_func", FUNC)).contains("dbg_func () at ").contains("debuggee.S:")
                .contains("in dbg_loop ()").contains("$1 = 0x0");
    }

    /**
     * With the guests' line tables (they are assembled with -g), gdb's next and step use range
     * stepping (vCont;r): here next over a line whose macro expands to three instructions and a
     * call, from one source line to the next.
     */
    @Test
    void nextOverASourceLineUsesRangeStepping() throws Exception {
        List<String> source = Files.readAllLines(Path.of("../testguests/src/main/asm/debuggee.S"));
        int line = 1 + source.indexOf(source.stream().filter(l -> l.contains("console_write ok, ok_len")).findFirst().orElseThrow());
        start(config("debuggee", GuestMode.GUEST_MODE_VMX).build());
        Gdb g = gdb(null, "tbreak debuggee.S:" + line, "continue", "set debug remote 1", "next", "set debug remote 0",
                "info line *$pc");
        assertThat(g.output()).as("gdb's output")
                .contains("Temporary breakpoint 1, dbg_loop () at ").contains("debuggee.S:" + line)
                .containsPattern("Sending packet: \\$vCont;r[0-9a-f]+,[0-9a-f]+:p1\\.1")
                .contains("Line " + (line + 1) + " of \"");
    }

    @Test
    void watchRwatchAndAwatchReportTheRightValues() throws Exception {
        start(config("debuggee", GuestMode.GUEST_MODE_VMX).build());
        Gdb g = gdb(null, "watch *(long *)0x" + Long.toHexString(VAR), "continue", "monitor dr", "continue", "delete",
                "rwatch *(long *)0x" + Long.toHexString(RVAR), "continue", "delete",
                "awatch *(long *)0x" + Long.toHexString(VAR), "continue");
        assertThat(g.output()).contains("Old value = 0\nNew value = 5").contains("Old value = 5\nNew value = 4")
                .contains("Value = 4660") // rwatch on dbg_rvar = 0x1234
                .containsPattern("(Value|Old value) = 4")
                // The watch is enforced by refusing its page's TLB fills, and the write was one.
                .containsPattern("engine +1 data breakpoint\\(s\\) armed \\(virtual TLB\\), \\d+ TLB fill\\(s\\), [1-9]\\d* refused");
    }

    /** Watchpoints that are not one aligned 1/2/4/8-byte piece take a debug register per piece, as with gdbserver. */
    @Test
    void longAndUnalignedWatchpointsWork() throws Exception {
        start(config("debuggee", GuestMode.GUEST_MODE_VMX).build());
        String v = "0x" + Long.toHexString(VAR);
        Gdb g = gdb(null, "watch *(char(*)[16])" + v, "continue", "monitor dr", "delete",
                "awatch *(int*)(" + v + "+2)", "continue", "delete", "watch *(char(*)[33])" + v, "continue");
        assertThat(g.output()).as("gdb's output")
                // dbg_var (written 5) and dbg_rvar (0x1234) in one watchpoint
                .contains("Old value = \"\\000\\000\\000\\000\\000\\000\\000\\0004\\022\\000\\000\\000\\000\\000\"") // gdb drops the last NUL
                .contains("New value = \"\\005\\000\\000\\000\\000\\000\\000\\0004\\022\\000\\000\\000\\000\\000\"")
                .containsPattern("physical +DR0=" + v + " DR1=0x" + Long.toHexString(VAR + 8) + " ")
                .contains("Hardware access (read/write) watchpoint 2: *(int*)(" + v + "+2)\n\nValue = 0")
                .contains("Could not insert hardware watchpoint 3"); // 33 bytes: more than four debug registers
    }

    @Test
    void stepiAdvancesOneInstructionAndContinueRunsToTheEnd() throws Exception {
        start(config("debuggee", GuestMode.GUEST_MODE_VMX).build());
        long init = DEBUGGEE.symbol("tdemu_init").orElseThrow();
        Gdb g = gdb(null, "stepi", "info registers rip", "stepi", "info registers rip", "continue");
        assertThat(g.output()).as("the first instruction calls tdemu_init; the next is its first")
                .containsPattern("rip\\s+0x" + Long.toHexString(init) + "\\s")
                .containsPattern("rip\\s+0x" + Long.toHexString(init + 1) + "\\s")
                .contains("[Inferior 1 (process 1) exited normally]");
    }

    /**
     * x87 and SSE registers in gdb: the state KVM's vCPU reset gives, then what real x87 code
     * (fninit, fld1, fldpi, written at the guest's entry by gdb) leaves; XMM and MXCSR can be
     * changed, other registers are refused, and a refused write changes nothing.
     */
    @Test
    void x87AndSseRegistersShowWhatRealCodeLeftAndXmmAndMxcsrCanBeChanged() throws Exception {
        start(config("debuggee", GuestMode.GUEST_MODE_VMX).build());
        Gdb g = gdb(null, "info registers fctrl ftag mxcsr",
                "set {unsigned char[6]} $pc = {0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xeb}", "stepi 3",
                "p $st0", "p $st1", "info registers fstat ftag fioff fop",
                "set $xmm1.v4_int32[2] = 77", "p $xmm1.v4_int32", "set $mxcsr = 0x9f80", "p/x $mxcsr",
                "set $mxcsr = 0x10000", "p/x $mxcsr", "set $st0 = 2", "p $st0", "kill");
        assertThat(g.output()).as("gdb's output")
                .containsPattern("fctrl\\s+0x37f\\s").containsPattern("ftag\\s+0xffff\\s").containsPattern("mxcsr\\s+0x1f80\\s")
                .contains("$1 = 3.14159265358979323851").contains("$2 = 1\n")
                .containsPattern("fstat\\s+0x3000\\s") // TOP = 6
                .containsPattern("ftag\\s+0xfff\\s") // R6, R7 valid
                .containsPattern("fioff\\s+0x" + Long.toHexString(DEBUGGEE.entry() + 4) + "\\s") // fldpi
                .containsPattern("fop\\s+<unavailable>")
                .contains("$3 = {0, 0, 77, 0}").contains("$4 = 0x9f80")
                .contains("Could not write register \"mxcsr\"").contains("$5 = 0x9f80")
                .contains("Could not write register \"st0\"").contains("$6 = 3.14159265358979323851");
    }

    @Test
    void ctrlCStopsARunningGuestWithSigint() throws Exception {
        start(config("robust-loop", GuestMode.GUEST_MODE_VMX).build());
        // Ctrl-C once gdb has let the guest run (the VM was held for it until then).
        Gdb g = gdb(() -> stub.server.hasClient() && !stub.vm.debugSession().stopped(), "continue", "info registers rip");
        assertThat(g.output()).contains("Program received signal SIGINT").containsPattern("rip\\s+0x10000");
    }

    @Test
    void infoThreadsListsEveryVcpu() throws Exception {
        start(config("multi-vcpu", GuestMode.GUEST_MODE_VMX).setVcpus(2).build());
        Gdb g = gdb(null, "info threads");
        assertThat(g.output()).contains("Thread 1.1 \"vCPU 0\"").contains("Thread 1.2 \"vCPU 1\"");
    }

    @Test
    void aNonDebugTdRefusesTheDebuggerAndGdbShowsWhy() throws Exception {
        start(config("debuggee", GuestMode.GUEST_MODE_TD).build());
        Gdb g = gdb(null, "info registers rip", "hbreak *0x" + Long.toHexString(FUNC));
        assertThat(g.output()).contains("Could not read registers").contains("not a debug TD").contains("--debug-td");
    }

    @Test
    void aDebugTdTakesHardwareBreakpoints() throws Exception {
        long hypercall = builtin("host-bp-survives").symbol("tdemu_hypercall").orElseThrow();
        start(config("host-bp-survives", GuestMode.GUEST_MODE_TD).setDebugTd(true).build());
        Gdb g = gdb(null, "hbreak *0x" + Long.toHexString(hypercall), "continue", "info registers rip");
        assertThat(g.output()).containsPattern(stoppedAt("tdemu_hypercall", hypercall))
                .containsPattern("rip\\s+0x" + Long.toHexString(hypercall) + "\\s");
    }

    /** QEMU's physical memory mode, as kernel developers use it with gdb, and the monitor command for it. */
    @Test
    void qemusPhysicalMemoryModeWorksFromGdb() throws Exception {
        start(config("debuggee", GuestMode.GUEST_MODE_VMX).build());
        long pd = dev.tdemu.emulator.machine.BootStructures.PML4_BASE + 0x2000;
        Gdb g = gdb(null, "maint packet qqemu.PhyMemMode", "maint packet Qqemu.PhyMemMode:1", "monitor phys",
                "x/gx 0x" + Long.toHexString(pd), "x/gx 0x10000000", "monitor phys off", "maint packet qqemu.PhyMemMode");
        assertThat(g.output()).as("gdb's output")
                .contains("received: \"0\"").contains("received: \"OK\"")
                .contains("address guest-physical memory")
                .containsPattern("0x" + Long.toHexString(pd) + ":\\s+0x0*a7\\s") // PDE 0: 2 MiB page at 0, P RW US A PS
                .contains("Cannot access memory at address 0x10000000") // 256 MiB: beyond the 64 MiB of RAM
                .contains("address linear memory");
        assertThat(g.output().lastIndexOf("received: \"0\"")).as("off again").isGreaterThan(g.output().indexOf("received: \"OK\""));
    }

    @Test
    void monitorCommandsReachTheVm() throws Exception {
        start(config("debuggee", GuestMode.GUEST_MODE_VMX).build());
        Gdb g = gdb(null, "monitor dr", "monitor policy");
        assertThat(g.output()).contains("vCPU 0 on cpu 0").contains("policy UPSTREAM");
    }

    /**
     * lldb, where installed (./tdemu setup installs it), through the same core flow: it finds the
     * guest halted for it (a SIGTRAP, not a Ctrl-C), stops at a hardware breakpoint, reads RIP and
     * the guest's own DR7, steps one instruction, catches a write with the old and new values,
     * and runs the guest to its normal end.
     */
    @Test
    void lldbTakesTheSameCoreFlowWhenInstalled() throws Exception {
        Path lldb = Path.of("/usr/bin/lldb");
        assumeTrue(Files.isExecutable(lldb), "lldb is not installed on this machine (./tdemu setup installs it); the lldb flow is not tested here");
        start(config("debuggee", GuestMode.GUEST_MODE_VMX).build());
        String func = String.format("0x%016x", FUNC);
        Gdb g = debugger(List.of(lldb.toString(), "--no-lldbinit", "--batch",
                "-o", "gdb-remote 127.0.0.1:" + stub.port(),
                "-o", "breakpoint set -H -a 0x" + Long.toHexString(FUNC), "-o", "continue",
                "-o", "register read rip", "-o", "register read dr7",
                "-o", "thread step-inst", "-o", "register read rip",
                "-o", "breakpoint delete 1",
                "-o", "watchpoint set expression -w write -s 8 -- 0x" + Long.toHexString(VAR), "-o", "continue",
                "-o", "watchpoint delete 1", "-o", "continue"), null);
        assertThat(g.output()).as("lldb's output")
                .contains("stop reason = signal SIGTRAP").doesNotContain("SIGINT")
                .contains("stop reason = breakpoint 1.1")
                .containsPattern("rip = " + func + "\\s")
                .containsPattern("dr7 = 0x0*440\\s") // the guest's own L3, as in gdb
                .contains("stop reason = instruction step into")
                .containsPattern("rip = " + String.format("0x%016x", FUNC + 1) + "\\s")
                .contains("stop reason = watchpoint 1").contains("old value: 0").contains("new value: 5")
                .contains("exited with status = 0");
    }
}
