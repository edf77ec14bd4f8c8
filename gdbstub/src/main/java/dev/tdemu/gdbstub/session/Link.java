package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.rsp.Hex;
import dev.tdemu.gdbstub.rsp.Rsp;
import dev.tdemu.gdbstub.rsp.RspOutbound;
import dev.tdemu.gdbstub.target.TargetException;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What every handler needs of its session: sending replies to gdb, calling the target so that the
 * answer comes back on the event loop (or as an error reply after the request timeout), and the
 * spelling of error replies, which depends on the command and on what gdb negotiated. Everything
 * here runs on the channel's event loop.
 */
final class Link {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");
    static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
    static final int ESRCH = 0x03, EFAULT = 0x0e, EBUSY = 0x10, EINVAL = 0x16;

    private final ChannelHandlerContext ctx;
    private final SessionOptions options;
    private GdbFeatures features = GdbFeatures.NONE;
    private boolean noAck;
    private boolean closed;

    Link(ChannelHandlerContext ctx, SessionOptions options) {
        this.ctx = ctx;
        this.options = options;
    }

    SessionOptions options() {
        return options;
    }

    GdbFeatures features() {
        return features;
    }

    void negotiated(GdbFeatures offered) {
        this.features = offered;
    }

    /** Whether acks are off ({@code QStartNoAckMode}). */
    boolean noAck() {
        return noAck;
    }

    void startNoAckMode() {
        noAck = true;
    }

    /** The connection is gone: nothing is sent any more. */
    boolean closed() {
        return closed;
    }

    void markClosed() {
        closed = true;
    }

    // ---- replies

    CompletionStage<Void> sendNow(String payload) {
        send(payload);
        return DONE;
    }

    void send(String payload) {
        send(payload.getBytes(StandardCharsets.ISO_8859_1));
    }

    void send(byte[] payload) {
        send(new RspOutbound.Packet(payload));
    }

    void send(RspOutbound packet) {
        if (!closed) {
            ctx.writeAndFlush(packet);
        }
    }

    /** Sends the last reply of the session, then closes the connection. */
    void sendAndClose(String payload) {
        ctx.writeAndFlush(RspOutbound.Packet.of(payload)).addListener(ChannelFutureListener.CLOSE);
    }

    void close() {
        ctx.close();
    }

    /** Sends text to gdb's console as {@code O} packets (only valid during qRcmd or while running). */
    void sendConsole(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int chunk = Math.max(64, (options.packetSize() - 16) / 2);
        for (int off = 0; off < bytes.length; off += chunk) {
            int n = Math.min(chunk, bytes.length - off);
            send("O" + Hex.append(new StringBuilder(2 * n), bytes, off, n));
        }
    }

    // ---- target calls

    /** Calls the target; exceptions and null results become failed stages. Completes on the event loop. */
    <T> CompletableFuture<T> call(String what, Supplier<? extends CompletionStage<T>> operation) {
        CompletionStage<T> stage;
        try {
            stage = operation.get();
            if (stage == null) {
                throw new IllegalStateException("target returned null for " + what);
            }
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedFuture(e);
        }
        return onLoop(withTimeout(stage, options.requestTimeout()));
    }

    /** Sends the reply computed by {@code onSuccess}, or an error reply; never leaves gdb without an answer. */
    <T> CompletionStage<Void> reply(Command command, CompletableFuture<T> result, Function<T, String> onSuccess) {
        return replyWith(command, result, value -> RspOutbound.Packet.of(onSuccess.apply(value)));
    }

    /** {@link #reply}, for a reply that is not plain text (a {@link RspOutbound.HexPacket}). */
    <T> CompletionStage<Void> replyWith(Command command, CompletableFuture<T> result, Function<T, RspOutbound> onSuccess) {
        return result.handle((value, error) -> {
            RspOutbound packet;
            if (error != null) {
                packet = RspOutbound.Packet.of(errorFor(command, error));
            } else {
                try {
                    packet = onSuccess.apply(value);
                } catch (RuntimeException e) {
                    packet = RspOutbound.Packet.of(errorFor(command, e));
                }
            }
            send(packet);
            return null;
        });
    }

