package dev.tdemu.gdbstub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tdemu.gdbstub.rsp.Rsp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A client that sends requests and never reads the replies must not make the stub buffer them
 * without bound: the stub stops serving it (and reading from it) once a client's unsent output
 * reaches {@link GdbServerOptions#outputHighWaterMark()}, releases everything when it leaves, and
 * serves the next client. Asserted on the stub's own count of unsent bytes, not on timing.
 */
@Timeout(120)
class OutputLimitTest {
    private static final String PLAIN = "qSupported:swbreak+;hwbreak+";

    /** {@code count} framed requests in one byte array. */
    private static byte[] requests(String payload, int count) {
        byte[] one = Rsp.frame(Rsp.escape(payload.getBytes(StandardCharsets.ISO_8859_1)));
        ByteArrayOutputStream all = new ByteArrayOutputStream(one.length * count);
        for (int i = 0; i < count; i++) {
            all.writeBytes(one);
        }
        return all.toByteArray();
    }

    /** Writes {@code bytes} on its own thread (the write may block for good once the stub stops reading). */
    private static Thread writer(RspClient c, byte[] bytes) {
        return Thread.ofPlatform().daemon().name("flooding-client").start(() -> {
            try {
                c.sendRaw(bytes);
            } catch (IOException e) {
                // closed by the test while blocked: expected
            }
        });
    }

    @Test
    void aClientThatSendsMemoryReadsAndNeverReadsTheRepliesIsHeldToTheOutputLimit() throws Exception {
        GdbServerOptions options = GdbServerOptions.defaults();
        int requests = 2000; // 64 KiB each: 256 MiB of replies without a limit
        try (NettyLeaks leaks = new NettyLeaks(); StubFixture s = new StubFixture(new FakeTarget(), options)) {
            RspClient c = smallWindow(s);
            c.request(PLAIN); // acks stay on: they are output too
            String m = "m" + Long.toHexString(FakeTarget.MEMORY_BASE) + ",10000";
            Thread writer = writer(c, requests(m, requests));
            StubFixture.await("the stub stops serving a client that does not read (or has served every request)",
                    Duration.ofSeconds(60), () -> paused(s) || s.target().memoryReads.get() >= requests);
            GdbServer.ClientOutput out = s.server().clientOutput();
            int served = s.target().memoryReads.get();
            assertTrue(served < requests, "the stub served all " + requests + " requests to a client that reads nothing");
            // Over the mark by at most the one reply that crossed it (a 64 KiB read is 128 KiB of hex).
            long limit = options.outputHighWaterMark() + options.packetSize() + 16;
            assertTrue(out.pendingBytes() <= limit, out.pendingBytes() + " bytes wait to be sent, limit " + limit);
            assertTrue(!out.reading() && !out.writable(), "paused: " + out);

            c.close();
            writer.join();
            s.server().lastSessionFinished().get(10, TimeUnit.SECONDS);
            StubFixture.await("the connection is gone", Duration.ofSeconds(10), () -> !s.server().hasClient());
            assertNull(s.server().clientOutput(), "nothing kept for the client that left");
            try (RspClient next = s.attach(PLAIN)) {
                assertEquals("QC1", next.request("qC"), "the next client is served");
                assertEquals(2 * 16, next.request("m" + Long.toHexString(FakeTarget.DATA) + ",10").length());
            }
            assertEquals(java.util.List.of(), leaks.leaks(), "buffers never released");
        }
    }

    /** In no-ack mode, with smaller reads; once the client reads again, every request is answered. */
    @Test
    void aClientThatCatchesUpIsServedAgain() throws Exception {
        GdbServerOptions options = GdbServerOptions.defaults();
        int requests = 20_000; // 4 KiB of hex each: 80 MiB of replies
        try (StubFixture s = new StubFixture(new FakeTarget(), options); RspClient c = smallWindow(s)) {
            c.request(PLAIN);
            c.startNoAckMode();
            String m = "m" + Long.toHexString(FakeTarget.CODE) + ",800";
            String reply = c.request(m);
            assertEquals(0x1000, reply.length());
            int before = s.target().memoryReads.get();
            Thread writer = writer(c, requests(m, requests));
            StubFixture.await("the stub stops serving a client that does not read (or has served every request)",
                    Duration.ofSeconds(60), () -> paused(s) || s.target().memoryReads.get() - before >= requests);
            assertTrue(paused(s), "paused: " + s.server().clientOutput());
            long limit = options.outputHighWaterMark() + reply.length() + 16;
            assertTrue(s.server().clientOutput().pendingBytes() <= limit, s.server().clientOutput() + ", limit " + limit);
            for (int i = 0; i < requests; i++) {
                assertEquals(reply, c.receive(), "reply " + i); // reading lets the stub go on: every request is answered
            }
            writer.join();
            assertEquals("QC1", c.request("qC"));
        }
    }

    /** A client whose socket takes at most 64 KiB of replies (the kernel's own buffering stays small). */
    private static RspClient smallWindow(StubFixture s) throws IOException {
        return RspClient.connect("127.0.0.1", s.server().port(), Duration.ofSeconds(10), 0x10000);
    }

    private static boolean paused(StubFixture s) {
        try {
            GdbServer.ClientOutput out = s.server().clientOutput();
            return out != null && !out.reading() && !out.writable();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
