package dev.tdemu.gdbstub;

import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.command.CommandParser;
import dev.tdemu.gdbstub.rsp.Hex;
import dev.tdemu.gdbstub.rsp.Rsp;
import dev.tdemu.gdbstub.rsp.RspFrame;
import dev.tdemu.gdbstub.rsp.RspFrameDecoder;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded fuzzing of the decoder, the parser and a live session: random bytes and mutations of
 * valid packets must never raise an exception or close the connection, packets over the size
 * limit are dropped with one clear line and never buffered, and the session goes on answering
 * well-formed packets. Every test is a fixed number of inputs from a seed
 * ({@code -Dtdemu.fuzz.seed=}), under a JUnit time limit.
 */
@Timeout(120)
class FuzzTest {
    private static final long SEED = Long.getLong("tdemu.fuzz.seed", 0x7de3_5eedL);
    private static final String SPECIAL = "$#}*+-\u0003,:;=0f";
    private static final String COMMAND_LETTERS = "?gGpPmMXcCsSvZzHTqQDk";
    private static Level previousLevel;

    /** Packets gdb really sends (payloads). */
    private static final List<String> CORPUS = List.of(
            StubFixture.GDB_FEATURES, "?", "g", "G" + "00".repeat(720), "p10", "P10=0010400000000000", "p46",
            "m408000,40", "M408000,4:01020304", "X408000,4:ab}]cd", "Z0,401000,1", "Z1,401004,1", "Z2,408000,8",
            "z3,408008,4", "z4,408010,2", "Hgp1.1", "Hc-1", "Tp1.2", "qfThreadInfo", "qsThreadInfo", "qC",
            "qAttached:1", "qOffsets", "qRcmd,6472", "qXfer:features:read:target.xml:0,ffb",
            "qXfer:threads:read::0,1000", "qThreadExtraInfo,p1.1", "qSymbol::", "qTStatus", "vMustReplyEmpty",
            "QThreadEvents:1", "vCont?", "vCont;s:p1.1;c:p1.-1", "vCont;c", "c", "s", "C05;401000", "S02",
            "vCtrlC", "QStartNoAckMode", "qXfer:features:read:target.xml:ffffffffffffffff,10",
            "qXfer:threads:read::8000000000000000,ffffffff", "m8000000000000000,ffffffff", "vCont;rffffffffffffffff,0:1");

    /** Packets that end or alter the session; excluded from the live session fuzz. */
    private static boolean ends(String payload) {
        return payload.startsWith("k") || payload.startsWith("D") || payload.startsWith("vKill")
                || payload.startsWith("QStartNoAckMode");
    }

    @BeforeAll
    static void quiet() {
        // Thousands of deliberate protocol errors would each log a WARN line.
        previousLevel = LogManager.getLogger("dev.tdemu.gdbstub").getLevel();
        if (System.getProperty("tdemu.gdbstub.log") == null) {
            Configurator.setLevel("dev.tdemu.gdbstub", Level.ERROR);
        }
    }

