package dev.tdemu.gdbstub.rsp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Writes {@link RspOutbound} messages: packets escaped, run-length encoded where allowed and
 * framed with their checksum; ack bytes; and retransmissions of the last packet after a {@code -}.
 */
public final class RspEncoder extends MessageToByteEncoder<RspOutbound> {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.rsp");

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
    protected void encode(ChannelHandlerContext ctx, RspOutbound msg, ByteBuf out) {
        switch (msg) {
            case RspOutbound.Packet p -> {
                byte[] wire = wireForm(p.payload(), runLengthEncoding && p.runLengthAllowed());
                if (LOG.isTraceEnabled()) {
                    LOG.trace("send {}", Rsp.printable(wire, 400));
                }
                lastPacket = wire;
                out.writeBytes(wire);
            }
            case RspOutbound.HexPacket h -> {
                byte[] wire = Rsp.frameHex(h.data(), 0, h.data().length, runLengthEncoding);
                if (LOG.isTraceEnabled()) {
                    LOG.trace("send {}", Rsp.printable(wire, 400));
                }
                lastPacket = wire;
                out.writeBytes(wire);
            }
            case RspOutbound.AckByte a -> {
                LOG.trace("send {}", a.positive() ? "+" : "-");
                out.writeByte(a.positive() ? '+' : '-');
            }
            case RspOutbound.Retransmit r -> {
                if (lastPacket == null) {
                    LOG.debug("peer asked for a retransmission before any packet was sent");
                } else {
                    LOG.debug("retransmitting the last packet ({} bytes) after a '-'", lastPacket.length);
                    out.writeBytes(lastPacket);
                }
            }
        }
    }
}
