package dev.tdemu.gdbstub.scheduling;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * The few Linux calls the stub needs to run next to a local debugger: which CPU a TCP socket's
 * last segment was processed on ({@code SO_INCOMING_CPU}; over loopback that is the sender's
 * CPU), the calling thread's CPU affinity, and its scheduling policy ({@code SCHED_OTHER} or
 * {@code SCHED_IDLE}). Called through the FFM API on the C library; on anything else (another OS,
 * a C library without the symbols) {@link #AVAILABLE} is false and no call is made.
 */
@SuppressWarnings("restricted") // downcalls into the C library, on purpose
public final class LinuxScheduling {
    public static final int SCHED_OTHER = 0, SCHED_IDLE = 5;
    private static final int SOL_SOCKET = 1;
    private static final int SO_INCOMING_CPU = 49;
    /** glibc's {@code cpu_set_t}: 1024 CPUs. */
    public static final int MASK_LONGS = 16;

    private static final MethodHandle GETSOCKOPT, SET_AFFINITY, GET_AFFINITY, SET_SCHEDULER, GET_SCHEDULER, GETTID;
    /** {@code struct sched_param} with priority 0, the only one these policies take; never written. */
    private static final MemorySegment PRIORITY_0 = Arena.global().allocate(ValueLayout.JAVA_INT);
    public static final boolean AVAILABLE;
    /** Why {@link #AVAILABLE} is false (for the log), or empty. */
    public static final String UNAVAILABLE_BECAUSE;

    static {
        MethodHandle gso = null, set = null, get = null, setSched = null, getSched = null, tid = null;
        String why = "";
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            why = "not Linux";
        } else {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                gso = linker.downcallHandle(libc.find("getsockopt").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
                FunctionDescriptor aff = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_LONG, ValueLayout.ADDRESS);
                set = linker.downcallHandle(libc.find("sched_setaffinity").orElseThrow(), aff);
                get = linker.downcallHandle(libc.find("sched_getaffinity").orElseThrow(), aff);
                setSched = linker.downcallHandle(libc.find("sched_setscheduler").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS));
                getSched = linker.downcallHandle(libc.find("sched_getscheduler").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                tid = linker.downcallHandle(libc.find("gettid").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
            } catch (RuntimeException | LinkageError e) {
                why = "C library calls unavailable: " + e;
                gso = set = get = setSched = getSched = tid = null;
            }
        }
        GETSOCKOPT = gso;
        SET_AFFINITY = set;
        GET_AFFINITY = get;
        SET_SCHEDULER = setSched;
        GET_SCHEDULER = getSched;
        GETTID = tid;
        AVAILABLE = gso != null;
        UNAVAILABLE_BECAUSE = why;
    }

    private LinuxScheduling() {}

    /**
     * Whether a thread may leave {@code SCHED_IDLE} again once it entered it. Linux lets any thread
     * enter it, but leaving needs {@code CAP_SYS_NICE} or a {@code RLIMIT_NICE} that allows nice 0;
     * without either a thread would stay at idle priority for good. Tried once, on a throwaway
     * thread.
     */
    public static synchronized boolean canLeaveIdlePolicy() {
        if (canLeaveIdle == null) {
            canLeaveIdle = probeIdlePolicy();
        }
        return canLeaveIdle;
    }

    private static Boolean canLeaveIdle;

    private static boolean probeIdlePolicy() {
        if (!AVAILABLE) {
            return false;
        }
        boolean[] ok = new boolean[1];
        Thread t = Thread.ofPlatform().name("tdemu-sched-probe").daemon().unstarted(() ->
                ok[0] = setPolicy(SCHED_IDLE) && setPolicy(SCHED_OTHER) && policy() == SCHED_OTHER);
        t.start();
        try {
            t.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return !t.isAlive() && ok[0];
    }

    /** Sets the calling thread's scheduling policy (priority 0); false when the kernel refused. */
    public static boolean setPolicy(int policy) {
        return setPolicy(0, policy);
    }

    /** Sets thread {@code tid}'s scheduling policy (0: the calling thread); false when the kernel refused. */
    static boolean setPolicy(int tid, int policy) {
        try {
            return (int) SET_SCHEDULER.invokeExact(tid, policy, PRIORITY_0) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** The calling thread's scheduling policy, or -1. */
    public static int policy() {
        try {
            return (int) GET_SCHEDULER.invokeExact(0);
        } catch (Throwable t) {
            return -1;
        }
    }

    /**
     * The CPU that processed the socket's last inbound segment, or -1 (unknown, or the call
     * failed). {@code scratch} (8 bytes) holds the value and its length, so that the call, made at
     * every read, allocates nothing.
     */
    public static int incomingCpu(int fd, MemorySegment scratch) {
        scratch.set(ValueLayout.JAVA_INT, 0, -1);
        scratch.set(ValueLayout.JAVA_INT, 4, 4);
        try {
            int rc = (int) GETSOCKOPT.invokeExact(fd, SOL_SOCKET, SO_INCOMING_CPU, scratch, scratch.asSlice(4));
            return rc == 0 ? scratch.get(ValueLayout.JAVA_INT, 0) : -1;
        } catch (Throwable t) {
            return -1;
        }
    }

    /** The calling thread's affinity mask, or null when it cannot be read. */
    public static long[] threadMask() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(ValueLayout.JAVA_LONG, MASK_LONGS);
            int rc = (int) GET_AFFINITY.invokeExact(0, mask.byteSize(), mask);
            return rc == 0 ? mask.toArray(ValueLayout.JAVA_LONG) : null;
        } catch (Throwable t) {
            return null;
        }
    }

    /** Sets the calling thread's affinity mask; false when the kernel refused it. */
    public static boolean setThreadMask(long[] bits) {
        return setThreadMask(0, bits);
    }

    /** Sets thread {@code tid}'s affinity mask (0: the calling thread); false when the kernel refused it. */
    static boolean setThreadMask(int tid, long[] bits) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocateFrom(ValueLayout.JAVA_LONG, bits);
            return (int) SET_AFFINITY.invokeExact(tid, mask.byteSize(), mask) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** The calling thread's kernel thread id, or -1. */
    static int threadId() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            return -1;
        }
    }

    /** A mask holding only {@code cpu}, or null when {@code cpu} is outside {@code allowed}. */
    public static long[] only(int cpu, long[] allowed) {
        if (cpu < 0 || cpu >= MASK_LONGS * 64 || (allowed[cpu >>> 6] & (1L << (cpu & 63))) == 0) {
            return null;
        }
        long[] mask = new long[MASK_LONGS];
        mask[cpu >>> 6] = 1L << (cpu & 63);
        return mask;
    }

    /**
     * The file descriptor of this process's TCP socket from {@code local} to {@code remote}: its
     * inode from {@code /proc/net/tcp} (or {@code tcp6}), then the descriptor in
     * {@code /proc/self/fd} that links to it. Empty when not found.
     */
    public static OptionalInt socketFd(InetSocketAddress local, InetSocketAddress remote) {
        long inode = -1;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            inode = findInode(Path.of(table), local, remote);
            if (inode > 0) {
                break;
            }
        }
        if (inode <= 0) {
            return OptionalInt.empty();
        }
        String target = "socket:[" + inode + "]";
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().equals(target);
                } catch (IOException | UnsupportedOperationException e) {
                    return false; // closed meanwhile, or not a link
                }
            }).mapToInt(p -> Integer.parseInt(p.getFileName().toString())).findFirst();
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        }
    }

    /** The inode of the socket {@code local → remote} in one of the kernel's TCP tables, or -1. */
    static long findInode(Path table, InetSocketAddress local, InetSocketAddress remote) {
        List<String> lines;
        try {
            lines = Files.readAllLines(table);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 10) {
                continue;
            }
            if (endpoint(f[1], local) && endpoint(f[2], remote)) {
                try {
                    return Long.parseLong(f[9]);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    /**
     * Whether a table entry {@code HEXADDR:HEXPORT} is {@code address}. The kernel prints each
     * 32-bit word of the address in host (little-endian) order; an IPv4 address may also appear
     * IPv4-mapped in the IPv6 table.
     */
    static boolean endpoint(String entry, InetSocketAddress address) {
        int colon = entry.indexOf(':');
        if (colon < 0 || address.getAddress() == null) {
            return false;
        }
        int port;
        try {
            port = Integer.parseInt(entry.substring(colon + 1), 16);
        } catch (NumberFormatException e) {
            return false;
        }
        if (port != address.getPort()) {
            return false;
        }
        byte[] want = address.getAddress().getAddress();
        byte[] have = decode(entry.substring(0, colon));
        if (have == null) {
            return false;
        }
        if (have.length == want.length) {
            return java.util.Arrays.equals(have, want);
        }
        if (have.length == 16 && want.length == 4) { // ::ffff:a.b.c.d
            for (int i = 0; i < 10; i++) {
                if (have[i] != 0) {
                    return false;
                }
            }
            return have[10] == (byte) 0xff && have[11] == (byte) 0xff
                    && java.util.Arrays.equals(java.util.Arrays.copyOfRange(have, 12, 16), want);
        }
        return false;
    }

    private static byte[] decode(String hex) {
        if (hex.length() != 8 && hex.length() != 32) {
            return null;
        }
        byte[] out = new byte[hex.length() / 2];
        try {
            for (int word = 0; word < out.length / 4; word++) {
                long v = Long.parseLong(hex.substring(word * 8, word * 8 + 8), 16);
                for (int b = 0; b < 4; b++) {
                    out[word * 4 + b] = (byte) (v >>> (8 * b)); // little-endian words
                }
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return out;
    }

}
