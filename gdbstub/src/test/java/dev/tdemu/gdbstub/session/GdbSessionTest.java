package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.gdbstub.StubFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link GdbSession}: framing and acks, malformed packets, and what is refused while the target runs. */
@Timeout(30)
class GdbSessionTest extends SessionTestBase {
    @Test
    void ackModeAcknowledgesEveryPacketAndNaksBadChecksums() throws Exception {
        try (RspClient c = stub.connect()) {
            c.sendRaw("$qC#00");
            assertEquals('-', c.readRawByte());
            c.sendRaw("$qC#b4");
            assertEquals('+', c.readRawByte());
            assertEquals("QC1", c.receive());
        }
    }

    @Test
    void aNakMakesTheStubRetransmitItsLastReply() throws Exception {
        try (RspClient c = stub.connect()) {
            c.sendRaw("$qC#b4");
            assertEquals('+', c.readRawByte());
            assertEquals("$QC1#c5", readRaw(c, 7));
            c.sendRaw("-");
            assertEquals("QC1", c.receive());
        }
    }

    @Test
    void noAckModeStopsAcknowledgementsAndAcceptsBadChecksums() throws Exception {
        try (RspClient c = stub.connect()) {
            c.startNoAckMode();
            c.sendRaw("$qC#b4");
            assertEquals("$QC1#c5", readRaw(c, 7), "no '+' any more");
            c.sendRaw("$qC#00");
            assertEquals("QC1", c.receive(), "TCP is reliable; a bad checksum is logged and served");
        }
    }

    @Test
    void malformedPacketsGetEinval() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("E16", c.request("m10"));
            assertEquals("E16", c.request("Z1,zz,1"));
        }
        try (RspClient c = attach(PLAIN + ";error-message+")) {
            assertTrue(c.request("Z1,zz,1").startsWith("E.malformed Z packet"));
            assertEquals("E16", c.request("mzz,1"), "m replies must stay Enn");
        }
    }

    @Test
    void packetsWhileRunningAreRefusedWithoutStoppingTheTarget() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            c.send("vCont;c");
            StubFixture.await("the target runs", Duration.ofSeconds(30), target::isRunning);
            assertEquals("E.the target is running", c.request("g"));
            assertTrue(target.isRunning());
            c.interrupt();
            assertTrue(c.receive().startsWith("T02"));
        }
    }
}
