package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.gdbstub.rsp.Hex;
import dev.tdemu.gdbstub.target.StopEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ThreadHandler}: thread lists and the Hg/Hc selection, and the stop that moves it. */
@Timeout(30)
class ThreadHandlerTest extends SessionTestBase {
    @Test
    void hgSelectsTheThreadForRegistersAndMemory() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("Hg2"));
            assertEquals(le64(0x402000), c.request("p10"));
            assertEquals("E03", c.request("Hg7"));
            assertEquals("OK", c.request("Hg0"));
            assertEquals(le64(0x401000), c.request("p10"));
        }
    }

    @Test
    void aStopMakesTheReportingThreadTheGeneralThread() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("Hg1"));
            target.onNextResume(r -> StopEvent.stepDone(2));
            assertTrue(c.request("vCont;s:2").startsWith("T05thread:2;"));
            assertEquals(le64(0x402000), c.request("p10"), "gdb does not resend Hg after a stop");
        }
    }

    @Test
    void threadQueries() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("m1,2", c.request("qfThreadInfo"));
            assertEquals("l", c.request("qsThreadInfo"));
            assertEquals("QC1", c.request("qC"));
            assertEquals("OK", c.request("T2"));
            assertEquals("E03", c.request("T3"));
            assertEquals(Hex.encodeText("vcpu1"), c.request("qThreadExtraInfo,2"));
        }
    }
}
