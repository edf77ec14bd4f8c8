package dev.tdemu.gdbstub.scheduling;

import static dev.tdemu.gdbstub.scheduling.SchedulingTests.at;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which clients {@link ClientCpuFollower} follows at all (the following itself: {@code FollowingTheClientsCpuTest}). */
class ClientCpuFollowerTest {
    @Test
    void onlyClientsOnThisMachineAreFollowed() throws Exception {
        assertTrue(ClientCpuFollower.onThisMachine(at("127.0.0.1", 1)));
        assertTrue(ClientCpuFollower.onThisMachine(at("::1", 1)));
        assertFalse(ClientCpuFollower.onThisMachine(at("192.0.2.1", 1)), "TEST-NET-1, never local");
    }
}
