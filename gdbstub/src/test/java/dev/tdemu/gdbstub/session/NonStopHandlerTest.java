package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.gdbstub.StubFixture;
import dev.tdemu.gdbstub.target.ResumeAction;
import dev.tdemu.gdbstub.target.ResumeRequest;
import dev.tdemu.gdbstub.target.StopEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link NonStopHandler}: {@code QNonStop}, {@code vCont} answered at once, {@code %Stop}
 * notifications drained with {@code vStopped}, {@code vCont;t}, {@code vCtrlC}, {@code ?} in
 * non-stop mode, and the way back to all-stop.
 */
@Timeout(30)
class NonStopHandlerTest extends SessionTestBase {
    /** Thread 1's and thread 2's frame registers as the stop replies expedite them (RBP, RSP, then RIP). */
    static final String FRAME_1 = "6:00f0400000000000;7:00f0400000000000;";
    static final String FRAME_2 = "6:00e0400000000000;7:00e0400000000000;";

    /** Connects as gdb 13 does in non-stop mode: {@code QNonStop:1}, {@code ?} and the notifications after it. */
    RspClient nonStop() throws Exception {
        RspClient c = attach(PLAIN);
        assertEquals("OK", c.request("QNonStop:1"));
        assertEquals("T05thread:1;" + FRAME_1 + PC_1000, c.request("?"));
        assertEquals("OK", c.request("vStopped"));
        assertEquals("Stop:T00thread:2;" + FRAME_2 + "10:0020400000000000;", c.receiveNotification());
        assertEquals("OK", c.request("vStopped"));
        return c;
    }

    @Test
    void nonStopIsOfferedOnlyWhereTheTargetHasIt() throws Exception {
        try (RspClient c = stub.connect()) {
            assertTrue(List.of(c.request(PLAIN).split(";")).contains("QNonStop+"));
        }
        target.offersNonStop = false;
        try (RspClient c = stub.connect()) {
            assertFalse(c.request(PLAIN).contains("QNonStop"));
            assertEquals("T05", c.request("?").substring(0, 3));
            assertEquals("", c.request("QNonStop:1"), "not offered: unsupported");
        }
        assertFalse(target.calls.contains("non-stop true"));
    }

