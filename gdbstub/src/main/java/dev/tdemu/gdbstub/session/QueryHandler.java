package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.command.ThreadId;
import dev.tdemu.gdbstub.registers.RegisterLayout;
import dev.tdemu.gdbstub.rsp.Rsp;
import dev.tdemu.gdbstub.target.BreakpointSupport;
import dev.tdemu.gdbstub.target.DebugTarget;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The connection's queries and settings: {@code qSupported} (what gdb offers is taken up, what the
 * stub offers follows the target's declared capabilities), {@code QStartNoAckMode}, the
 * {@code qXfer} objects (the target description, the thread list, the program's file name) served
 * in pieces, lldb's {@code qWatchpointSupportInfo} (the target's debug registers), and the queries
 * with fixed answers ({@code qAttached}, {@code qOffsets}, {@code qSymbol}, {@code QThreadEvents}).
 */
final class QueryHandler {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");

    private final Link link;
    private final DebugTarget target;
    private final RegisterLayout layout;
    private final ThreadHandler threads;
    private final BreakpointSupport breakpoints;
    private String xferKey;
    private byte[] xferDocument;

    QueryHandler(Link link, DebugTarget target, RegisterLayout layout, ThreadHandler threads, BreakpointSupport breakpoints) {
        this.link = link;
        this.target = target;
        this.layout = layout;
        this.threads = threads;
        this.breakpoints = breakpoints;
    }

    CompletionStage<Void> handle(Command.QueryCommand command) {
        return switch (command) {
            case Command.QuerySupported q -> {
                link.negotiated(GdbFeatures.offeredIn(q));
                yield link.sendNow(supportedReply());
            }
            case Command.StartNoAckMode n -> {
                link.send("OK");
                link.startNoAckMode();
                LOG.debug("no-ack mode on");
                yield Link.DONE;
            }
            case Command.XferRead x -> xfer(x);
            case Command.Attached a -> link.sendNow(a.pid().isEmpty() || a.pid().getAsInt() == ThreadId.PROCESS_ID
                    ? "1" : link.errorReply(a, Link.ESRCH, "no process " + a.pid().getAsInt()));
            case Command.Offsets o -> link.sendNow("Text=0;Data=0;Bss=0");
            // lldb asks before its first watchpoint and refuses more than this itself (gdb has no such query).
            case Command.WatchpointSupportInfo w -> link.sendNow(breakpoints.debugRegisters() > 0
                    ? "num:" + breakpoints.debugRegisters() + ";" : "");
            case Command.SymbolLookup s -> link.sendNow("OK");
            case Command.ThreadEvents t -> link.sendNow("OK");
        };
    }

    /** The target may have changed while it ran: documents are generated afresh. */
    void forgetDocuments() {
        xferKey = null;
    }

    private String supportedReply() {
        StringBuilder sb = new StringBuilder();
        sb.append("PacketSize=").append(Integer.toHexString(link.options().packetSize()));
        sb.append(";qXfer:features:read+;qXfer:threads:read+;QStartNoAckMode+;vContSupported+");
        if (breakpoints.software()) {
            sb.append(";swbreak+");
        }
        if (breakpoints.hardware()) {
            sb.append(";hwbreak+");
        }
        if (target.executable().isPresent()) {
            sb.append(";qXfer:exec-file:read+");
        }
        if (target.nonStop().isPresent()) {
            sb.append(";QNonStop+");
        }
        GdbFeatures features = link.features();
        if (features.multiprocess()) {
            sb.append(";multiprocess+");
        }
        if (features.errorMessages()) {
            sb.append(";error-message+");
        }
        return sb.toString();
    }

    private CompletionStage<Void> xfer(Command.XferRead x) {
        byte[] document;
        switch (x.object()) {
            case "features" -> {
                if (!x.annex().equals("target.xml")) {
                    return link.sendNow(link.errorReply(x, Link.EINVAL, "no feature document " + x.annex()));
                }
                document = document("features:target.xml", x.offset(),
                        () -> layout.targetXml().getBytes(StandardCharsets.UTF_8));
            }
            case "threads" -> {
                if (!x.annex().isEmpty()) {
                    return link.sendNow(link.errorReply(x, Link.EINVAL, "threads takes no annex"));
                }
                document = document("threads", x.offset(), () -> ThreadsXml.render(threads.threads(),
                        link.features().multiprocess()).getBytes(StandardCharsets.UTF_8));
            }
            case "exec-file" -> {
                // The annex is the process id (hex) or empty for the current one; there is only process 1.
                if (!x.annex().isEmpty() && !x.annex().equals("1")) {
                    return link.sendNow(link.errorReply(x, Link.ESRCH, "no process " + x.annex()));
                }
                Optional<String> file = target.executable();
                if (file.isEmpty()) {
                    return link.sendNow("");
                }
                document = file.get().getBytes(StandardCharsets.UTF_8);
            }
            default -> {
                LOG.debug("unsupported qXfer object {}", x.object());
                return link.sendNow("");
            }
        }
        int max = Math.min(x.length(), link.options().packetSize() - 8);
        // The offset is a 64-bit unsigned number: compare it as one (ffffffffffffffff is no -1).
        int past = Long.compareUnsigned(x.offset(), document.length);
        if (past > 0) {
            return link.sendNow(link.errorReply(x, Link.EINVAL, "offset 0x" + Long.toHexString(x.offset())
                    + " is past the end of " + x.object() + " " + x.annex() + " (" + document.length + " bytes)"));
        }
        if (past == 0) {
            link.send(new byte[] {'l'});
            return Link.DONE;
        }
        int start = (int) x.offset();
        int end = start;
        int escaped = 0;
        while (end < document.length) {
            int cost = Rsp.needsEscape(document[end] & 0xff) ? 2 : 1;
            if (escaped + cost > max) {
                break;
            }
            escaped += cost;
            end++;
        }
        if (end == start) {
            return link.sendNow(link.errorReply(x, Link.EINVAL, "qXfer length too small"));
        }
        byte[] reply = new byte[1 + end - start];
        reply[0] = (byte) (end >= document.length ? 'l' : 'm');
        System.arraycopy(document, start, reply, 1, end - start);
        link.send(reply);
        return Link.DONE;
    }

    /** The document being transferred: regenerated at offset 0, kept for the following chunks. */
    private byte[] document(String key, long offset, Supplier<byte[]> generate) {
        if (offset != 0 && key.equals(xferKey) && xferDocument != null) {
            return xferDocument;
        }
        xferKey = key;
        xferDocument = generate.get();
        return xferDocument;
    }
}
