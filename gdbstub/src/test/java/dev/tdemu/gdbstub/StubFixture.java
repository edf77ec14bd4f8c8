package dev.tdemu.gdbstub;

import dev.tdemu.gdbstub.scheduling.BesideClient;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/** A stub on a free port serving a {@link FakeTarget}, plus helpers to talk to it. */
public final class StubFixture implements AutoCloseable {
    /** What gdb 13 offers in qSupported. */
    public static final String GDB_FEATURES = "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;"
            + "vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386";

    private final FakeTarget target;
    private final GdbServer server;

    public StubFixture() throws IOException {
        this(new FakeTarget(), GdbServerOptions.defaults());
    }

    public StubFixture(FakeTarget target, GdbServerOptions options) throws IOException {
        this.target = target;
        this.server = GdbServer.start(target, "127.0.0.1", 0, options);
    }

    /** With the scheduling beside a local client given ({@link ClientCpuFollowerTest}). */
    StubFixture(FakeTarget target, GdbServerOptions options, BesideClient beside) throws IOException {
        this.target = target;
        this.server = GdbServer.start(target, "127.0.0.1", 0, options, beside);
    }

    public FakeTarget target() {
        return target;
    }

    public GdbServer server() {
        return server;
    }

    public RspClient connect() throws IOException {
        return RspClient.connect(server.port());
    }

    /** Connects and negotiates like gdb: {@code qSupported...}, then {@code ?}. */
    public RspClient attach(String qSupported) throws IOException {
        RspClient c = connect();
        c.request(qSupported);
        c.request("?");
        return c;
    }

    public static void await(String what, Duration limit, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            TimeUnit.MILLISECONDS.sleep(5);
        }
    }

    @Override
    public void close() {
        server.close();
        target.shutdown();
    }
}