    // ---- error replies

    /** The error reply for a failed target call: a refusal, a timeout or a target bug. */
    String errorFor(Command command, Throwable error) {
        Throwable cause = unwrap(error);
        String what = command.getClass().getSimpleName();
        switch (cause) {
            case TargetException te -> {
                LOG.debug("{} refused by the target: {}", what, te.getMessage());
                return errorReply(command, te.errno(), te.getMessage());
            }
            case TimeoutException te -> {
                LOG.warn("the target did not answer {} within {} ms", what, options.requestTimeout().toMillis());
                return errorReply(command, EBUSY, "the target did not answer in time");
            }
            default -> {
                LOG.warn("the target failed on {}: {}", what, cause.toString());
                LOG.debug("target failure", cause);
                // A bug in the target, not a refusal: its text only goes to a gdb that asked for messages.
                return errorReply(command, 1, features.errorMessages() ? cause.toString() : null);
            }
        }
    }

    /** {@code E.message} where the command's reply and gdb accept it ({@link Command#errorForm()}), else {@code Enn}. */
    String errorReply(Command command, int code, String message) {
        boolean textual = message != null && switch (command.errorForm()) {
            case TEXT_ALWAYS -> true;
            case TEXT_IF_NEGOTIATED -> features.errorMessages();
            case ENN_ONLY -> false;
        };
        return textual ? "E." + sanitize(message) : "E" + Hex.byte2(code);
    }

    /**
     * Printable ASCII without the framing characters, at most 200 characters. An exception's {@code #}
     * ("#GP(0)") cannot be sent in a reply gdb prints (it ends a packet, and only binary replies are
     * unescaped): it is left out ("GP(0)").
     */
    static String sanitize(String message) {
        if (message == null) {
            return "error";
        }
        StringBuilder sb = new StringBuilder(Math.min(message.length(), 200));
        for (int i = 0; i < message.length() && sb.length() < 200; i++) {
            char c = message.charAt(i);
            if (c == '#' && i + 1 < message.length() && Character.isUpperCase(message.charAt(i + 1))) {
                continue;
            }
            if (c < 0x20 || c > 0x7e || Rsp.needsEscape(c)) {
                sb.append(c == '\n' || c == '\t' ? ' ' : '?');
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static String describe(Throwable e) {
        if (e == null) {
            return "no stop event";
        }
        Throwable cause = unwrap(e);
        return cause.getMessage() != null ? cause.getMessage() : cause.toString();
    }

    // ---- the event loop

    static <T> CompletableFuture<T> withTimeout(CompletionStage<T> stage, Duration timeout) {
        CompletableFuture<T> copy = new CompletableFuture<>();
        stage.whenComplete((v, e) -> {
            if (e != null) {
                copy.completeExceptionally(e);
            } else {
                copy.complete(v);
            }
        });
        return copy.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A future completing on this channel's event loop with the outcome of {@code stage}. */
    <T> CompletableFuture<T> onLoop(CompletionStage<T> stage) {
        CompletableFuture<T> f = new CompletableFuture<>();
        stage.whenComplete((v, e) -> runOnLoop(() -> {
            if (e != null) {
                f.completeExceptionally(e);
            } else {
                f.complete(v);
            }
        }));
        return f;
    }

    /** Runs {@code r} on the event loop: now if called there, else as a task. */
    void runOnLoop(Runnable r) {
        if (ctx.executor().inEventLoop()) {
            r.run();
            return;
        }
        try {
            ctx.executor().execute(r);
        } catch (RejectedExecutionException e) {
            r.run();
        }
    }

    /** Runs {@code r} on the event loop as a task of its own, after what is queued. */
    void later(Runnable r) {
        ctx.executor().execute(r);
    }
}
