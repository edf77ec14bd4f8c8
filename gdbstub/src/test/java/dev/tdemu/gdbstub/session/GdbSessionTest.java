package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.BreakpointResult;
import dev.tdemu.gdbstub.BreakpointType;
import dev.tdemu.gdbstub.FakeTarget;
import dev.tdemu.gdbstub.GdbSignal;
import dev.tdemu.gdbstub.ResumeAction;
import dev.tdemu.gdbstub.ResumeRequest;
import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.gdbstub.StopEvent;
import dev.tdemu.gdbstub.StubFixture;
import dev.tdemu.gdbstub.registers.RegisterLayout;
import dev.tdemu.gdbstub.registers.X86_64Registers;
import dev.tdemu.gdbstub.rsp.Hex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class GdbSessionTest {
    private static final String PLAIN = "qSupported:swbreak+;hwbreak+";
    private static final String PC_1000 = "10:0010400000000000;";

    private StubFixture stub;
    private FakeTarget target;

    @BeforeEach
    void start() throws Exception {
        stub = new StubFixture();
        target = stub.target();
    }

    @AfterEach
    void stop() {
        stub.close();
    }

    private RspClient attach(String features) throws Exception {
        RspClient c = stub.connect();
        c.request(features);
        assertTrue(c.request("?").startsWith("T05"));
        return c;
    }

    private static String readRaw(RspClient c, int n) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append((char) c.readRawByte());
        }
        return sb.toString();
    }

    private static String le64(long v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            sb.append(Hex.byte2((int) (v >>> (8 * i)) & 0xff));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- handshake

    @Test
    void qSupportedAdvertisesPacketSizeAndFeatures() throws Exception {
        try (RspClient c = stub.connect()) {
            String reply = c.request(PLAIN);
            List<String> features = List.of(reply.split(";"));
            assertTrue(features.contains("PacketSize=20000"), reply);
            for (String f : List.of("qXfer:features:read+", "qXfer:threads:read+", "swbreak+", "hwbreak+",
                    "vContSupported+", "QStartNoAckMode+")) {
                assertTrue(features.contains(f), f + " in " + reply);
            }
            assertFalse(features.contains("multiprocess+"), "multiprocess only when gdb offers it");
        }
    }

    @Test
    void multiprocessIsAcceptedWhenGdbOffersIt() throws Exception {
        try (RspClient c = stub.connect()) {
            assertTrue(c.request(StubFixture.GDB_FEATURES).contains("multiprocess+"));
            assertEquals("T05thread:p1.1;6:00f0400000000000;7:00f0400000000000;" + PC_1000, c.request("?"));
            assertEquals("QCp1.1", c.request("qC"));
            assertEquals("mp1.1,p1.2", c.request("qfThreadInfo"));
            assertEquals("OK", c.request("Hgp1.2"));
            assertEquals(le64(0x402000), c.request("p10"));
            assertEquals("E03", c.request("Hgp2.1"), "another process");
        }
    }

    @Test
    void haltReasonReportsTheAttachStopWithThePc() throws Exception {
        try (RspClient c = stub.connect()) {
            c.request(PLAIN);
            assertEquals("T05thread:1;6:00f0400000000000;7:00f0400000000000;" + PC_1000, c.request("?"));
            assertEquals(1, target.attaches.get());
        }
    }

    @Test
    void miscellaneousQueriesGetTheirFixedAnswers() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("1", c.request("qAttached"));
            assertEquals("Text=0;Data=0;Bss=0", c.request("qOffsets"));
            assertEquals("OK", c.request("qSymbol::"));
            assertEquals("", c.request("qTStatus"));
            assertEquals("", c.request("vMustReplyEmpty"));
            assertEquals("OK", c.request("QThreadEvents:1"));
            assertEquals("vCont;c;C;s;S;t;r", c.request("vCont?"));
            assertEquals("", c.request("qXfer:auxv:read::0,100"));
        }
    }

    // ---------------------------------------------------------------- registers

    @Test
    void gReturnsTheWholeLayoutInRegisterNumberOrder() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            String g = c.request("g");
            RegisterLayout layout = RegisterLayout.x86_64();
            assertEquals(2 * layout.gPacketSize(), g.length());
            int rip = 2 * layout.register(X86_64Registers.RIP).offset();
            assertEquals(le64(0x401000), g.substring(rip, rip + 16));
            int dr7 = 2 * layout.register(X86_64Registers.DR7).offset();
            assertEquals(le64(0x400), g.substring(dr7, dr7 + 16));
            int eflags = 2 * layout.register(X86_64Registers.EFLAGS).offset();
            assertEquals("02020000", g.substring(eflags, eflags + 8));
        }
    }

    @Test
    void unavailableRegistersAreSentAsX() throws Exception {
        target.makeUnavailable(1, X86_64Registers.DR7);
        try (RspClient c = attach(PLAIN)) {
            assertEquals("x".repeat(16), c.request("p46"));
            int dr7 = 2 * RegisterLayout.x86_64().register(X86_64Registers.DR7).offset();
            assertEquals("x".repeat(16), c.request("g").substring(dr7, dr7 + 16));
        }
    }

    @Test
    void singleRegistersAreReadAndWrittenByNumber() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals(le64(0x401000), c.request("p10"));
            assertEquals(le64(0x400), c.request("p46"));
            assertEquals(le64(0xffff0ff0L), c.request("p45"));
            assertEquals(le64(0x80050033L), c.request("p3b"));
            assertEquals("OK", c.request("P46=" + le64(0x401)));
            assertEquals(0x401, target.register(1, X86_64Registers.DR7));
            assertEquals("E.no register number 71", c.request("p47"), "register reads explain themselves even to gdb 13");
            assertEquals("E16", c.request("P10=1234"), "wrong size");
        }
    }

    @Test
    void gWritesOnlyTheRegistersThePacketCovers() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            String g = c.request("g");
            int ripEnd = 2 * (RegisterLayout.x86_64().register(X86_64Registers.RIP).offset() + 8);
            String prefix = g.substring(0, ripEnd - 16) + le64(0x401500);
            assertEquals("OK", c.request("G" + prefix));
            assertEquals(0x401500, target.register(1, X86_64Registers.RIP));
            assertEquals(0x400, target.register(1, X86_64Registers.DR7));
            assertTrue(c.request("G" + prefix + "00").startsWith("E"), "G ending inside a register");
        }
    }

    @Test
    void hgSelectsTheThreadForRegistersAndMemory() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("Hg2"));
            assertEquals(le64(0x402000), c.request("p10"));
            assertEquals("E03", c.request("Hg7"));
            assertEquals("OK", c.request("Hg0"));
            assertEquals(le64(0x401000), c.request("p10"));
        }
    }

    @Test
    void aStopMakesTheReportingThreadTheGeneralThread() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("Hg1"));
            target.onNextResume(r -> StopEvent.stepDone(2));
            assertTrue(c.request("vCont;s:2").startsWith("T05thread:2;"));
            assertEquals(le64(0x402000), c.request("p10"), "gdb does not resend Hg after a stop");
        }
    }

    // ---------------------------------------------------------------- memory

    @Test
    void memoryIsReadAndWrittenInHexAndBinary() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals(le64(0) + le64(1), c.request("m408000,10"));
            assertEquals("OK", c.request("M408000,2:3412"));
            assertEquals(0x1234, target.getLong(0x408000));
            byte[] special = {'$', '#', '}', '*', 0x03, 0};
            ByteArrayOutputStream x = new ByteArrayOutputStream();
            x.writeBytes("X408008,6:".getBytes(StandardCharsets.ISO_8859_1));
            x.writeBytes(special);
            assertEquals("OK", new String(c.requestBytes(x.toByteArray()), StandardCharsets.ISO_8859_1));
            assertEquals(Hex.encode(special), c.request("m408008,6"));
            assertEquals("OK", c.request("X408000,0:"), "gdb probes X support with an empty write");
        }
    }

    @Test
    void unreadableMemoryGivesAnEnnErrorEvenWithErrorMessages() throws Exception {
        try (RspClient c = attach(PLAIN + ";error-message+")) {
            assertEquals("E0e", c.request("m10,8"));
            assertTrue(c.request("M10,1:00").startsWith("E.no memory at 0x10"));
        }
        try (RspClient c = attach(PLAIN)) {
            assertEquals("E0e", c.request("M10,1:00"));
        }
    }

    @Test
    void readsCrossingIntoUnreadableMemoryReturnTheReadablePart() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            long end = FakeTarget.MEMORY_BASE + FakeTarget.MEMORY_SIZE;
            assertEquals("9090", c.request("m" + Long.toHexString(end - 2) + ",10"));
        }
    }

    @Test
    void largeReadsAreCappedAtHalfThePacketSize() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            String reply = c.request("m400000,100000");
            assertEquals(0x20000, reply.length(), "64 KiB of data, 128 KiB of hex");
        }
    }

    // ---------------------------------------------------------------- breakpoints and stops

    @Test
    void breakpointsOfEveryKindAreInsertedAndRemoved() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("Z0,401000,1"));
            assertEquals("OK", c.request("Z1,401010,1"));
            assertEquals("OK", c.request("Z2,408000,8"));
            assertEquals("OK", c.request("Z3,408008,4"));
            assertEquals("OK", c.request("Z4,408010,2"));
            assertEquals(5, target.breakpoints().size());
            assertEquals(new FakeTarget.Breakpoint(BreakpointType.WRITE_WATCHPOINT, 0x408000, 8), target.breakpoints().get(2));
            for (String z : List.of("z0,401000,1", "z1,401010,1", "z2,408000,8", "z3,408008,4", "z4,408010,2")) {
                assertEquals("OK", c.request(z));
            }
            assertTrue(target.breakpoints().isEmpty());
        }
    }

    @Test
    void refusedBreakpointCarriesTheTargetsMessage() throws Exception {
        target.breakpointPolicy(bp -> bp.type() == BreakpointType.HARDWARE
                ? BreakpointResult.refused("hardware breakpoints need a debug TD") : null);
        try (RspClient c = attach(PLAIN)) {
            assertEquals("E.Z1.hardware breakpoints need a debug TD", c.request("Z1,401000,1"));
            assertEquals("OK", c.request("Z0,401000,1"));
        }
    }

    @Test
    void unsupportedBreakpointKindGetsTheEmptyReply() throws Exception {
        target.breakpointPolicy(bp -> bp.type() == BreakpointType.READ_WATCHPOINT ? BreakpointResult.UNSUPPORTED : null);
        try (RspClient c = attach(PLAIN)) {
            assertEquals("", c.request("Z3,408000,8"));
        }
    }

    @Test
    void hardwareBreakpointStopSaysHwbreakAndExpeditesThePc() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("Z1,401234,1"));
            assertEquals("T05thread:1;6:00f0400000000000;7:00f0400000000000;10:3412400000000000;hwbreak:;", c.request("vCont;c"));
            assertEquals(0x401234, target.register(1, X86_64Registers.RIP));
        }
    }

    @Test
    void breakpointReasonsAreOnlySentToAGdbThatAskedForThem() throws Exception {
        try (RspClient c = attach("qSupported")) {
            assertEquals("OK", c.request("Z1,401234,1"));
            assertEquals("T05thread:1;6:00f0400000000000;7:00f0400000000000;10:3412400000000000;", c.request("c"));
        }
    }

    @Test
    void softwareBreakpointStopSaysSwbreak() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("Z0,401100,1"));
            assertEquals("T05thread:1;6:00f0400000000000;7:00f0400000000000;10:0011400000000000;swbreak:;", c.request("vCont;c"));
        }
    }

    @Test
    void watchpointStopsNameTheDataAddress() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("Z2,408010,8"));
            assertTrue(c.request("vCont;c").endsWith(";watch:408010;"));
            assertEquals(3, target.getLong(0x408010), "the write the watchpoint caught");
            assertEquals("OK", c.request("z2,408010,8"));
            assertEquals("OK", c.request("Z3,408018,8"));
            assertTrue(c.request("vCont;c").endsWith(";rwatch:408018;"));
            assertEquals("OK", c.request("z3,408018,8"));
            assertEquals("OK", c.request("Z4,408020,8"));
            assertTrue(c.request("vCont;c").endsWith(";awatch:408020;"));
        }
    }

    @Test
    void stepReportsTheNewPcOfTheSteppedThread() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("T05thread:1;6:00f0400000000000;7:00f0400000000000;10:0110400000000000;", c.request("vCont;s:1"));
            ResumeRequest r = target.resumes.getLast();
            assertEquals(ResumeAction.STEP, r.forThread(1).orElseThrow().action());
            assertEquals(ResumeAction.STAY_STOPPED, r.forThread(2).orElseThrow().action(), "no default action");
        }
    }

    /** vCont;rSTART,END steps the thread until its PC leaves the range, with one stop reply at the end. */
    @Test
    void rangeSteppingStepsUntilThePcLeavesTheRange() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("T05thread:1;6:00f0400000000000;7:00f0400000000000;10:1010400000000000;",
                    c.request("vCont;r401000,401010:1"));
            assertEquals(16, target.resumes.size(), "one step per byte of the range (the fake steps one byte)");
            assertEquals(ResumeAction.STEP, target.resumes.getLast().forThread(1).orElseThrow().action());
            assertEquals(ResumeAction.STAY_STOPPED, target.resumes.getLast().forThread(2).orElseThrow().action());
            // A PC already outside the range: one step, then the stop.
            c.request("vCont;r400000,400010:1");
            assertEquals(17, target.resumes.size());
            assertTrue(c.request("qC").startsWith("QC"), "the session takes packets again");
        }
    }

    @Test
    void aRangeStepEndsAtAnyOtherStopAndAtCtrlC() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            target.onNextResume(r -> StopEvent.stepDone(1));
            target.onNextResume(r -> StopEvent.hardwareBreakpoint(1));
            assertTrue(c.request("vCont;r401000,402000:1").startsWith("T05thread:1;"), "a breakpoint on the second step");
            assertEquals(2, target.resumes.size());
            assertTrue(c.request("vCont;r401000,402000:1;r400000,400001:2").startsWith("E"), "one range-stepping thread");

            // A range that the fake would take a million steps to leave: Ctrl-C ends it.
            c.send("vCont;r401000,501000:1");
            StubFixture.await("range stepping", java.time.Duration.ofSeconds(30), () -> target.resumes.size() > 10);
            c.interrupt();
            String stop = c.receive();
            assertTrue(stop.startsWith("T02thread:1;"), stop);
            assertTrue(target.resumes.size() < 1000, target.resumes.size() + " steps");
            assertTrue(c.request("qC").startsWith("QC"), "the session takes packets again");
        }
    }

    @Test
    void gdbLeavingDuringARangeStepReleasesTheTargetAndTheNextClientIsServed() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            c.send("vCont;r401000,10401000:1"); // ended only by a Ctrl-C or the disconnect
            StubFixture.await("range stepping", java.time.Duration.ofSeconds(30), () -> target.resumes.size() > 3);
        }
        StubFixture.await("the target released", java.time.Duration.ofSeconds(30), () -> target.detaches.get() == 1);
        try (RspClient c = attach(PLAIN)) {
            assertTrue(c.request("?").startsWith("T"));
            assertTrue(c.request("qC").startsWith("QC"));
            // The next client's packets go through the same event loop as the old session's step
            // tasks: any step still queued has run by now. None may come after the release.
            List<String> calls = List.copyOf(target.calls);
            List<String> afterRelease = calls.subList(calls.lastIndexOf("detach"), calls.size());
            assertFalse(afterRelease.contains("resume"), "no step after the release: " + afterRelease);
        }
    }

    @Test
    void vContAppliesTheLeftmostMatchingActionThenTheDefault() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            c.request("vCont;c;s:2");
            ResumeRequest r = target.resumes.getLast();
            assertEquals(ResumeAction.STEP, r.forThread(2).orElseThrow().action(), "specific beats default");
            assertEquals(ResumeAction.CONTINUE, r.forThread(1).orElseThrow().action());

            c.request("vCont;s:1;c:-1");
            r = target.resumes.getLast();
            assertEquals(ResumeAction.STEP, r.forThread(1).orElseThrow().action(), "leftmost wins");
            assertEquals(ResumeAction.CONTINUE, r.forThread(2).orElseThrow().action());

            c.request("vCont;S0b:2;C05");
            r = target.resumes.getLast();
            assertEquals(new ResumeRequest.ThreadResume(2, ResumeAction.STEP, 0x0b), r.forThread(2).orElseThrow());
            assertEquals(new ResumeRequest.ThreadResume(1, ResumeAction.CONTINUE, 5), r.forThread(1).orElseThrow());
        }
    }

    @Test
    void vContWithUnknownThreadsOrNothingToResumeIsAnError() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("E03", c.request("vCont;c:9"));
            assertEquals("E16", c.request("vCont;t"));
            assertTrue(target.resumes.isEmpty());
        }
    }

    @Test
    void legacyStepUsesTheHcThreadAndContinueAtAddressSetsThePc() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("Hc2"));
            assertTrue(c.request("s").startsWith("T05thread:2;6:00e0400000000000;7:00e0400000000000;10:0120400000000000;"));
            assertEquals(ResumeAction.STAY_STOPPED, target.resumes.getLast().forThread(1).orElseThrow().action());
            assertEquals("OK", c.request("Hc-1"));
            target.onNextResume(r -> StopEvent.interrupted(2));
            assertEquals("T02thread:2;6:00e0400000000000;7:00e0400000000000;10:0018400000000000;", c.request("c401800"), "resumes the current thread at ADDR");
            assertEquals(0x401800, target.register(2, X86_64Registers.RIP));
        }
    }

    @Test
    void interruptStopsARunningTargetWithExactlyOneStopReply() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            c.send("vCont;c");
            assertEquals('+', c.readRawByte());
            StubFixture.await("the target runs", Duration.ofSeconds(30), target::isRunning);
            c.interrupt();
            c.interrupt();
            // The first packet after the continue's '+' is the SIGINT stop: nothing was sent while it ran.
            assertEquals("T02thread:1;6:00f0400000000000;7:00f0400000000000;" + PC_1000, c.receive());
            // The next one answers qC: there was no second stop reply in between.
            assertEquals("QC1", c.request("qC"));
            assertEquals(1, target.interrupts.get(), "a second 0x03 while stopping is not forwarded");
        }
    }

    @Test
    void interruptWhileStoppedIsIgnored() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            c.interrupt();
            assertEquals("QC1", c.request("qC"));
            assertEquals(0, target.interrupts.get());
        }
    }

    @Test
    void vCtrlCInterruptsToo() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            c.send("vCont;c");
            StubFixture.await("the target runs", Duration.ofSeconds(30), target::isRunning);
            assertEquals("OK", c.request("vCtrlC"));
            assertTrue(c.receive().startsWith("T02thread:1;"));
        }
    }

    @Test
    void packetsWhileRunningAreRefusedWithoutStoppingTheTarget() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            c.send("vCont;c");
            StubFixture.await("the target runs", Duration.ofSeconds(30), target::isRunning);
            assertEquals("E.the target is running", c.request("g"));
            assertTrue(target.isRunning());
            c.interrupt();
            assertTrue(c.receive().startsWith("T02"));
        }
    }

    @Test
    void exitAndTerminationAreReportedAsWAndX() throws Exception {
        try (RspClient c = attach(StubFixture.GDB_FEATURES)) {
            target.onNextResume(r -> StopEvent.exited(3));
            assertEquals("W03;process:1", c.request("vCont;c"));
            assertEquals("W03;process:1", c.request("?"));
            assertEquals("E03", c.request("vCont;c"), "nothing left to resume");
        }
    }

    @Test
    void terminationBySignalIsX() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            target.onNextResume(r -> StopEvent.terminated(GdbSignal.SEGV));
            assertEquals("X0b", c.request("c"));
        }
    }

    @Test
    void guestSignalsAreReportedWithTheirNumber() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            target.onNextResume(r -> StopEvent.signalled(2, GdbSignal.SEGV));
            assertEquals("T0bthread:2;6:00e0400000000000;7:00e0400000000000;10:0020400000000000;", c.request("c"));
        }
    }

    // ---------------------------------------------------------------- threads and descriptions

    @Test
    void threadQueries() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("m1,2", c.request("qfThreadInfo"));
            assertEquals("l", c.request("qsThreadInfo"));
            assertEquals("QC1", c.request("qC"));
            assertEquals("OK", c.request("T2"));
            assertEquals("E03", c.request("T3"));
            assertEquals(Hex.encodeText("vcpu1"), c.request("qThreadExtraInfo,2"));
        }
    }

    @Test
    void targetDescriptionIsServedInChunks() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            StringBuilder xml = new StringBuilder();
            String reply;
            do {
                reply = c.request("qXfer:features:read:target.xml:" + Integer.toHexString(xml.length()) + ",200");
                assertTrue(reply.length() <= 0x201);
                xml.append(reply.substring(1));
            } while (reply.charAt(0) == 'm');
            assertEquals('l', reply.charAt(0));
            assertEquals(RegisterLayout.x86_64().targetXml(), xml.toString());
            assertEquals("l", c.request("qXfer:features:read:target.xml:" + Integer.toHexString(xml.length()) + ",200"),
                    "at the end: nothing more");
            assertEquals("E16", c.request("qXfer:features:read:other.xml:0,200"));
        }
    }

    /** An offset past the document's end, 64-bit ones included, is an error reply, never a Java exception's text. */
    @Test
    void anXferOffsetPastTheEndIsAnError() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("E16", c.request("qXfer:features:read:target.xml:ffffffffffffffff,10"));
            assertEquals("E16", c.request("qXfer:features:read:target.xml:100000,200"));
            assertEquals("E16", c.request("qXfer:threads:read::8000000000000000,10"));
            assertTrue(c.request("qXfer:features:read:target.xml:0,10").startsWith("m<?xml"), "the session goes on");
        }
        try (RspClient c = attach("qSupported:error-message+")) {
            int length = RegisterLayout.x86_64().targetXml().length();
            assertEquals("E.offset 0xffffffffffffffff is past the end of features target.xml (" + length + " bytes)",
                    c.request("qXfer:features:read:target.xml:ffffffffffffffff,10"));
        }
    }

    @Test
    void threadListXmlCarriesTheNames() throws Exception {
        try (RspClient c = attach(StubFixture.GDB_FEATURES)) {
            String xml = c.request("qXfer:threads:read::0,1000");
            assertTrue(xml.startsWith("l<?xml"));
            assertTrue(xml.contains("<thread id=\"p1.1\" name=\"vcpu0\"/>"), xml);
            assertTrue(xml.contains("<thread id=\"p1.2\" name=\"vcpu1\"/>"), xml);
        }
    }

    @Test
    void theExecutableIsOfferedOnlyWhenTheTargetHasOne() throws Exception {
        try (RspClient c = stub.connect()) {
            assertFalse(c.request(PLAIN).contains("exec-file"), "no executable, no offer");
            assertEquals("", c.request("qXfer:exec-file:read::0,1000"));
        }
        target.executable = java.util.Optional.of("/opt/guests/kernel.elf");
        try (RspClient c = attach("qSupported:multiprocess+;swbreak+;hwbreak+")) {
            assertTrue(List.of(c.request("qSupported:multiprocess+").split(";")).contains("qXfer:exec-file:read+"));
            assertEquals("l/opt/guests/kernel.elf", c.request("qXfer:exec-file:read:1:0,1000"));
            assertEquals("l/opt/guests/kernel.elf", c.request("qXfer:exec-file:read::0,1000"));
            assertEquals("m/opt/", c.request("qXfer:exec-file:read:1:0,5"), "in pieces");
            assertEquals("lguests/kernel.elf", c.request("qXfer:exec-file:read:1:5,1000"));
            assertEquals("E03", c.request("qXfer:exec-file:read:2:0,1000"), "no process 2");
        }
    }

    @Test
    void qemusPhysicalMemoryModeReachesTheTargetWhenItHasOne() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("", c.request("Qqemu.PhyMemMode:1"), "no physical mode: unsupported");
            assertEquals("", c.request("qqemu.PhyMemMode"));
        }
        target.physicalMemory = false;
        try (RspClient c = attach(PLAIN)) {
            assertEquals("0", c.request("qqemu.PhyMemMode"));
            assertEquals("OK", c.request("Qqemu.PhyMemMode:1"));
            assertEquals("1", c.request("qqemu.PhyMemMode"));
            assertEquals(Boolean.TRUE, target.physicalMemory);
            assertTrue(c.request("Qqemu.PhyMemMode:7").startsWith("E"), "malformed");
            assertEquals("OK", c.request("Qqemu.PhyMemMode:0"));
            assertEquals(Boolean.FALSE, target.physicalMemory);
        }
    }

    // ---------------------------------------------------------------- monitor

    @Test
    void monitorOutputComesAsConsolePacketsThenOk() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            RspClient.MonitorResult r = c.monitor("dr");
            assertEquals("dr7=0x400\n", r.output());
            assertEquals("OK", r.finalReply());
            RspClient.MonitorResult big = c.monitor("big");
            assertEquals(100_001, big.output().length());
            RspClient.MonitorResult failed = c.monitor("fail");
            assertEquals("no such thing\n", failed.output());
            assertEquals("E01", failed.finalReply());
        }
    }

    // ---------------------------------------------------------------- acks

    @Test
    void ackModeAcknowledgesEveryPacketAndNaksBadChecksums() throws Exception {
        try (RspClient c = stub.connect()) {
            c.sendRaw("$qC#00");
            assertEquals('-', c.readRawByte());
            c.sendRaw("$qC#b4");
            assertEquals('+', c.readRawByte());
            assertEquals("QC1", c.receive());
        }
    }

    @Test
    void aNakMakesTheStubRetransmitItsLastReply() throws Exception {
        try (RspClient c = stub.connect()) {
            c.sendRaw("$qC#b4");
            assertEquals('+', c.readRawByte());
            assertEquals("$QC1#c5", readRaw(c, 7));
            c.sendRaw("-");
            assertEquals("QC1", c.receive());
        }
    }

    @Test
    void noAckModeStopsAcknowledgementsAndAcceptsBadChecksums() throws Exception {
        try (RspClient c = stub.connect()) {
            c.startNoAckMode();
            c.sendRaw("$qC#b4");
            assertEquals("$QC1#c5", readRaw(c, 7), "no '+' any more");
            c.sendRaw("$qC#00");
            assertEquals("QC1", c.receive(), "TCP is reliable; a bad checksum is logged and served");
        }
    }

    // ---------------------------------------------------------------- errors

    @Test
    void malformedPacketsGetEinval() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("E16", c.request("m10"));
            assertEquals("E16", c.request("Z1,zz,1"));
        }
        try (RspClient c = attach(PLAIN + ";error-message+")) {
            assertTrue(c.request("Z1,zz,1").startsWith("E.malformed Z packet"));
            assertEquals("E16", c.request("mzz,1"), "m replies must stay Enn");
        }
    }

    // ---------------------------------------------------------------- detach and kill

    @Test
    void detachRemovesBreakpointsReleasesTheTargetAndCloses() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("Z1,401000,1"));
            assertEquals("OK", c.request("Z2,408000,8"));
            assertEquals("OK", c.request("D"));
            assertTrue(c.closedByPeer(Duration.ofSeconds(30)));
        }
        StubFixture.await("detach", Duration.ofSeconds(30), () -> target.detaches.get() == 1);
        assertTrue(target.breakpoints().isEmpty());
        assertEquals(List.of("z1 401000", "z2 408000", "detach"), target.calls.subList(target.calls.size() - 3, target.calls.size()));
    }

    @Test
    void killKillsTheTargetAndClosesTheConnection() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            c.send("k");
            assertTrue(c.closedByPeer(Duration.ofSeconds(30)));
        }
        assertEquals(1, target.kills.get());
        assertEquals(0, target.detaches.get());
        try (RspClient c = stub.connect()) {
            c.request(PLAIN);
            assertEquals("X09", c.request("?"), "a later debugger sees the killed target");
        }
    }

    @Test
    void vKillRepliesOk() throws Exception {
        try (RspClient c = attach(StubFixture.GDB_FEATURES)) {
            assertEquals("E03", c.request("vKill;2"));
            assertEquals("OK", c.request("vKill;1"));
        }
        assertEquals(1, target.kills.get());
    }
}
