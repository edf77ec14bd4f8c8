package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.gdbstub.StubFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link LifecycleHandler}: detach, kill and vKill. */
@Timeout(30)
class LifecycleHandlerTest extends SessionTestBase {
    @Test
    void detachRemovesBreakpointsReleasesTheTargetAndCloses() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("Z1,401000,1"));
            assertEquals("OK", c.request("Z2,408000,8"));
            assertEquals("OK", c.request("D"));
            assertTrue(c.closedByPeer(Duration.ofSeconds(30)));
        }
        StubFixture.await("detach", Duration.ofSeconds(30), () -> target.detaches.get() == 1);
        assertTrue(target.inserted().isEmpty());
        assertEquals(List.of("z1 401000", "z2 408000", "detach"), target.calls.subList(target.calls.size() - 3, target.calls.size()));
    }

    @Test
    void killKillsTheTargetAndClosesTheConnection() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            c.send("k");
            assertTrue(c.closedByPeer(Duration.ofSeconds(30)));
        }
        assertEquals(1, target.kills.get());
        assertEquals(0, target.detaches.get());
        try (RspClient c = stub.connect()) {
            c.request(PLAIN);
            assertEquals("X09", c.request("?"), "a later debugger sees the killed target");
        }
    }

    @Test
    void vKillRepliesOk() throws Exception {
        try (RspClient c = attach(StubFixture.GDB_FEATURES)) {
            assertEquals("E03", c.request("vKill;2"));
            assertEquals("OK", c.request("vKill;1"));
        }
        assertEquals(1, target.kills.get());
    }
}