    @AfterAll
    static void restore() {
        Configurator.setLevel("dev.tdemu.gdbstub", previousLevel);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] mutate(byte[] input, Random random) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] b = input.clone();
        int edits = 1 + random.nextInt(4);
        for (int e = 0; e < edits && b.length > 0; e++) {
            int i = random.nextInt(b.length);
            switch (random.nextInt(6)) {
                case 0 -> b[i] = (byte) random.nextInt(256);
                case 1 -> b[i] = (byte) SPECIAL.charAt(random.nextInt(SPECIAL.length()));
                case 2 -> b = java.util.Arrays.copyOf(b, i);
                case 3 -> {
                    out.reset();
                    out.write(b, 0, i);
                    out.write(b, i, b.length - i);
                    out.write(b, i, b.length - i);
                    b = out.toByteArray();
                }
                case 4 -> b[i] ^= 0x20;
                default -> {
                    out.reset();
                    out.write(b, 0, i);
                    byte[] junk = new byte[random.nextInt(8)];
                    random.nextBytes(junk);
                    out.writeBytes(junk);
                    out.write(b, i, b.length - i);
                    b = out.toByteArray();
                }
            }
        }
        return b;
    }

    private static byte[] randomInput(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> {
                byte[] junk = new byte[random.nextInt(300)];
                random.nextBytes(junk);
                yield junk;
            }
            case 1 -> mutate(Rsp.frame(Rsp.escape(ascii(CORPUS.get(random.nextInt(CORPUS.size()))))), random);
            case 2 -> Rsp.frame(Rsp.escape(mutate(ascii(CORPUS.get(random.nextInt(CORPUS.size()))), random)));
            default -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                for (int i = 0; i < 1 + random.nextInt(5); i++) {
                    out.writeBytes(mutate(Rsp.frame(ascii(CORPUS.get(random.nextInt(CORPUS.size())))), random));
                }
                yield out.toByteArray();
            }
        };
    }

    @Test
    void decoderSurvivesTenThousandRandomAndMutatedInputs() {
        Random random = new Random(SEED);
        for (RspFrameDecoder.Role role : RspFrameDecoder.Role.values()) {
            EmbeddedChannel ch = new EmbeddedChannel(new RspFrameDecoder(role, 4096));
            for (int i = 0; i < 5000; i++) {
                byte[] input = randomInput(random);
                // Feed in random splits to exercise partial reads.
                int off = 0;
                while (off < input.length) {
                    int n = 1 + random.nextInt(input.length - off);
                    ch.writeInbound(Unpooled.wrappedBuffer(input, off, n));
                    off += n;
                }
                ch.checkException();
                Object frame;
                while ((frame = ch.readInbound()) != null) {
                    assertInstanceOf(RspFrame.class, frame);
                }
                if (i % 100 == 0) {
                    // Whatever state the garbage left, a fresh packet is recognised.
                    ch.writeInbound(Unpooled.wrappedBuffer(ascii("$g#67")));
                    RspFrame last = null;
                    while ((frame = ch.readInbound()) != null) {
                        last = (RspFrame) frame;
                    }
                    assertNotNull(last, "input #" + i);
                    assertEquals("g", new String(assertInstanceOf(RspFrame.Packet.class, last).payload(),
                            StandardCharsets.ISO_8859_1), "input #" + i);
                }
                assertTrue(ch.isActive());
            }
            ch.finishAndReleaseAll();
        }
    }

    /** A packet of {@code length} random letters and digits (nothing that needs escaping), framed. */
    private static byte[] bigPacket(Random random, int length) {
        byte[] payload = new byte[length];
        for (int i = 0; i < length; i++) {
            payload[i] = (byte) "abcdefghijklmnopqrstuvwxyz0123456789,:;".charAt(random.nextInt(39));
        }
        return Rsp.frame(payload);
    }

    /**
     * Packets of one to ten times the limit, fed in random pieces: each is dropped with one WARN
     * line naming its size and the limit, the decoder never holds more than the limit at any
     * moment, and the packet after it decodes. Likewise a packet that never ends before the next
     * {@code $}.
     */
    @Test
    void packetsOverTheLimitAreDroppedWithAClearLineAndNeverBuffered() {
        Random random = new Random(SEED + 3);
        int limit = 4096;
        int rounds = 300;
        try (LogCapture log = new LogCapture("dev.tdemu.gdbstub.rsp", Level.WARN)) {
            RspFrameDecoder decoder = new RspFrameDecoder(RspFrameDecoder.Role.STUB, limit);
            EmbeddedChannel ch = new EmbeddedChannel(decoder);
            List<Integer> lengths = new java.util.ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                int length = limit + 1 + random.nextInt(9 * limit);
                lengths.add(length);
                byte[] input = bigPacket(random, length);
                if (random.nextBoolean()) { // cut off before its end: the next '$' starts over
                    input = java.util.Arrays.copyOf(input, input.length - 3 - random.nextInt(100));
                }
                for (int off = 0; off < input.length; ) {
                    int n = Math.min(input.length - off, 1 + random.nextInt(3 * limit));
                    ch.writeInbound(Unpooled.wrappedBuffer(input, off, n));
                    off += n;
                    assertTrue(decoder.bufferedBytes() <= limit + 512, decoder.bufferedBytes() + " bytes held, input #" + i);
                }
                ch.writeInbound(Unpooled.wrappedBuffer(ascii("$g#67")));
                ch.checkException();
                List<RspFrame> frames = new java.util.ArrayList<>();
                for (Object f; (f = ch.readInbound()) != null; ) {
                    frames.add((RspFrame) f);
                }
                RspFrame.Packet next = assertInstanceOf(RspFrame.Packet.class, frames.getLast(), "input #" + i);
                assertEquals("g", new String(next.payload(), StandardCharsets.ISO_8859_1));
                if (frames.size() == 2) { // a whole one: reported with its size
                    assertEquals(new RspFrame.Oversized(length, limit), frames.getFirst(), "input #" + i);
                } else {
                    assertEquals(1, frames.size(), "a cut-off packet yields nothing: " + frames);
                }
            }
            ch.finishAndReleaseAll();
            List<String> lines = log.lines();
            assertEquals(rounds, lines.size(), "one line per dropped packet: " + lines.subList(0, Math.min(5, lines.size())));
            for (String line : lines) {
                assertTrue(line.matches("WARN dropped a \\d+-byte packet: larger than the packet size limit of 4096 bytes"
                        + "|WARN '\\$' inside a packet after \\d+ bytes: dropping the partial packet"), line);
            }
        }
    }

    @Test
    void parserNeverThrowsOnTwentyThousandPayloads() {
        Random random = new Random(SEED + 1);
        CommandParser parser = new CommandParser();
        for (int i = 0; i < 20_000; i++) {
            byte[] payload;
            if (random.nextInt(3) == 0) {
                payload = new byte[random.nextInt(64)];
                random.nextBytes(payload);
                if (payload.length > 0) {
                    payload[0] = (byte) COMMAND_LETTERS.charAt(random.nextInt(COMMAND_LETTERS.length()));
                }
            } else {
                payload = mutate(ascii(CORPUS.get(random.nextInt(CORPUS.size()))), random);
            }
            Command c = parser.parse(payload);
            assertNotNull(c);
        }
    }

    @Test
    void liveSessionSurvivesMutatedTrafficAndKeepsAnswering() throws Exception {
        Random random = new Random(SEED + 2);
        String probeReply = Hex.encodeText("vcpu0");
        GdbServerOptions options = GdbServerOptions.defaults().withPacketSize(0x1000);
        try (StubFixture stub = new StubFixture(new FakeTarget(), options); RspClient c = stub.connect()) {
            c.readTimeout(Duration.ofSeconds(30));
            // With error-message+ the stub explains its errors in text: none may be a Java exception's.
            c.request(StubFixture.GDB_FEATURES + ";error-message+");
            int sent = 0;
            while (sent < 1500) {
                // One in twenty: a packet over the 4 KiB limit.
                byte[] input = random.nextInt(20) == 0 ? bigPacket(random, 0x1001 + random.nextInt(0x8000)) : randomInput(random);
                String text = new String(input, StandardCharsets.ISO_8859_1);
                int dollar = text.indexOf('$');
                if (ends(text) || (dollar >= 0 && ends(text.substring(dollar + 1)))) {
                    continue;
                }
                c.sendRaw(input);
                sent++;
                if (sent % 50 == 0) {
                    probe(c, probeReply, sent, stub.target());
                }
            }
            probe(c, probeReply, sent, stub.target());
            assertTrue(stub.server().hasClient());
        }
    }

    /**
     * Stops whatever the garbage started and checks the session still answers. Replies to earlier
     * fuzz packets may still be queued, so this waits for its own answer, re-sending on silence.
     */
    private static void probe(RspClient c, String expected, int sent, FakeTarget target) throws Exception {
        List<String> seen = new java.util.ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        c.readTimeout(Duration.ofMillis(300));
        try {
            while (System.nanoTime() < deadline) {
                c.interrupt();
                c.send("qThreadExtraInfo,1");
                try {
                    while (true) {
                        String reply = c.receive();
                        assertFalse(reply.contains("Exception") || reply.contains("java."), "a Java exception's text: " + reply);
                        if (seen.size() < 50) {
                            seen.add(reply.length() > 60 ? reply.substring(0, 60) : reply);
                        }
                        if (reply.equals(expected)) {
                            return;
                        }
                    }
                } catch (java.net.SocketTimeoutException silence) {
                    // backlog drained without our answer (it was refused while running): ask again
                }
            }
        } finally {
            c.readTimeout(Duration.ofSeconds(30));
        }
        fail("the session stopped answering after " + sent + " fuzz inputs; replies: " + seen
                + " target running=" + target.isRunning() + " interrupts=" + target.interrupts
                + " resumes=" + target.resumes.size());
    }
}