    /**
     * gdb 13.1 fails an internal assertion when {@code ?} reports more than one stopped thread while
     * it connects; the attach's other stopped threads come as notifications once that sequence is over.
     */
    @Test
    void aConnectingGdbHearsOfOneStoppedThreadFromQuestionMarkAndOfTheOthersRightAfter() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("QNonStop:1"));
            assertEquals("T05thread:1;" + FRAME_1 + PC_1000, c.request("?"), "the stop the attach found");
            assertTrue(c.pendingNotifications().isEmpty(), "nothing is notified during the sequence");
            assertEquals("OK", c.request("vStopped"));
            assertEquals("Stop:T00thread:2;" + FRAME_2 + "10:0020400000000000;", c.receiveNotification(),
                    "stopped with the others, not by a signal: signal 0");
            assertEquals("OK", c.request("vStopped"));
            assertEquals("OK", c.request("vStopped"), "an empty queue stays empty");
            assertEquals(Set.of(), target.runningThreads());
        }
    }

    @Test
    void haltReasonInNonStopModeReportsEveryStoppedThreadOneVStoppedAtATime() throws Exception {
        try (RspClient c = nonStop()) {
            assertEquals("T05thread:1;" + FRAME_1 + PC_1000, c.request("?"));
            assertEquals("T00thread:2;" + FRAME_2 + "10:0020400000000000;", c.request("vStopped"));
            assertEquals("OK", c.request("vStopped"));
        }
    }

    @Test
    void aThreadTheAttachStoppedIsReportedAtOnceWhenGdbStopsItBeforeItsNotification() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("OK", c.request("QNonStop:1"));
            assertEquals("OK", c.request("vCont;t:2"), "gdb still counts it as running");
            assertEquals("Stop:T00thread:2;" + FRAME_2 + "10:0020400000000000;", c.receiveNotification());
            assertEquals("OK", c.request("vStopped"));
            assertTrue(target.threadStops.isEmpty(), "already held: the target is not asked");
        }
    }

    @Test
    void vContIsAnsweredAtOnceAndABreakpointStopComesAsANotification() throws Exception {
        try (RspClient c = nonStop()) {
            assertEquals("OK", c.request("Z1,401234,1"));
            assertEquals("OK", c.request("vCont;c:2"));
            assertEquals(Set.of(2), target.runningThreads());
            assertEquals(new ResumeRequest(List.of(new ResumeRequest.ThreadResume(1, ResumeAction.STAY_STOPPED, 0),
                    new ResumeRequest.ThreadResume(2, ResumeAction.CONTINUE, 0))), target.threadResumes.getLast());
            // Thread 1 is stopped and served while thread 2 runs.
            assertEquals("OK", c.request("Hg1"));
            assertEquals(le64(0x401000), c.request("p10"));
            assertEquals("OK", c.request("vCont;c:2"), "resuming a running thread changes nothing");
            assertEquals(1, target.threadResumes.size());

            target.report(StopEvent.hardwareBreakpoint(2));
            assertEquals("Stop:T05thread:2;" + FRAME_2 + "10:3412400000000000;hwbreak:;", c.receiveNotification());
            assertEquals("OK", c.request("vStopped"));
            assertEquals(Set.of(), target.runningThreads());
        }
    }

    @Test
    void vContTStopsOnlyTheNamedThreadWithSignalZeroAndCtrlCTheRestWithSigint() throws Exception {
        target.stepsAtOnce = true; // stops are reported inside the call that causes them
        try (RspClient c = nonStop()) {
            assertEquals("OK", c.request("vCont;c"));
            assertEquals(Set.of(1, 2), target.runningThreads());
            assertEquals("OK", c.request("vCont;t:1"));
            assertEquals("Stop:T00thread:1;" + FRAME_1 + PC_1000, c.receiveNotification());
            assertEquals(Set.of(2), target.runningThreads());
            assertEquals("OK", c.request("vStopped"));
            assertEquals("OK", c.request("vCont;t:1"), "already stopped: nothing to report");
            assertEquals(List.of(List.of(1)), target.threadStops);

            assertEquals("OK", c.request("vCtrlC"));
            assertEquals("Stop:T02thread:2;" + FRAME_2 + "10:0020400000000000;", c.receiveNotification());
            assertEquals("OK", c.request("vStopped"));
            assertEquals(Set.of(), target.runningThreads());
        }
    }

    @Test
    void stopsThatComeWhileANotificationIsUnacknowledgedAreAnsweredToVStopped() throws Exception {
        target.stepsAtOnce = true;
        try (RspClient c = nonStop()) {
            assertEquals("OK", c.request("vCont;c"));
            assertEquals("OK", c.request("vCont;t"));
            // Both threads stopped before the OK went out; only the first was announced.
            assertEquals(List.of("Stop:T00thread:1;" + FRAME_1 + PC_1000), c.pendingNotifications());
            assertEquals("Stop:T00thread:1;" + FRAME_1 + PC_1000, c.receiveNotification());
            assertEquals("OK", c.request("vCont;c"), "gdb has not taken thread 2's stop: nothing resumes");
            assertEquals(Set.of(), target.runningThreads());
            assertEquals("T00thread:2;" + FRAME_2 + "10:0020400000000000;", c.request("vStopped"));
            assertEquals("OK", c.request("vStopped"));
            assertEquals("OK", c.request("vCont;c"));
            assertEquals(Set.of(1, 2), target.runningThreads());
            assertTrue(c.pendingNotifications().isEmpty());
        }
    }

    @Test
    void aStepOfOneThreadEndsWithANotification() throws Exception {
        try (RspClient c = nonStop()) {
            assertEquals("OK", c.request("vCont;s:1"));
            assertEquals("Stop:T05thread:1;" + FRAME_1 + "10:0110400000000000;", c.receiveNotification());
            assertEquals("OK", c.request("vStopped"));
            assertEquals("OK", c.request("vCont;r401001,401010:1"), "a range step is a step here");
            assertEquals("Stop:T05thread:1;" + FRAME_1 + "10:0210400000000000;", c.receiveNotification());
            assertEquals("OK", c.request("vStopped"));
        }
    }

    @Test
    void haltReasonListsOnlyStoppedThreadsAndOkWhenAllRun() throws Exception {
        try (RspClient c = nonStop()) {
            assertEquals("OK", c.request("vCont;c:1"));
            assertEquals("T00thread:2;" + FRAME_2 + "10:0020400000000000;", c.request("?"));
            assertEquals("OK", c.request("vStopped"));
            assertEquals("OK", c.request("vCont;c:2"));
            assertEquals("OK", c.request("?"), "every thread runs");
        }
    }

    @Test
    void leavingNonStopModeStopsEveryThreadAndAllStopWorksAsBefore() throws Exception {
        try (RspClient c = nonStop()) {
            assertEquals("OK", c.request("vCont;c:2"));
            assertEquals("OK", c.request("QNonStop:0"));
            assertEquals(Set.of(), target.runningThreads());
            assertTrue(c.request("?").startsWith("T"), "all-stop: one stop reply");
            assertEquals("OK", c.request("Z1,401234,1"));
            assertEquals("T05thread:1;" + FRAME_1 + "10:3412400000000000;hwbreak:;", c.request("vCont;c"),
                    "all-stop: the resume's reply is the stop");
            assertEquals(List.of("non-stop true", "non-stop false"),
                    target.calls.stream().filter(s -> s.startsWith("non-stop")).toList());
        }
    }

    @Test
    void theTargetsEndIsNotifiedAsW() throws Exception {
        try (RspClient c = nonStop()) {
            assertEquals("OK", c.request("vCont;c:1"));
            target.report(StopEvent.exited(3));
            assertEquals("Stop:W03", c.receiveNotification());
            assertEquals("OK", c.request("vStopped"));
            assertEquals("W03", c.request("?"));
        }
    }

    @Test
    void aDebuggerThatLeavesInNonStopModeStopsTheThreadsThenRemovesItsBreakpointsAndDetaches() throws Exception {
        try (RspClient c = nonStop()) {
            assertEquals("OK", c.request("Z1,401234,1"));
            assertEquals("OK", c.request("vCont;c"));
        }
        StubFixture.await("detach", Duration.ofSeconds(30), () -> target.detaches.get() == 1);
        assertEquals(List.of("non-stop false", "z1 401234", "detach"), target.calls.subList(target.calls.size() - 3,
                target.calls.size()));
        assertEquals(Set.of(), target.runningThreads());
    }
}
