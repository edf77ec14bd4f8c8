package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.rsp.RspFrame;
import dev.tdemu.gdbstub.rsp.RspOutbound;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.concurrent.TimeUnit;

/**
 * Serves a client that arrived while another debugger is attached: its first packet is answered
 * with {@code E.message} (gdb prints "Remote failure reply: ..." for the {@code qSupported} it
 * starts with) and the connection is closed. A client that sends nothing is closed after a grace
 * period.
 */
public final class RefusingHandler extends OnceActiveHandler {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");

    private final String message;
    private boolean refused;

    public RefusingHandler(String message) {
        this.message = message;
    }

    @Override
    protected void activated(ChannelHandlerContext ctx) {
        LOG.warn("refusing gdb connection from {}: {}", ctx.channel().remoteAddress(), message);
        ctx.executor().schedule(() -> {
            ctx.close();
        }, 10, TimeUnit.SECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (!refused && (msg instanceof RspFrame.Packet || msg instanceof RspFrame.BadChecksum
                    || msg instanceof RspFrame.Oversized || msg instanceof RspFrame.Malformed)) {
                refused = true;
                ctx.write(RspOutbound.ACK);
                ctx.writeAndFlush(RspOutbound.Packet.of("E." + Link.sanitize(message)))
                        .addListener(ChannelFutureListener.CLOSE);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("refused connection failed: {}", cause.toString());
        ctx.close();
    }
}
