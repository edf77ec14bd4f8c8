package dev.tdemu.gdbstub.rsp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RspEncoderTest {

    private static String written(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            sb.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return sb.toString();
    }

    @Test
    void packetIsFramedWithItsChecksum() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspEncoder(false));
        ch.writeOutbound(RspOutbound.Packet.of("OK"));
        assertEquals("$OK#9a", written(ch));
    }

    @Test
    void emptyReplyIsDollarHashZeroZero() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspEncoder(true));
        ch.writeOutbound(RspOutbound.Packet.of(""));
        assertEquals("$#00", written(ch));
    }

    @Test
    void framingCharactersAreEscapedInReplies() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspEncoder(false));
        ch.writeOutbound(new RspOutbound.Packet(new byte[] {'l', '$', '#', '}', '*'}));
        String out = written(ch);
        String body = "l}\u0004}\u0003}]}\n";
        assertEquals("$" + body + "#" + Hex.byte2(Rsp.checksum(body.getBytes(StandardCharsets.ISO_8859_1))), out);
    }

    @Test
    void longRunsAreRunLengthEncoded() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspEncoder(true));
        ch.writeOutbound(RspOutbound.Packet.of("0000"));
        assertEquals("$0* #" + Hex.byte2(Rsp.checksum("0* ".getBytes(StandardCharsets.ISO_8859_1))), written(ch));
    }

    /** Non-stop mode's %Stop: framed with %, the checksum over "Stop:..." escaped, no run-length encoding, never resent. */
    @Test
    void notificationsAreFramedWithPercentNotRunLengthEncodedAndNeverRetransmitted() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspEncoder(true));
        ch.writeOutbound(RspOutbound.Packet.of("OK"));
        written(ch);
        ch.writeOutbound(new RspOutbound.Notification("Stop", "T05thread:1;0000".getBytes(StandardCharsets.ISO_8859_1)));
        String body = "Stop:T05thread:1;0000";
        assertEquals("%" + body + "#" + Hex.byte2(Rsp.checksum(body.getBytes(StandardCharsets.ISO_8859_1))), written(ch));
        ch.writeOutbound(RspOutbound.RETRANSMIT);
        assertEquals("$OK#9a", written(ch), "a '-' resends the last packet, not the notification");
    }

    @Test
    void packetsMayOptOutOfRunLengthEncoding() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspEncoder(true));
        ch.writeOutbound(new RspOutbound.Packet("0000".getBytes(StandardCharsets.ISO_8859_1), false));
        assertEquals("$0000#c0", written(ch));
    }

    @Test
    void ackBytesAreWrittenRaw() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspEncoder(true));
        ch.writeOutbound(RspOutbound.ACK, RspOutbound.NAK);
        assertEquals("+-", written(ch));
    }

    @Test
    void retransmitResendsTheLastPacketVerbatim() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspEncoder(true));
        ch.writeOutbound(RspOutbound.Packet.of("T05thread:1;"));
        String first = written(ch);
        ch.writeOutbound(RspOutbound.ACK, RspOutbound.RETRANSMIT);
        assertEquals("+" + first, written(ch));
    }

    @Test
    void retransmitBeforeAnyPacketWritesNothing() {
        EmbeddedChannel ch = new EmbeddedChannel(new RspEncoder(true));
        ch.writeOutbound(RspOutbound.RETRANSMIT);
        assertEquals("", written(ch));
    }

    @Test
    void wireFormDecodesBackThroughAClientDecoder() {
        byte[] payload = new byte[300];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i < 200 ? '0' : "$#}*ab".charAt(i % 6));
        }
        byte[] wire = RspEncoder.wireForm(payload, true);
        EmbeddedChannel client = new EmbeddedChannel(new RspFrameDecoder(RspFrameDecoder.Role.CLIENT, 1 << 16));
        client.writeInbound(io.netty.buffer.Unpooled.wrappedBuffer(wire));
        RspFrame.Packet p = client.readInbound();
        assertArrayEquals(payload, p.payload());
    }
}
