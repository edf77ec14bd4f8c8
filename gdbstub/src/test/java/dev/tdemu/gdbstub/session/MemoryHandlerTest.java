package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.FakeTarget;
import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.gdbstub.rsp.Hex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link MemoryHandler}: m, M, X, partial and capped reads, QEMU's physical memory mode. */
@Timeout(30)
class MemoryHandlerTest extends SessionTestBase {
    @Test
    void memoryIsReadAndWrittenInHexAndBinary() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals(le64(0) + le64(1), c.request("m408000,10"));
            assertEquals("OK", c.request("M408000,2:3412"));
            assertEquals(0x1234, target.getLong(0x408000));
            byte[] special = {'$', '#', '}', '*', 0x03, 0};
            ByteArrayOutputStream x = new ByteArrayOutputStream();
            x.writeBytes("X408008,6:".getBytes(StandardCharsets.ISO_8859_1));
            x.writeBytes(special);
            assertEquals("OK", new String(c.requestBytes(x.toByteArray()), StandardCharsets.ISO_8859_1));
            assertEquals(Hex.encode(special), c.request("m408008,6"));
            assertEquals("OK", c.request("X408000,0:"), "gdb probes X support with an empty write");
        }
    }

    @Test
    void unreadableMemoryGivesAnEnnErrorEvenWithErrorMessages() throws Exception {
        try (RspClient c = attach(PLAIN + ";error-message+")) {
            assertEquals("E0e", c.request("m10,8"));
            assertTrue(c.request("M10,1:00").startsWith("E.no memory at 0x10"));
        }
        try (RspClient c = attach(PLAIN)) {
            assertEquals("E0e", c.request("M10,1:00"));
        }
    }

    @Test
    void readsCrossingIntoUnreadableMemoryReturnTheReadablePart() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            long end = FakeTarget.MEMORY_BASE + FakeTarget.MEMORY_SIZE;
            assertEquals("9090", c.request("m" + Long.toHexString(end - 2) + ",10"));
        }
    }

    @Test
    void largeReadsAreCappedAtHalfThePacketSize() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            String reply = c.request("m400000,100000");
            assertEquals(0x20000, reply.length(), "64 KiB of data, 128 KiB of hex");
        }
    }

    @Test
    void qemusPhysicalMemoryModeReachesTheTargetWhenItHasOne() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("", c.request("Qqemu.PhyMemMode:1"), "no physical mode: unsupported");
            assertEquals("", c.request("qqemu.PhyMemMode"));
        }
        target.physicalMemory = false;
        try (RspClient c = attach(PLAIN)) {
            assertEquals("0", c.request("qqemu.PhyMemMode"));
            assertEquals("OK", c.request("Qqemu.PhyMemMode:1"));
            assertEquals("1", c.request("qqemu.PhyMemMode"));
            assertEquals(Boolean.TRUE, target.physicalMemory);
            assertTrue(c.request("Qqemu.PhyMemMode:7").startsWith("E"), "malformed");
            assertEquals("OK", c.request("Qqemu.PhyMemMode:0"));
            assertEquals(Boolean.FALSE, target.physicalMemory);
        }
    }
}
