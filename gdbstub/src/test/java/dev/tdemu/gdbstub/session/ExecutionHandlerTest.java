package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.gdbstub.StubFixture;
import dev.tdemu.gdbstub.registers.X86_64Registers;
import dev.tdemu.gdbstub.target.GdbSignal;
import dev.tdemu.gdbstub.target.ResumeAction;
import dev.tdemu.gdbstub.target.ResumeRequest;
import dev.tdemu.gdbstub.target.StopEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ExecutionHandler}: stop replies, steps, range steps, vCont's rules, legacy c/s, Ctrl-C, exits. */
@Timeout(30)
class ExecutionHandlerTest extends SessionTestBase {
    @Test
    void haltReasonReportsTheAttachStopWithThePc() throws Exception {
        try (RspClient c = stub.connect()) {
            c.request(PLAIN);
            assertEquals("T05thread:1;6:00f0400000000000;7:00f0400000000000;" + PC_1000, c.request("?"));
            assertEquals(1, target.attaches.get());
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

    /**
     * A resume the target refuses (a TargetException: it says why it cannot) is answered with that
     * reason alone, as gdb shows it; a resume that fails otherwise says the target failed.
     */
    @Test
    void aRefusedResumeIsAnsweredWithTheTargetsReasonAndAFailureSaysTheTargetFailed() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            target.failNextResume(new dev.tdemu.gdbstub.target.TargetException("vCPU 1 waits for SIPI"));
            assertEquals("E.vCPU 1 waits for SIPI", c.request("vCont;s:2"));
            target.failNextResume(new IllegalStateException("engine gone"));
            assertEquals("E.the target failed while running: engine gone", c.request("vCont;c"));
            assertTrue(c.request("vCont;s:1").startsWith("T05"), "the next resume works");
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
}
