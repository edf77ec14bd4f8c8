package dev.tdemu.core.pc;

import dev.tdemu.core.platform.PortBus;
import org.junit.jupiter.api.Test;

import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PostCodePortTest {
    private final PostCodePort port80 = new PostCodePort();
    private final PortBus bus = new PortBus();

    PostCodePortTest() {
        port80.attachTo(bus);
    }

    @Test
    void theLastWrittenCodeIsRecorded() {
        assertEquals(OptionalInt.empty(), port80.lastPostCode());
        bus.out(0x80, 1, 0x12);
        bus.out(0x80, 1, 0x34);
        assertEquals(OptionalInt.of(0x34), port80.lastPostCode());
        assertEquals(2, port80.writes());
    }

    @Test
    void guestReadsReturnAllOnesAsOnQemusPcMachine() {
        bus.out(0x80, 1, 0x12);
        assertEquals(0xFF, bus.in(0x80, 1));
    }

    @Test
    void aWideWriteRecordsItsLowByteOnly() {
        bus.out(0x80, 2, 0xAB55);
        assertEquals(OptionalInt.of(0x55), port80.lastPostCode());
    }
}
