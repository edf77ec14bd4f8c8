package dev.tdemu.gdbstub.target;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The one spelling of a breakpoint, from the Z packet's numbers to what a target declares it takes. */
class BreakpointTest {

    @Test
    void theZPacketsTypeNumberSelectsTheBreakpointAndComesBack() {
        assertEquals(Optional.of(new Breakpoint.Software(0x1000, 1)), Breakpoint.fromPacket(0, 0x1000, 1));
        assertEquals(Optional.of(new Breakpoint.Hardware(0x1000, 1)), Breakpoint.fromPacket(1, 0x1000, 1));
        assertEquals(Optional.of(new Breakpoint.Watchpoint(WatchKind.WRITE, 0x2000, 8)), Breakpoint.fromPacket(2, 0x2000, 8));
        assertEquals(Optional.of(new Breakpoint.Watchpoint(WatchKind.READ, 0x2000, 4)), Breakpoint.fromPacket(3, 0x2000, 4));
        assertEquals(Optional.of(new Breakpoint.Watchpoint(WatchKind.ACCESS, 0x2000, 2)), Breakpoint.fromPacket(4, 0x2000, 2));
        assertEquals(Optional.empty(), Breakpoint.fromPacket(5, 0x2000, 2), "gdb defines Z0-Z4 only");
        for (int z = 0; z <= 4; z++) {
            assertEquals(z, Breakpoint.fromPacket(z, 0, 1).orElseThrow().zType());
        }
    }

    @Test
    void aWatchpointsKindNamesItsStopReplyField() {
        assertEquals("watch", WatchKind.WRITE.stopReplyKey());
        assertEquals("rwatch", WatchKind.READ.stopReplyKey());
        assertEquals("awatch", WatchKind.ACCESS.stopReplyKey());
    }

    @Test
    void aTargetTakesExactlyTheKindsItDeclares() {
        BreakpointSupport hardwareOnly = new BreakpointSupport(false, true, Set.of(WatchKind.WRITE), 4);
        assertFalse(hardwareOnly.supports(new Breakpoint.Software(0x1000, 1)));
        assertTrue(hardwareOnly.supports(new Breakpoint.Hardware(0x1000, 1)));
        assertTrue(hardwareOnly.supports(new Breakpoint.Watchpoint(WatchKind.WRITE, 0x1000, 8)));
        assertFalse(hardwareOnly.supports(new Breakpoint.Watchpoint(WatchKind.READ, 0x1000, 8)));
        BreakpointSupport x86 = BreakpointSupport.x86();
        assertEquals(4, x86.debugRegisters());
        assertEquals(EnumSet.allOf(WatchKind.class), EnumSet.copyOf(x86.watchpoints()));
        assertTrue(x86.software() && x86.hardware());
    }
}
