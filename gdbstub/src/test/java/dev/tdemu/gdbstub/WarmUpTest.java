package dev.tdemu.gdbstub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The first stub of a JVM runs gdb's attach conversation against a throwaway stub before it
 * listens, so that the first real gdb finds the connection path loaded and compiled (how much
 * that saves is GdbBenchmark's business). Here: the conversation succeeds against the stub as it
 * is, and the real target hears nothing of it.
 */
@Timeout(60)
class WarmUpTest {
    @Test
    void theWarmUpConversationSucceedsBeforeTheFirstStubListensAndNeverTouchesItsTarget() throws Exception {
        try (StubFixture s = new StubFixture()) {
            assertTrue(WarmUp.done().isDone(), "warmed up before listening");
            WarmUp.done().get(0, TimeUnit.SECONDS); // throws if a reply was not what gdb would accept
            assertEquals(List.of(), s.target().calls, "the real target was not called");
            try (RspClient c = s.attach(StubFixture.GDB_FEATURES)) {
                assertTrue(c.request("qC").startsWith("QC"));
            }
        }
    }
}
