package dev.tdemu.gdbstub.rsp;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RspFrameDecoderTest {

    private static EmbeddedChannel stub() {
        return new EmbeddedChannel(new RspFrameDecoder(RspFrameDecoder.Role.STUB, 4096));
    }

    private static EmbeddedChannel client() {
        return new EmbeddedChannel(new RspFrameDecoder(RspFrameDecoder.Role.CLIENT, 1 << 20));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static List<RspFrame> feed(EmbeddedChannel ch, byte[]... chunks) {
        for (byte[] c : chunks) {
            ch.writeInbound(Unpooled.wrappedBuffer(c));
        }
        List<RspFrame> out = new ArrayList<>();
        Object o;
        while ((o = ch.readInbound()) != null) {
            out.add((RspFrame) o);
        }
        return out;
    }

    private static String payload(RspFrame f) {
        return new String(assertInstanceOf(RspFrame.Packet.class, f).payload(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void packetWithCorrectChecksumIsDelivered() {
        List<RspFrame> frames = feed(stub(), bytes("$qSupported#37"));
        assertEquals(1, frames.size());
        assertEquals("qSupported", payload(frames.getFirst()));
    }

    @Test
    void checksumDigitsMayBeUppercase() {
        assertEquals("g", payload(feed(stub(), bytes("$g#67")).getFirst()));
        assertEquals("?", payload(feed(stub(), bytes("$?#3F")).getFirst()));
    }

    @Test
    void packetSplitAcrossManyReadsIsReassembled() {
        EmbeddedChannel ch = stub();
        byte[] wire = bytes("$m401000,40#22");
        List<RspFrame> frames = new ArrayList<>();
        for (byte b : wire) {
            frames.addAll(feed(ch, new byte[] {b}));
        }
        assertEquals(1, frames.size());
        assertEquals("m401000,40", payload(frames.getFirst()));
    }

    @Test
    void severalPacketsAndAcksInOneReadComeOutInOrder() {
        List<RspFrame> frames = feed(stub(), bytes("+$g#67+-$?#3f"));
        assertEquals(5, frames.size());
        assertInstanceOf(RspFrame.Ack.class, frames.get(0));
        assertEquals("g", payload(frames.get(1)));
        assertInstanceOf(RspFrame.Ack.class, frames.get(2));
        assertInstanceOf(RspFrame.Nak.class, frames.get(3));
        assertEquals("?", payload(frames.get(4)));
    }

    @Test
    void wrongChecksumIsReportedWithThePayloadAndBothSums() {
        List<RspFrame> frames = feed(stub(), bytes("$g#00"));
        RspFrame.BadChecksum bad = assertInstanceOf(RspFrame.BadChecksum.class, frames.getFirst());
        assertEquals(0x00, bad.expected());
        assertEquals(0x67, bad.actual());
        assertArrayEquals(bytes("g"), bad.payload());
    }

    @Test
    void nonHexChecksumIsABadChecksumAndTheByteIsReadAgain() {
        // "$g#6" then '$' starts the next packet: the '$' must not be swallowed as a checksum digit.
        List<RspFrame> frames = feed(stub(), bytes("$g#6$?#3f"));
        assertEquals(2, frames.size());
        assertInstanceOf(RspFrame.BadChecksum.class, frames.get(0));
        assertEquals("?", payload(frames.get(1)));
    }

    @Test
    void interruptByteBetweenPacketsIsAnInterrupt() {
        List<RspFrame> frames = feed(stub(), bytes("$c#63"), new byte[] {0x03}, bytes("+"));
        assertEquals(3, frames.size());
        assertInstanceOf(RspFrame.Interrupt.class, frames.get(1));
    }

    @Test
    void interruptByteInTheMiddleOfGarbageIsStillAnInterrupt() {
        byte[] junk = new byte[] {'x', 'y', 0x00, (byte) 0xff, 0x03, 'z', '#', '9', 0x03};
        List<RspFrame> frames = feed(stub(), junk);
        assertEquals(2, frames.size());
        assertTrue(frames.stream().allMatch(f -> f instanceof RspFrame.Interrupt));
    }

    @Test
    void byte03InsideAPacketIsPayloadNotAnInterrupt() {
        byte[] data = {'X', '1', '0', ',', '1', ':', 0x03};
        List<RspFrame> frames = feed(stub(), Rsp.frame(data));
        assertEquals(1, frames.size());
        assertArrayEquals(data, assertInstanceOf(RspFrame.Packet.class, frames.getFirst()).payload());
    }

    @Test
    void escapesInBinaryPayloadsAreUndone() {
        byte[] data = {'X', '0', ',', '4', ':', '$', '#', 0x7d, '*'};
        byte[] escaped = Rsp.escape(data);
        assertEquals(data.length + 4, escaped.length);
        List<RspFrame> frames = feed(stub(), Rsp.frame(escaped));
        assertArrayEquals(data, assertInstanceOf(RspFrame.Packet.class, frames.getFirst()).payload());
    }

    @Test
    void escapedHashDoesNotEndThePacket() {
        // '}' 0x03 is an escaped '#'; the checksum covers the escaped form.
        byte[] wire = {'X', '0', ',', '1', ':', 0x7d, 0x03};
        List<RspFrame> frames = feed(stub(), Rsp.frame(wire));
        assertArrayEquals(new byte[] {'X', '0', ',', '1', ':', '#'},
                assertInstanceOf(RspFrame.Packet.class, frames.getFirst()).payload());
    }

    @Test
    void loneEscapeAtTheEndIsMalformed() {
        List<RspFrame> frames = feed(stub(), Rsp.frame(new byte[] {'X', 0x7d}));
        assertInstanceOf(RspFrame.Malformed.class, frames.getFirst());
    }

    @Test
    void dollarInsideAPacketRestartsFraming() {
        List<RspFrame> frames = feed(stub(), bytes("$garbage-without-end$g#67"));
        assertEquals(1, frames.size());
        assertEquals("g", payload(frames.getFirst()));
    }

    @Test
    void strayBytesOutsidePacketsAreSkipped() {
        List<RspFrame> frames = feed(stub(), bytes("hello world\r\n$g#67 trailing"));
        assertEquals(1, frames.size());
        assertEquals("g", payload(frames.getFirst()));
    }

    @Test
    void oversizedPacketIsReportedOnceAndTheNextPacketStillDecodes() {
        EmbeddedChannel ch = stub();
        StringBuilder big = new StringBuilder("M0,1000:");
        big.append("00".repeat(5000));
        byte[] wire = Rsp.frame(bytes(big.toString()));
        List<RspFrame> frames = new ArrayList<>();
        for (int off = 0; off < wire.length; off += 1000) {
            frames.addAll(feed(ch, java.util.Arrays.copyOfRange(wire, off, Math.min(wire.length, off + 1000))));
        }
        frames.addAll(feed(ch, bytes("$g#67")));
        assertEquals(2, frames.size());
        RspFrame.Oversized o = assertInstanceOf(RspFrame.Oversized.class, frames.get(0));
        assertEquals(big.length(), o.length());
        assertEquals(4096, o.limit());
        assertEquals("g", payload(frames.get(1)));
    }

    @Test
    void packetExactlyAtTheLimitIsAccepted() {
        byte[] data = new byte[4096];
        java.util.Arrays.fill(data, (byte) 'a');
        List<RspFrame> frames = feed(stub(), Rsp.frame(data));
        assertArrayEquals(data, assertInstanceOf(RspFrame.Packet.class, frames.getFirst()).payload());
    }

    @Test
    void emptyPacketIsDelivered() {
        assertEquals("", payload(feed(stub(), bytes("$#00")).getFirst()));
    }

    @Test
    void stubRoleDoesNotExpandRunLengthEncoding() {
        assertEquals("0* ", payload(feed(stub(), Rsp.frame(bytes("0* "))).getFirst()));
    }

    @Test
    void clientRoleExpandsRunLengthEncodingBeforeUnescaping() {
        assertEquals("0000", payload(feed(client(), Rsp.frame(bytes("0* "))).getFirst()));
        // An escaped '}' followed by a run of ']' bytes.
        byte[] data = {0x7d, ']', ']', ']', ']', ']'};
        byte[] wire = Rsp.frame(Rsp.runLengthEncode(Rsp.escape(data)));
        assertArrayEquals(data, assertInstanceOf(RspFrame.Packet.class, feed(client(), wire).getFirst()).payload());
    }

    @Test
    void clientRoleRejectsRunLengthWithoutAPrecedingByte() {
        assertInstanceOf(RspFrame.Malformed.class, feed(client(), Rsp.frame(bytes("* 0"))).getFirst());
    }

    @Test
    void decoderNeverClosesTheChannelOnJunk() {
        EmbeddedChannel ch = stub();
        feed(ch, bytes("$$$###}}}***---+++"), new byte[] {(byte) 0x80, 0, 0x7d, '#', 'z', 'z'});
        assertTrue(ch.isActive());
        assertEquals("g", payload(feed(ch, bytes("$g#67")).getFirst()));
    }
}
