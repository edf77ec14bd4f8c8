package dev.tdemu.gdbstub;

import dev.tdemu.gdbstub.registers.X86_64Registers;
import dev.tdemu.gdbstub.target.Breakpoint;
import dev.tdemu.gdbstub.target.BreakpointResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real gdb (batch mode) against the stub serving the fake target. Each gdb run is killed after
 * {@link #GDB_LIMIT}; the JUnit timeout bounds the whole test.
 */
@Timeout(90)
class GdbEndToEndTest {
    private static final Duration GDB_LIMIT = Duration.ofSeconds(40);

    private StubFixture stub;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(GdbRunner.gdb().isPresent(), "gdb is not installed (set $GDB or put gdb on the PATH)");
        stub = new StubFixture();
    }

    @AfterEach
    void stop() {
        if (stub != null) {
            stub.close();
        }
    }

    private String gdb(String... commands) throws Exception {
        List<String> all = new ArrayList<>(GdbRunner.connect(stub.server().port()));
        all.addAll(List.of(commands));
        GdbRunner.Result r = GdbRunner.run(GDB_LIMIT, all);
        assertFalse(r.timedOut(), "gdb hung and was killed; output so far:\n" + r.output());
        return r.output();
    }

    private static void assertContains(String output, String expected) {
        assertTrue(output.contains(expected), "expected \"" + expected + "\" in gdb output:\n" + output);
    }

    @Test
    void gdbAcceptsTheTargetDescriptionAndShowsRipAndDebugRegisters() throws Exception {
        String out = gdb("show architecture", "info registers rip", "info registers dr7", "info registers dr6",
                "info registers eflags", "p/x $cr0", "p/x $efer", "p/x $fs_base", "p $dr7 == 0x400",
                "info registers cr0 cr2 cr3 cr4 cr8 efer dr0 dr1 dr2 dr3 dr6 dr7 fs_base gs_base");
        assertContains(out, "i386:x86-64");
        assertContains(out, "0x0000000000401000 in ?? ()");
        assertTrue(out.matches("(?s).*rip\\s+0x401000\\s+0x401000.*"), out);
        assertTrue(out.matches("(?s).*dr7\\s+0x400\\s+\\[.*"), out);
        assertTrue(out.matches("(?s).*dr6\\s+0xffff0ff0\\s+\\[ \\].*"), out);
        assertTrue(out.matches("(?s).*eflags\\s+0x202\\s+\\[ IF \\].*"), out);
        assertContains(out, "$1 = 0x80050033");
        assertContains(out, "$2 = 0xd01");
        assertContains(out, "$3 = 0x0");
        assertContains(out, "$4 = 1");
        for (String reg : List.of("cr0", "cr2", "cr3", "cr4", "cr8", "efer", "dr0", "dr1", "dr2", "dr3", "dr6",
                "dr7", "fs_base", "gs_base")) {
            assertTrue(out.matches("(?s).*\\n" + reg + "\\s+0x.*"), reg + " shown:\n" + out);
        }
        assertFalse(out.contains("tdesc"), out);
        assertFalse(out.contains("Remote 'g' packet reply"), out);
    }

    @Test
    void memoryIsReadAndWritten() throws Exception {
        String out = gdb("x/4gx 0x408000", "set {long}0x408000 = 0x1122334455667788", "x/gx 0x408000",
                "x/gx 0x10");
        assertContains(out, "0x408000:\t0x0000000000000000\t0x0000000000000001");
        assertContains(out, "0x408010:\t0x0000000000000002\t0x0000000000000003");
        assertContains(out, "0x408000:\t0x1122334455667788");
        assertContains(out, "Cannot access memory at address 0x10");
        assertEquals(0x1122334455667788L, stub.target().getLong(0x408000));
    }

    @Test
    void hardwareBreakpointStopIsReportedAtItsAddress() throws Exception {
        String out = gdb("hbreak *0x401234", "continue", "p/x $pc");
        assertContains(out, "Hardware assisted breakpoint 1 at 0x401234");
        assertContains(out, "hit Breakpoint 1, 0x0000000000401234 in ?? ()");
        assertContains(out, "$1 = 0x401234");
        assertTrue(stub.target().calls.contains("Z1 401234"));
    }

    @Test
    void softwareBreakpointStopIsReportedAtItsAddress() throws Exception {
        String out = gdb("break *0x401100", "continue", "p/x $pc");
        assertContains(out, "hit Breakpoint 1, 0x0000000000401100 in ?? ()");
        assertContains(out, "$1 = 0x401100");
        assertTrue(stub.target().calls.contains("Z0 401100"));
    }

    @Test
    void writeWatchpointReportsOldAndNewValues() throws Exception {
        String out = gdb("watch *(long*)0x408010", "continue");
        assertContains(out, "Hardware watchpoint 1: *(long*)0x408010");
        assertContains(out, "Old value = 2");
        assertContains(out, "New value = 3");
        assertTrue(stub.target().calls.contains("Z2 408010"));
    }

    @Test
    void stepiAdvancesThePc() throws Exception {
        String out = gdb("stepi", "p/x $pc", "stepi", "p/x $pc");
        assertContains(out, "0x0000000000401001 in ?? ()");
        assertContains(out, "$1 = 0x401001");
        assertContains(out, "$2 = 0x401002");
        assertEquals(0x401002, stub.target().register(1, X86_64Registers.RIP));
    }

    @Test
    void infoThreadsListsBothVcpusWithTheirNames() throws Exception {
        String out = gdb("info threads", "thread 2", "p/x $pc");
        assertContains(out, "Thread 1.1 \"vcpu0\"");
        assertContains(out, "Thread 1.2 \"vcpu1\"");
        assertContains(out, "[Switching to thread 2 (Thread 1.2)]");
        assertContains(out, "$1 = 0x402000");
    }

    @Test
    void refusedHardwareBreakpointShowsTheTargetsMessage() throws Exception {
        stub.target().breakpointPolicy(bp -> bp instanceof Breakpoint.Hardware
                ? BreakpointResult.refused("hardware breakpoints need a debug TD (ATTRIBUTES.DEBUG)") : null);
        String out = gdb("hbreak *0x401234", "continue", "p/x $pc");
        assertContains(out, "Cannot insert hardware breakpoint 1:Remote failure reply: "
                + "hardware breakpoints need a debug TD (ATTRIBUTES.DEBUG).");
        assertContains(out, "$1 = 0x401000");
        assertTrue(stub.target().resumes.isEmpty(), "gdb aborted the continue");
    }

    @Test
    void monitorCommandOutputIsPrinted() throws Exception {
        String out = gdb("monitor dr", "monitor hello there");
        assertContains(out, "dr7=0x400");
        assertContains(out, "echo: hello there");
    }

    @Test
    void disconnectAndReconnectKeepsServing() throws Exception {
        int port = stub.server().port();
        String out = gdb("hbreak *0x401234", "disconnect", "target remote 127.0.0.1:" + port,
                "info registers rip", "continue", "disconnect", "target remote 127.0.0.1:" + port, "p/x $pc");
        assertContains(out, "hit Breakpoint 1, 0x0000000000401234 in ?? ()");
        assertContains(out, "$1 = 0x401234");
        assertFalse(out.contains("another debugger"), out);
        assertEquals(3, stub.target().attaches.get());
        assertTrue(stub.target().inserted().isEmpty());
    }

    @Test
    void detachLeavesTheTargetWithoutBreakpoints() throws Exception {
        String out = gdb("hbreak *0x401234", "watch *(long*)0x408010", "continue", "detach");
        assertContains(out, "[Inferior 1 (process 1) detached]");
        StubFixture.await("the target is released", Duration.ofSeconds(30), () -> stub.target().detaches.get() == 1);
        assertTrue(stub.target().inserted().isEmpty());
    }

    @Test
    void killEndsTheTarget() throws Exception {
        String out = gdb("kill", "info threads");
        assertContains(out, "[Inferior 1 (process 1) killed]");
        assertEquals(1, stub.target().kills.get());
    }

    @Test
    void secondGdbIsRefusedWhileAnotherDebuggerIsAttached() throws Exception {
        try (RspClient first = stub.attach(StubFixture.GDB_FEATURES)) {
            String out = gdb("info registers rip");
            assertContains(out, "another debugger");
            assertFalse(out.contains("0x401000"), out);
            assertEquals("QCp1.1", first.request("qC"), "the first debugger keeps working");
        }
    }
}
