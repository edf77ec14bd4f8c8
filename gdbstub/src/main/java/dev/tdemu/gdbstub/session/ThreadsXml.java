package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.target.ThreadInfo;
import dev.tdemu.gdbstub.command.ThreadId;

import java.util.List;

/** The {@code qXfer:threads:read} document. */
final class ThreadsXml {
    private ThreadsXml() {
    }

    static String render(List<ThreadInfo> threads, boolean multiprocess) {
        StringBuilder sb = new StringBuilder(64 + 48 * threads.size());
        sb.append("<?xml version=\"1.0\"?>\n<threads>\n");
        for (ThreadInfo t : threads) {
            sb.append("  <thread id=\"").append(ThreadId.format(t.id(), multiprocess))
                    .append("\" name=\"").append(escape(t.name())).append("\"/>\n");
        }
        sb.append("</threads>\n");
        return sb.toString();
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                default -> sb.append(c < 0x20 ? ' ' : c);
            }
        }
        return sb.toString();
    }
}
