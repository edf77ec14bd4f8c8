package dev.tdemu.gdbstub;

import dev.tdemu.gdbstub.registers.RegisterFile;
import dev.tdemu.gdbstub.registers.RegisterLayout;
import dev.tdemu.gdbstub.rsp.Rsp;
import dev.tdemu.gdbstub.target.Breakpoint;
import dev.tdemu.gdbstub.target.BreakpointResult;
import dev.tdemu.gdbstub.target.BreakpointSupport;
import dev.tdemu.gdbstub.target.Breakpoints;
import dev.tdemu.gdbstub.target.DebugTarget;
import dev.tdemu.gdbstub.target.GdbSignal;
import dev.tdemu.gdbstub.target.NonStop;
import dev.tdemu.gdbstub.target.ResumeRequest;
import dev.tdemu.gdbstub.target.StopEvent;
import dev.tdemu.gdbstub.target.TargetException;
import dev.tdemu.gdbstub.target.ThreadInfo;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Runs gdb's attach conversation and a few steps against a throwaway stub with an in-memory
 * target, once per JVM, before the first real stub listens. A fresh JVM would otherwise load and
 * interpret the whole connection path (Netty's channel set-up, the codec, the session, the parser)
 * while gdb waits for its first reply: half a second here, more on a busy machine, and gdb gives
 * up after two. The real target is never touched.
 */
final class WarmUp {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.server");
    /** Connections made; each is a whole gdb attach plus some steps. */
    static final int ROUNDS = 40;
    /** Stops early after this long (a busy machine): the connection path has been through once by then. */
    static final Duration AT_MOST = Duration.ofMillis(1000);

    private static final CompletableFuture<Void> DONE = new CompletableFuture<>();
    private static boolean started;

    private WarmUp() {
    }

    /** Warms up on the calling thread the first time (later calls wait for that one); never throws. */
    static void once(GdbServerOptions options) {
        synchronized (WarmUp.class) {
            if (!started) {
                started = true;
                try {
                    run(options);
                    DONE.complete(null);
                } catch (Exception | AssertionError e) {
                    LOG.debug("warming up the stub failed: {}", e.toString());
                    DONE.completeExceptionally(e);
                }
            }
        }
    }

    /**
     * Reads what {@code target} declares (its register layout, capabilities, executable, threads):
     * what a session asks it first, before the first request. Only declarations, so the target is
     * not touched; their code (the target's, and what it loads) is then already loaded when gdb comes.
     */
    static void declarations(DebugTarget target) {
        try {
            target.registerLayout().targetXml();
            target.breakpoints().map(Breakpoints::support);
            target.executable();
            target.nonStop();
            target.physicalMemory();
            target.monitorCommands();
            target.threads();
        } catch (RuntimeException e) {
            LOG.debug("reading the target's declarations failed: {}", e.toString()); // the session will say
        }
    }

    /** Completes when this JVM's warm-up is over; exceptionally if its conversation went wrong. */
    static CompletableFuture<Void> done() {
        return DONE;
    }

    private static void run(GdbServerOptions options) throws Exception {
        long deadline = System.nanoTime() + AT_MOST.toNanos();
        long start = System.nanoTime();
        int rounds = 0;
        try (GdbServer server = GdbServer.startQuiet(new Target(), options.withFollowClientCpu(false))) {
            while (rounds < ROUNDS && (rounds == 0 || System.nanoTime() < deadline)) {
                conversation(server.port());
                rounds++;
            }
        }
        LOG.debug("warmed up the connection path: {} gdb sessions in {} ms", rounds, (System.nanoTime() - start) / 1_000_000);
    }

    /** What gdb 13 sends on target remote, then steps and reads as stepi does, then detaches. */
    private static void conversation(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(10_000);
            Client c = new Client(socket);
            c.expect("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;"
                    + "vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386", "PacketSize=");
            c.expect("vMustReplyEmpty", "");
            c.expect("QStartNoAckMode", "OK");
            c.noAck = true;
            c.expect("Hgp0.0", "OK");
            c.expect("qXfer:features:read:target.xml:0,ffb", "m");
            c.expect("qTStatus", "");
            c.expect("?", "T05");
            c.expect("qfThreadInfo", "m");
            c.expect("qsThreadInfo", "l");
            c.expect("qAttached:1", "1");
            c.expect("Hc-1", "OK");
            c.expect("qC", "QC");
            c.expect("qOffsets", "Text=");
            c.expect("g", "0");
            c.expect("qSymbol::", "OK");
            c.expect("vCont?", "vCont");
            c.expect("Z1,1000,1", "OK");
            for (int i = 0; i < 4; i++) {
                c.expect("vCont;s:p1.1", "T05");
                c.expect("m1000,1", "90");
                c.expect("m1000,1", "90");
                c.expect("m1f00,40", "0");
                c.expect("p10", "0");
            }
            c.expect("z1,1000,1", "OK");
            // gdb's set non-stop on: the target's NonStop is what the first session constructs
            // besides the all-stop handlers, so its classes are loaded here, not at the first gdb.
            c.expect("QNonStop:1", "OK");
            c.expect("?", "T05");
            c.expect("vStopped", "OK");
            c.expect("QNonStop:0", "OK");
            c.expect("D;1", "OK");
        }
    }

    /**
     * gdb 13's hardware-breakpoint continue cycle at {@code address} against a quiet stub of its own
     * on {@code throwaway}, at most {@code cycles} times, fewer once {@code atMost} has passed (at
     * least once): warms the resume and stop path of the target's side as well as the stub's. The
     * target must be stopped at attach and hit {@code address} whenever continued.
     *
     * @return the cycles whose continue stopped with a stop reply (each one, unless the target went wrong)
     */
    static int breakpointCycles(DebugTarget throwaway, long address, int cycles, Duration atMost,
            java.util.function.BooleanSupplier clientCame) throws IOException {
        if (clientCame.getAsBoolean()) {
            return 0; // not even the stub: the client is here
        }
        long deadline = System.nanoTime() + atMost.toNanos();
        int stops = 0;
        String z = ",%x,1".formatted(address);
        try (GdbServer server = GdbServer.startQuiet(throwaway, GdbServerOptions.defaults());
             Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            socket.setSoTimeout(10_000);
            Client c = new Client(socket);
            c.expect("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;"
                    + "vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386", "PacketSize=");
            c.expect("QStartNoAckMode", "OK");
            c.noAck = true;
            c.expect("?", "T05");
            c.expect("Z1" + z, "OK");
            for (int i = 0; i < cycles && (i == 0 || System.nanoTime() < deadline) && !clientCame.getAsBoolean(); i++) {
                // What gdb sends per `continue` from a hardware breakpoint (set debug remote 1):
                // step off it with it removed, put it back, continue, look around at the stop.
                c.expect("z1" + z, "OK");
                c.expect("vCont;s:p1.1", "T05");
                c.expect("g", "");
                c.expect("Z1" + z, "OK");
                String stop = c.request("vCont;c:p1.-1");
                if (stop.startsWith("T05")) {
                    stops++;
                }
                c.expect("g", "");
                c.expect("qfThreadInfo", "m");
                c.expect("qsThreadInfo", "l");
                c.expect("m%x,1".formatted(address), "");
            }
            c.expect("z1" + z, "OK");
            c.expect("D;1", "OK");
        }
        return stops;
    }

    /** Just enough of a blocking RSP client for {@link #conversation}. */
    private static final class Client {
        private final InputStream in;
        private final OutputStream out;
        private final byte[] buf = new byte[1 << 16];
        private int pos, lim;
        boolean noAck;

        Client(Socket socket) throws IOException {
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        void expect(String request, String replyStart) throws IOException {
            String reply = request(request);
            if (!reply.startsWith(replyStart)) {
                throw new IOException("warm-up: " + request + " answered " + reply);
            }
        }

        String request(String request) throws IOException {
            out.write(Rsp.frame(Rsp.escape(request.getBytes(StandardCharsets.ISO_8859_1))));
            out.flush();
            return receive();
        }

        private String receive() throws IOException {
            int b;
            while ((b = read()) != '$') {
                // acks
            }
            StringBuilder sb = new StringBuilder();
            while ((b = read()) != '#') {
                sb.append((char) b);
            }
            read();
            read();
            if (!noAck) {
                out.write('+');
            }
            return sb.toString();
        }

        private int read() throws IOException {
            if (pos == lim) {
                lim = in.read(buf, 0, buf.length);
                pos = 0;
                if (lim <= 0) {
                    throw new EOFException("warm-up: the stub closed the connection");
                }
            }
            return buf[pos++] & 0xff;
        }
    }

    /** One stopped vCPU with zeroed registers and 8 KiB of memory at 0x1000 (NOPs, then zeros); steps advance RIP. */
    private static final class Target implements DebugTarget, Breakpoints, NonStop {
        private final RegisterLayout layout = RegisterLayout.x86_64();
        private final byte[] memory = new byte[0x2000];
        private volatile long rip = 0x1000;

        Target() {
            java.util.Arrays.fill(memory, 0, 0x800, (byte) 0x90);
        }

        @Override
        public List<ThreadInfo> threads() {
            return List.of(new ThreadInfo(1, "warm-up"));
        }

        @Override
        public CompletionStage<StopEvent> attach() {
            return CompletableFuture.completedFuture(StopEvent.signalled(1, GdbSignal.TRAP));
        }

        @Override
        public CompletionStage<RegisterFile> readRegisters(int threadId) {
            RegisterFile f = RegisterFile.zeroed(layout);
            f.setLong(layout.pcRegnum(), rip);
            return CompletableFuture.completedFuture(f);
        }

        @Override
        public CompletionStage<Optional<byte[]>> readRegister(int threadId, int regnum) {
            byte[] value = new byte[layout.register(regnum).byteSize()];
            return CompletableFuture.completedFuture(Optional.of(value));
        }

        @Override
        public CompletionStage<Void> writeRegisters(int threadId, RegisterFile values) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<byte[]> readMemory(int threadId, long address, int length) {
            if (address < 0x1000 || address >= 0x1000 + memory.length) {
                return CompletableFuture.failedFuture(new TargetException(0x0e, "no memory there"));
            }
            int off = (int) (address - 0x1000);
            return CompletableFuture.completedFuture(java.util.Arrays.copyOfRange(memory, off, Math.min(memory.length, off + length)));
        }

        @Override
        public CompletionStage<Void> writeMemory(int threadId, long address, byte[] data) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public Optional<Breakpoints> breakpoints() {
            return Optional.of(this);
        }

        @Override
        public BreakpointSupport support() {
            return BreakpointSupport.x86();
        }

        @Override
        public CompletionStage<BreakpointResult> insert(Breakpoint bp) {
            return CompletableFuture.completedFuture(BreakpointResult.OK);
        }

        @Override
        public CompletionStage<BreakpointResult> remove(Breakpoint bp) {
            return CompletableFuture.completedFuture(BreakpointResult.OK);
        }

        @Override
        public CompletionStage<StopEvent> resume(ResumeRequest request) {
            return CompletableFuture.completedFuture(StopEvent.stepDone(1));
        }

        @Override
        public Optional<NonStop> nonStop() {
            return Optional.of(this);
        }

        @Override
        public CompletionStage<Void> nonStop(boolean on, java.util.function.Consumer<StopEvent> listener) {
            return CompletableFuture.completedFuture(null); // one thread, always stopped here
        }

        @Override
        public CompletionStage<Void> resumeThreads(ResumeRequest request) {
            return CompletableFuture.failedFuture(new TargetException(0x16, "the warm-up's thread does not run in non-stop mode"));
        }

        @Override
        public void stopThreads(java.util.Collection<Integer> threadIds) {
        }

        @Override
        public void interrupt() {
        }

        @Override
        public CompletionStage<Void> kill() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<Void> detach() {
            return CompletableFuture.completedFuture(null);
        }
    }
}
