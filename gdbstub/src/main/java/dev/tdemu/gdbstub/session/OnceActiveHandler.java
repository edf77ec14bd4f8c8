package dev.tdemu.gdbstub.session;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * An inbound handler that starts once its channel is connected: when it is added to a channel that
 * already is (the server admits clients late), or when the channel becomes active.
 */
public abstract class OnceActiveHandler extends ChannelInboundHandlerAdapter {
    private boolean started;

    /** Called once, on the channel's event loop, when the channel is connected and this handler is in its pipeline. */
    protected abstract void activated(ChannelHandlerContext ctx);

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            startOnce(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        startOnce(ctx);
        ctx.fireChannelActive();
    }

    private void startOnce(ChannelHandlerContext ctx) {
        if (!started) {
            started = true;
            activated(ctx);
        }
    }
}
