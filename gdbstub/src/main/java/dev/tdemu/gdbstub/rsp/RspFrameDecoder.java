package dev.tdemu.gdbstub.rsp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ByteProcessor;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.Arrays;
import java.util.List;

/**
 * Frames the inbound RSP byte stream into {@link RspFrame}s.
 *
 * <ul>
 *   <li>{@code $payload#xx}: checksum verified; escapes ({@code '}'} then byte XOR 0x20) undone;
 *       in {@link Role#CLIENT} role run-length encoding is expanded first. A raw {@code $} inside a
 *       packet cannot be data (it is always escaped), so it restarts framing there.</li>
 *   <li>{@code +}, {@code -} and 0x03 outside packets become {@link RspFrame.Ack},
 *       {@link RspFrame.Nak} and {@link RspFrame.Interrupt}; inside a packet 0x03 is payload (binary
 *       {@code X} data may contain it).</li>
 *   <li>Any other byte outside a packet is skipped; each run of such bytes gives one DEBUG line.</li>
 *   <li>A payload longer than the limit is not buffered: its bytes are counted and dropped, and
 *       one {@link RspFrame.Oversized} is emitted at its end, so the connection survives.</li>
 * </ul>
 * No exception escapes: an unexpected failure resets the framing state and is logged.
 */
public final class RspFrameDecoder extends ByteToMessageDecoder {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.rsp");

    /** Which side of the protocol this decoder serves. */
    public enum Role {
        /** The stub: reads gdb's commands, which are never run-length encoded. */
        STUB,
        /** A client: reads the stub's replies, which may be run-length encoded. */
        CLIENT
    }

    private enum State { IDLE, PAYLOAD, CHECKSUM_HIGH, CHECKSUM_LOW }

    private static final int INITIAL_BUFFER = 512;
    private static final ByteProcessor NOT_PACKET_END = b -> b != '#' && b != '$';

    private final Role role;
    private final int maxPayload;
    private State state = State.IDLE;
    private byte[] buf = new byte[INITIAL_BUFFER];
    private int kept;
    private long seen;
    private int sum;
    private int sentHigh;
    private long stray;

    /**
     * @param role       stub or client
     * @param maxPayload the largest payload accepted, in bytes as sent on the wire (the
     *                   {@code PacketSize} the stub advertises)
     */
    public RspFrameDecoder(Role role, int maxPayload) {
        if (maxPayload < 64) {
            throw new IllegalArgumentException("packet size limit too small: " + maxPayload);
        }
        this.role = role;
        this.maxPayload = maxPayload;
    }

    public int maxPayload() {
        return maxPayload;
    }

