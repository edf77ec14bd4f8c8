package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.gdbstub.target.Breakpoint;
import dev.tdemu.gdbstub.target.BreakpointResult;
import dev.tdemu.gdbstub.target.BreakpointSupport;
import dev.tdemu.gdbstub.target.WatchKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link BreakpointHandler}: Z and z of every kind, refusals with the reason, kinds the target does not take. */
@Timeout(30)
class BreakpointHandlerTest extends SessionTestBase {
    @Test
    void breakpointsOfEveryKindAreInsertedAndRemoved() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("Z0,401000,1"));
            assertEquals("OK", c.request("Z1,401010,1"));
            assertEquals("OK", c.request("Z2,408000,8"));
            assertEquals("OK", c.request("Z3,408008,4"));
            assertEquals("OK", c.request("Z4,408010,2"));
            assertEquals(5, target.inserted().size());
            assertEquals(new Breakpoint.Watchpoint(WatchKind.WRITE, 0x408000, 8), target.inserted().get(2));
            for (String z : List.of("z0,401000,1", "z1,401010,1", "z2,408000,8", "z3,408008,4", "z4,408010,2")) {
                assertEquals("OK", c.request(z));
            }
            assertTrue(target.inserted().isEmpty());
        }
    }

    @Test
    void refusedBreakpointCarriesTheTargetsMessage() throws Exception {
        target.breakpointPolicy(bp -> bp instanceof Breakpoint.Hardware
                ? BreakpointResult.refused("hardware breakpoints need a debug TD") : null);
        try (RspClient c = attach(PLAIN)) {
            assertEquals("E.Z1.hardware breakpoints need a debug TD", c.request("Z1,401000,1"));
            assertEquals("OK", c.request("Z0,401000,1"));
        }
    }

    @Test
    void unsupportedBreakpointKindGetsTheEmptyReply() throws Exception {
        target.support = new BreakpointSupport(true, true, Set.of(WatchKind.WRITE, WatchKind.ACCESS), 4);
        try (RspClient c = attach(PLAIN)) {
            assertEquals("", c.request("Z3,408000,8"));
        }
        assertFalse(target.calls.contains("Z3 408000"), "a kind the target does not take is not asked for");
    }

    @Test
    void aTargetWithoutBreakpointsIsNeverAskedAndGdbGetsEmptyReplies() throws Exception {
        target.support = new BreakpointSupport(false, false, Set.of(), 0);
        try (RspClient c = attach(PLAIN)) {
            for (String z : List.of("Z0,401000,1", "Z1,401000,1", "Z2,408000,8", "Z3,408000,8", "Z4,408000,8", "z1,401000,1")) {
                assertEquals("", c.request(z), z);
            }
            assertTrue(target.inserted().isEmpty());
        }
        assertFalse(target.calls.stream().anyMatch(call -> call.startsWith("Z") || call.startsWith("z")), target.calls.toString());
    }
}
