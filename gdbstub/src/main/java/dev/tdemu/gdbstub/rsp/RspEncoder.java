package dev.tdemu.gdbstub.rsp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.List;

/**
 * Writes {@link RspOutbound} messages: packets escaped, run-length encoded where allowed and
 * framed with their checksum; ack bytes; and retransmissions of the last packet after a {@code -}.
 * Each packet goes out in a buffer of exactly its wire size; ack bytes take no buffer of their
 * own (they share one that is never released).
 */
public final class RspEncoder extends MessageToMessageEncoder<RspOutbound> {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.rsp");
    private static final ByteBuf PLUS = Unpooled.unreleasableBuffer(Unpooled.directBuffer(1).writeByte('+'));
    private static final ByteBuf MINUS = Unpooled.unreleasableBuffer(Unpooled.directBuffer(1).writeByte('-'));

    private final boolean runLengthEncoding;
    private byte[] lastPacket;

    /** @param runLengthEncoding whether to run-length encode packets that allow it */
    public RspEncoder(boolean runLengthEncoding) {
        super(RspOutbound.class);
        this.runLengthEncoding = runLengthEncoding;
    }

    /** The complete wire form of a packet: escaped, optionally run-length encoded, framed. */
    public static byte[] wireForm(byte[] payload, boolean runLength) {
        return Rsp.frame(Rsp.escape(payload), runLength);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, RspOutbound msg, List<Object> out) {
        switch (msg) {
            case RspOutbound.Packet p -> out.add(packet(ctx, wireForm(p.payload(), runLengthEncoding && p.runLengthAllowed())));
            case RspOutbound.HexPacket h -> out.add(packet(ctx, Rsp.frameHex(h.data(), 0, h.data().length, runLengthEncoding)));
            case RspOutbound.Notification n -> {
                byte[] name = Rsp.ascii(n.name() + ":");
                byte[] body = new byte[name.length + n.payload().length];
                System.arraycopy(name, 0, body, 0, name.length);
                System.arraycopy(n.payload(), 0, body, name.length, n.payload().length);
                byte[] wire = Rsp.frame(Rsp.escape(body));
                wire[0] = '%'; // not remembered for retransmission: notifications are never acknowledged
                if (LOG.isTraceEnabled()) {
                    LOG.trace("send {}", Rsp.printable(wire, 400));
                }
                out.add(ctx.alloc().ioBuffer(wire.length).writeBytes(wire));
            }
            case RspOutbound.AckByte a -> {
                LOG.trace("send {}", a.positive() ? "+" : "-");
                out.add((a.positive() ? PLUS : MINUS).duplicate());
            }
            case RspOutbound.Retransmit r -> {
                if (lastPacket == null) {
                    LOG.debug("peer asked for a retransmission before any packet was sent");
                    out.add(Unpooled.EMPTY_BUFFER); // the encoder must produce something
                } else {
                    LOG.debug("retransmitting the last packet ({} bytes) after a '-'", lastPacket.length);
                    out.add(ctx.alloc().ioBuffer(lastPacket.length).writeBytes(lastPacket));
                }
            }
        }
    }

    private ByteBuf packet(ChannelHandlerContext ctx, byte[] wire) {
        if (LOG.isTraceEnabled()) {
            LOG.trace("send {}", Rsp.printable(wire, 400));
        }
        lastPacket = wire;
        return ctx.alloc().ioBuffer(wire.length).writeBytes(wire);
    }
}
