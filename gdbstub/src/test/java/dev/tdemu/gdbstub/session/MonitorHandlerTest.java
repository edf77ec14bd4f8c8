package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.RspClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** {@link MonitorHandler}: qRcmd's console output and result. */
@Timeout(30)
class MonitorHandlerTest extends SessionTestBase {
    @Test
    void monitorOutputComesAsConsolePacketsThenOk() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            RspClient.MonitorResult r = c.monitor("dr");
            assertEquals("dr7=0x400\n", r.output());
            assertEquals("OK", r.finalReply());
            RspClient.MonitorResult big = c.monitor("big");
            assertEquals(100_001, big.output().length());
            RspClient.MonitorResult failed = c.monitor("fail");
            assertEquals("no such thing\n", failed.output());
            assertEquals("E01", failed.finalReply());
        }
    }

    @Test
    void aTargetWithoutMonitorCommandsSaysSoInOneLineWithoutBeingAsked() throws Exception {
        target.hasMonitorCommands = false;
        try (RspClient c = attach(PLAIN)) {
            RspClient.MonitorResult r = c.monitor("info registers");
            assertEquals("This target has no monitor commands (got \"info registers\").\n", r.output());
            assertEquals("E01", r.finalReply());
        }
        assertFalse(target.calls.stream().anyMatch(call -> call.startsWith("monitor")), target.calls.toString());
    }
}
