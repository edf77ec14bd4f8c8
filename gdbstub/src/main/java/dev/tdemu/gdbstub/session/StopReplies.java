package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.ThreadId;
import dev.tdemu.gdbstub.rsp.Hex;
import dev.tdemu.gdbstub.target.StopEvent;
import dev.tdemu.gdbstub.target.StopReason;

import java.util.SequencedMap;


/** Formats {@link StopEvent}s as stop-reply packets ({@code T}, {@code W}, {@code X}). */
final class StopReplies {
    private StopReplies() {
    }

    /**
     * @param event     the stop
     * @param expedited registers to expedite (register number to raw bytes), in order
     * @param features  what gdb accepts: thread-ids with the process ({@code p1.N}), {@code swbreak:}, {@code hwbreak:}
     */
    static String format(StopEvent event, SequencedMap<Integer, byte[]> expedited, GdbFeatures features) {
        boolean multiprocess = features.multiprocess();
        String process = multiprocess ? ";process:" + Integer.toHexString(ThreadId.PROCESS_ID) : "";
        return switch (event) {
            case StopEvent.Exited e -> "W" + Hex.byte2(e.status()) + process;
            case StopEvent.Terminated t -> "X" + Hex.byte2(t.signal()) + process;
            case StopEvent.Stopped s -> {
                StringBuilder sb = new StringBuilder(64);
                sb.append('T').append(Hex.byte2(s.signal()));
                sb.append("thread:").append(ThreadId.format(s.threadId(), multiprocess)).append(';');
                expedited.forEach((regnum, bytes) -> Hex.append(sb.append(Integer.toHexString(regnum)).append(':'), bytes).append(';'));
                switch (s.reason()) {
                    case StopReason.HardwareBreakpoint h -> {
                        if (features.hwbreak()) {
                            sb.append("hwbreak:;");
                        }
                    }
                    case StopReason.SoftwareBreakpoint w -> {
                        if (features.swbreak()) {
                            sb.append("swbreak:;");
                        }
                    }
                    case StopReason.Watchpoint w -> sb.append(w.kind().stopReplyKey()).append(':')
                            .append(Long.toHexString(w.dataAddress())).append(';');
                    case StopReason.StepDone d -> {
                    }
                    case StopReason.Interrupted i -> {
                    }
                    case StopReason.Other o -> {
                    }
                    case StopReason.Fault f -> {
                    }
                }
                yield sb.toString();
            }
        };
    }
}