    /**
     * The memory this decoder holds for the connection: its packet buffer and any bytes not yet
     * decoded. Never more than the packet size limit plus {@value #INITIAL_BUFFER} bytes: longer
     * packets are counted, not kept.
     */
    public int bufferedBytes() {
        return buf.length + (internalBuffer().isReadable() ? internalBuffer().readableBytes() : 0);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            decodeAvailable(in, out);
        } catch (RuntimeException e) {
            LOG.warn("RSP framing failed ({}); discarding {} buffered bytes and resynchronising", e.toString(),
                    in.readableBytes());
            LOG.debug("framing failure", e);
            in.skipBytes(in.readableBytes());
            resetPacket();
            state = State.IDLE;
        }
        reportStray();
    }

    private void decodeAvailable(ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            switch (state) {
                case IDLE -> idleByte(in.readUnsignedByte(), out);
                case PAYLOAD -> payloadBytes(in);
                case CHECKSUM_HIGH -> {
                    int d = Hex.digit(in.getUnsignedByte(in.readerIndex()));
                    if (d < 0) {
                        badTrailer(out);
                    } else {
                        in.skipBytes(1);
                        sentHigh = d;
                        state = State.CHECKSUM_LOW;
                    }
                }
                case CHECKSUM_LOW -> {
                    int d = Hex.digit(in.getUnsignedByte(in.readerIndex()));
                    if (d < 0) {
                        badTrailer(out);
                    } else {
                        in.skipBytes(1);
                        finishPacket((sentHigh << 4) | d, out);
                    }
                }
            }
        }
    }

    private void idleByte(int b, List<Object> out) {
        switch (b) {
            case '$' -> {
                reportStray();
                resetPacket();
                state = State.PAYLOAD;
            }
            case '+' -> {
                LOG.trace("recv +");
                out.add(RspFrame.ACK);
            }
            case '-' -> {
                LOG.trace("recv -");
                out.add(RspFrame.NAK);
            }
            case Rsp.INTERRUPT -> {
                LOG.trace("recv ^C");
                out.add(RspFrame.INTERRUPT);
            }
            default -> stray++;
        }
    }

    private void payloadBytes(ByteBuf in) {
        int start = in.readerIndex();
        int end = in.forEachByte(start, in.readableBytes(), NOT_PACKET_END);
        int stop = end < 0 ? in.writerIndex() : end;
        keep(in, start, stop - start);
        in.readerIndex(stop);
        if (end < 0) {
            return;
        }
        int terminator = in.readUnsignedByte();
        if (terminator == '#') {
            state = State.CHECKSUM_HIGH;
        } else {
            LOG.warn("'$' inside a packet after {} bytes: dropping the partial packet", seen);
            resetPacket();
        }
    }

    private void keep(ByteBuf in, int from, int n) {
        if (n == 0) {
            return;
        }
        if (seen + n <= maxPayload) {
            if (kept + n > buf.length) {
                buf = Arrays.copyOf(buf, (int) Math.min(maxPayload, Math.max(2L * buf.length, kept + n)));
            }
            in.getBytes(from, buf, kept, n);
            for (int i = kept; i < kept + n; i++) {
                sum += buf[i] & 0xff;
            }
            kept += n;
        }
        seen += n;
    }

    /** The checksum field holds a non-hex byte: treat as a checksum error and re-read that byte as idle. */
    private void badTrailer(List<Object> out) {
        if (seen > maxPayload) {
            oversized(out);
        } else {
            LOG.warn("packet checksum field is not hex: {}", Rsp.printable(Arrays.copyOf(buf, kept), 120));
            byte[] payload = decodePayload(out);
            if (payload != null) {
                out.add(new RspFrame.BadChecksum(payload, -1, sum & 0xff));
            }
        }
        state = State.IDLE;
        shrinkBuffer();
    }

    private void finishPacket(int sent, List<Object> out) {
        state = State.IDLE;
        if (seen > maxPayload) {
            oversized(out);
        } else {
            int actual = sum & 0xff;
            byte[] payload = decodePayload(out);
            if (payload != null) {
                if (sent == actual) {
                    if (LOG.isTraceEnabled()) {
                        LOG.trace("recv ${}#{}", Rsp.printable(Arrays.copyOf(buf, kept), 400), Hex.byte2(sent));
                    }
                    out.add(new RspFrame.Packet(payload));
                } else {
                    LOG.warn("bad packet checksum: sent {}, computed {} for {}", Hex.byte2(sent), Hex.byte2(actual),
                            Rsp.printable(Arrays.copyOf(buf, kept), 120));
                    out.add(new RspFrame.BadChecksum(payload, sent, actual));
                }
            }
        }
        shrinkBuffer();
    }

    private void oversized(List<Object> out) {
        LOG.warn("dropped a {}-byte packet: larger than the packet size limit of {} bytes", seen, maxPayload);
        out.add(new RspFrame.Oversized(seen, maxPayload));
    }

    /** Undoes run-length encoding (client role) and escapes; emits {@link RspFrame.Malformed} on failure. */
    private byte[] decodePayload(List<Object> out) {
        byte[] wire = buf;
        int off = 0;
        int len = kept;
        if (role == Role.CLIENT) {
            wire = Rsp.runLengthDecode(buf, 0, kept, maxPayload);
            if (wire == null) {
                LOG.warn("malformed run-length encoding in {}", Rsp.printable(Arrays.copyOf(buf, kept), 120));
                out.add(new RspFrame.Malformed("malformed run-length encoding"));
                return null;
            }
            len = wire.length;
        }
        byte[] payload = Rsp.unescape(wire, off, len);
        if (payload == null) {
            LOG.warn("packet ends with a lone escape byte: {}", Rsp.printable(Arrays.copyOf(wire, len), 120));
            out.add(new RspFrame.Malformed("packet ends with a lone escape byte"));
        }
        return payload;
    }

    private void resetPacket() {
        kept = 0;
        seen = 0;
        sum = 0;
    }

    private void shrinkBuffer() {
        if (buf.length > 64 * 1024) {
            buf = new byte[INITIAL_BUFFER];
        }
        resetPacket();
    }

    private void reportStray() {
        if (stray > 0) {
            LOG.debug("skipped {} stray byte(s) outside packets", stray);
            stray = 0;
        }
    }
}
