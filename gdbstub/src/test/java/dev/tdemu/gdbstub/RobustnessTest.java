package dev.tdemu.gdbstub;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stub keeps serving whatever clients and targets throw at it. */
@Timeout(60)
class RobustnessTest {
    private static final String PLAIN = "qSupported:swbreak+;hwbreak+";

    private StubFixture stub;

    private StubFixture stub(GdbServerOptions options) throws IOException {
        stub = new StubFixture(new FakeTarget(), options);
        return stub;
    }

    private StubFixture stub() throws IOException {
        return stub(GdbServerOptions.defaults());
    }

    @AfterEach
    void stop() {
        if (stub != null) {
            stub.close();
        }
    }

    @Test
    void aPortInUseIsAnIOExceptionThatNamesItAndLeavesNoThreadBehind() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            long before = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("gdbstub")).count();
            IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                    () -> GdbServer.start(new FakeTarget(), "127.0.0.1", port));
            assertEquals("cannot listen on 127.0.0.1:" + port + ": Address already in use", e.getMessage());
            StubFixture.await("the event loop ended", Duration.ofSeconds(30), () -> Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("gdbstub") && t.isAlive()).count() <= before);
        }
    }

    @Test
    void garbageBetweenPacketsIsSkippedAndTheSessionKeepsAnswering() throws Exception {
        try (RspClient c = stub().attach(PLAIN)) {
            Random random = new Random(42);
            for (int i = 0; i < 50; i++) {
                byte[] junk = new byte[random.nextInt(200)];
                random.nextBytes(junk);
                for (int k = 0; k < junk.length; k++) {
                    if (junk[k] == '$' || junk[k] == 0x03 || junk[k] == '-') {
                        junk[k] = 'x';
                    }
                }
                c.sendRaw(junk);
                assertEquals("QC1", c.request("qC"));
            }
            assertEquals(0, stub.target().interrupts.get());
        }
    }

    @Test
    void wrongChecksumsAreNakedAndTheRetransmissionIsServed() throws Exception {
        try (RspClient c = stub().attach(PLAIN)) {
            for (int i = 0; i < 20; i++) {
                c.sendRaw("$m408000,8#00");
                assertEquals('-', c.readRawByte());
            }
            c.sendRaw("$m408000,8#fd");
            assertEquals('+', c.readRawByte());
            assertEquals("0000000000000000", c.receive());
        }
    }

    @Test
    void oversizedPacketGetsAnErrorAndTheConnectionStays() throws Exception {
        try (RspClient c = stub(GdbServerOptions.defaults().withPacketSize(0x1000)).attach(PLAIN)) {
            StringBuilder big = new StringBuilder("M408000,1000:");
            big.append("ab".repeat(0x1000));
            assertEquals("E16", c.request(big.toString()));
            assertEquals("QC1", c.request("qC"));
            assertEquals(0, stub.target().getLong(0x408000), "nothing was written");
            StringBuilder fits = new StringBuilder("M408000,7f0:");
            fits.append("ab".repeat(0x7f0));
            assertEquals("OK", c.request(fits.toString()));
        }
    }

    @Test
    void hugeGarbagePacketWithoutEndDoesNotExhaustMemoryOrTheConnection() throws Exception {
        try (RspClient c = stub(GdbServerOptions.defaults().withPacketSize(0x1000)).attach(PLAIN)) {
            c.sendRaw("$");
            byte[] chunk = new byte[1 << 16];
            java.util.Arrays.fill(chunk, (byte) 'a');
            for (int i = 0; i < 64; i++) {
                c.sendRaw(chunk);
            }
            // A new '$' abandons the unterminated packet.
            assertEquals("QC1", c.request("qC"));
        }
    }

    @Test
    void abruptDisconnectWhileRunningStopsTheTargetRemovesBreakpointsAndDetaches() throws Exception {
        StubFixture s = stub();
        FakeTarget target = s.target();
        RspClient c = s.attach(PLAIN);
        assertEquals("OK", c.request("Z0,401000,1"));
        assertEquals("OK", c.request("Z4,408000,8"));
        target.onNextResume(r -> null);
        c.send("vCont;c");
        StubFixture.await("the target runs", Duration.ofSeconds(30), target::isRunning);
        c.close();
        StubFixture.await("the target is released", Duration.ofSeconds(30), () -> target.detaches.get() == 1);
        assertEquals(1, target.interrupts.get(), "stopped to remove the breakpoints");
        assertTrue(target.inserted().isEmpty());
        try (RspClient again = s.connect()) {
            again.request(PLAIN);
            assertTrue(again.request("?").startsWith("T05thread:1;"));
            assertEquals(2, target.attaches.get());
        }
    }

    @Test
    void abruptDisconnectWhileStoppedRemovesBreakpointsAndDetaches() throws Exception {
        StubFixture s = stub();
        RspClient c = s.attach(PLAIN);
        assertEquals("OK", c.request("Z1,401000,1"));
        c.close();
        StubFixture.await("the target is released", Duration.ofSeconds(30), () -> s.target().detaches.get() == 1);
        assertTrue(s.target().inserted().isEmpty());
        assertEquals(0, s.target().interrupts.get());
        assertEquals(0x400, s.target().register(1, dev.tdemu.gdbstub.registers.X86_64Registers.DR7));
    }

    @Test
    void secondClientIsRefusedWhileTheFirstKeepsWorking() throws Exception {
        StubFixture s = stub(GdbServerOptions.defaults().withSecondClientGrace(Duration.ofMillis(100)));
        try (RspClient first = s.attach(PLAIN); RspClient second = s.connect()) {
            String refusal = second.request(PLAIN);
            assertTrue(refusal.startsWith("E.tdemu: another debugger"), refusal);
            assertTrue(second.closedByPeer(Duration.ofSeconds(30)));
            assertEquals("QC1", first.request("qC"));
            assertEquals(1, s.target().attaches.get());
        }
    }

    @Test
    void secondClientIsAdmittedWhenTheFirstLeavesWithinTheGracePeriod() throws Exception {
        // A grace period no busy machine runs out of: this is about the admission, not the clock.
        StubFixture s = stub(GdbServerOptions.defaults().withSecondClientGrace(Duration.ofMinutes(1)));
        RspClient first = s.attach(PLAIN);
        try (RspClient second = s.connect()) {
            second.send(PLAIN);
            StubFixture.await("the second client waits", Duration.ofSeconds(30), () -> s.server().waitingClients() == 1);
            first.close();
            assertTrue(second.receive().startsWith("PacketSize="));
            assertTrue(second.request("?").startsWith("T05"));
        }
    }

    @Test
    void manyReconnectsInARowKeepTheServerServing() throws Exception {
        StubFixture s = stub();
        for (int i = 0; i < 25; i++) {
            try (RspClient c = s.connect()) {
                c.request(PLAIN);
                assertEquals("QC1", c.request("qC"));
            }
        }
        try (RspClient c = s.attach(PLAIN)) {
            assertEquals("QC1", c.request("qC"));
        }
        StubFixture.await("all sessions released", Duration.ofSeconds(30), () -> s.target().detaches.get() == 26);
    }

    @Test
    void clientThatConnectsAndLeavesSilentlyIsHarmless() throws Exception {
        StubFixture s = stub();
        for (int i = 0; i < 5; i++) {
            RspClient.connect(s.server().port()).close();
        }
        try (RspClient c = s.attach(PLAIN)) {
            assertEquals("QC1", c.request("qC"));
        }
    }

    @Test
    void hungTargetRequestTimesOutWithAnErrorAndTheSessionGoesOn() throws Exception {
        StubFixture s = stub(GdbServerOptions.defaults().withRequestTimeout(Duration.ofMillis(300)));
        try (RspClient c = s.attach(PLAIN)) {
            s.target().hangMemoryReads = true;
            assertEquals("E10", c.request("m408000,8"));
            s.target().hangMemoryReads = false;
            assertEquals("0000000000000000", c.request("m408000,8"));
        }
    }

    @Test
    void targetBugsBecomeErrorRepliesNotDroppedConnections() throws Exception {
        StubFixture s = stub();
        try (RspClient c = s.attach(PLAIN)) {
            s.target().throwOnRegisterReads = true;
            assertEquals("E01", c.request("g"));
            s.target().throwOnRegisterReads = false;
            s.target().nullRegisterReads = true;
            assertEquals("E01", c.request("g"));
            s.target().nullRegisterReads = false;
            assertEquals(2 * 720, c.request("g").length());
        }
    }

    @Test
    void interruptStormIsHarmless() throws Exception {
        StubFixture s = stub();
        try (RspClient c = s.attach(PLAIN)) {
            c.sendRaw(new byte[1000]);
            byte[] storm = new byte[1000];
            java.util.Arrays.fill(storm, (byte) 3);
            c.sendRaw(storm);
            assertEquals("QC1", c.request("qC"));
            c.send("vCont;c");
            assertEquals('+', c.readRawByte());
            StubFixture.await("the target runs", Duration.ofSeconds(30), s.target()::isRunning);
            c.sendRaw(storm);
            assertTrue(c.receive().startsWith("T02"));
            assertEquals(1, s.target().interrupts.get());
            assertEquals("QC1", c.request("qC"));
        }
    }

    @Test
    void closingTheServerWithAClientAttachedReleasesTheTarget() throws Exception {
        FakeTarget target = new FakeTarget();
        GdbServer server = GdbServer.start(target, "127.0.0.1", 0);
        try (RspClient c = RspClient.connect(server.port())) {
            c.request(PLAIN);
            c.request("?");
            assertEquals("OK", c.request("Z1,401000,1"));
            server.close();
            assertTrue(c.closedByPeer(Duration.ofSeconds(30)));
        }
        assertEquals(1, target.detaches.get());
        assertTrue(target.inserted().isEmpty());
        target.shutdown();
    }

    /** What a warm-up beside the stub stops at: the accept, before a packet, and for good once a client came. */
    @Test
    void aClientCountsAsComeFromItsConnectionOnEvenAfterItLeft() throws Exception {
        StubFixture s = stub();
        assertFalse(s.server().clientCame());
        try (java.net.Socket silent = new java.net.Socket("127.0.0.1", s.server().port())) {
            StubFixture.await("the connection is accepted", Duration.ofSeconds(30), () -> s.server().clientCame());
        }
        StubFixture.await("the connection is gone", Duration.ofSeconds(30), () -> !s.server().hasClient());
        assertTrue(s.server().clientCame(), "still counted after it left");
    }

    @Test
    void serverBindsPortZeroAndReportsThePort() throws Exception {
        StubFixture s = stub();
        assertTrue(s.server().port() > 0);
        assertFalse(s.server().hasClient());
        try (RspClient c = s.attach(PLAIN)) {
            assertTrue(s.server().hasClient());
        }
    }
}
