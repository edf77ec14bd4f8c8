package dev.tdemu.core.pc;

import dev.tdemu.core.platform.PortBus;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class IsaDebugExitTest {
    private final List<Long> requests = new ArrayList<>();
    private final PortBus bus = new PortBus();

    IsaDebugExitTest() {
        IsaDebugExit.forKvmUnitTests(requests::add).attachTo(bus);
    }

    @Test
    void aWriteOfVRequestsExitStatusVShiftedLeftOr1() {
        bus.out(0xF4, 1, 0);
        bus.out(0xF4, 1, 1);
        bus.out(0xF4, 1, 0x7F);
        assertEquals(List.of(1L, 3L, 0xFFL), requests);
    }

    @Test
    void everyWidthAndEveryPortOfTheRangeCounts() {
        bus.out(0xF4, 4, 0x1234_5678);
        bus.out(0xF6, 2, 0xFFFF);
        bus.out(0xF7, 1, 2);
        assertEquals(List.of(0x2468_ACF1L, 0x1_FFFFL, 5L), requests);
    }

    @Test
    void aThirtyTwoBitAllOnesWriteKeepsTheWholeStatus() {
        bus.out(0xF4, 4, 0xFFFF_FFFFL);
        assertEquals(List.of(0x1_FFFF_FFFFL), requests);
    }

    @Test
    void readsReturnZeroAsQemusDeviceDoes() {
        assertEquals(0, bus.in(0xF4, 1));
        assertEquals(0, bus.in(0xF4, 4));
        assertEquals(List.of(), requests);
    }

    @Test
    void portsOutsideTheRangeAreNotTheDevices() {
        bus.out(0xF8, 1, 1);
        assertEquals(List.of(), requests);
    }

    @Test
    void baseAndSizeAreConfigurable() {
        PortBus other = new PortBus();
        new IsaDebugExit(0x501, 2, requests::add).attachTo(other);
        other.out(0x502, 1, 3);
        other.out(0x503, 1, 3);
        assertEquals(List.of(7L), requests);
    }

    @Test
    void aRangeOutsideTheIoSpaceIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new IsaDebugExit(0xFFFF, 2, s -> { }));
        assertEquals("isa-debug-exit: iobase 0xffff, iosize 2 is outside the I/O space", e.getMessage());
    }
}
