package dev.tdemu.gdbstub.command;

import dev.tdemu.gdbstub.rsp.Hex;

/**
 * A thread-id as written in packets: {@code N}, {@code -1}, {@code 0}, or with the multiprocess
 * extension {@code pP.N}, {@code pP.-1}, {@code pP} (all threads of P), {@code p-1}.
 *
 * @param pid the process id, {@link #UNSPECIFIED} without a {@code p} prefix, {@link #ALL} or {@link #ANY}
 * @param tid the thread id, {@link #ALL} (-1), {@link #ANY} (0) or a specific thread (at least 1)
 */
public record ThreadId(int pid, int tid) {
    /** -1: every thread (or process). */
    public static final int ALL = -1;
    /** 0: an arbitrary thread (or process). */
    public static final int ANY = 0;
    /** The pid field when the thread-id has no {@code p} prefix. */
    public static final int UNSPECIFIED = -2;
    /** The single process id the stub reports. */
    public static final int PROCESS_ID = 1;

    public static final ThreadId ALL_THREADS = new ThreadId(UNSPECIFIED, ALL);
    public static final ThreadId ANY_THREAD = new ThreadId(UNSPECIFIED, ANY);

    public static ThreadId of(int tid) {
        return new ThreadId(UNSPECIFIED, tid);
    }

    public boolean isAll() {
        return tid == ALL;
    }

    public boolean isAny() {
        return tid == ANY;
    }

    public boolean isSpecific() {
        return tid > 0;
    }

    /** True if the process part names our process (or is absent, any, or all). */
    public boolean processMatches() {
        return pid == UNSPECIFIED || pid == ALL || pid == ANY || pid == PROCESS_ID;
    }

    /** True if this thread-id selects {@code threadId} (all-threads ids select every thread). */
    public boolean selects(int threadId) {
        return processMatches() && (tid == ALL || tid == threadId);
    }

    /** Parses a thread-id. @throws IllegalArgumentException if malformed */
    public static ThreadId parse(String s) {
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty thread-id");
        }
        if (s.charAt(0) == 'p') {
            String rest = s.substring(1);
            int dot = rest.indexOf('.');
            int pid = parseId(dot < 0 ? rest : rest.substring(0, dot));
            int tid = dot < 0 ? ALL : parseId(rest.substring(dot + 1));
            return new ThreadId(pid, tid);
        }
        return new ThreadId(UNSPECIFIED, parseId(s));
    }

    private static int parseId(String s) {
        if (s.equals("-1")) {
            return ALL;
        }
        return Hex.parseInt(s, Integer.MAX_VALUE);
    }

    /** Formats a specific thread as {@code p1.N} (multiprocess) or {@code N}, in hex. */
    public static String format(int threadId, boolean multiprocess) {
        String t = Integer.toHexString(threadId);
        return multiprocess ? "p" + Integer.toHexString(PROCESS_ID) + "." + t : t;
    }

    @Override
    public String toString() {
        String t = tid == ALL ? "-1" : Integer.toHexString(tid);
        if (pid == UNSPECIFIED) {
            return t;
        }
        return "p" + (pid == ALL ? "-1" : Integer.toHexString(pid)) + "." + t;
    }
}
