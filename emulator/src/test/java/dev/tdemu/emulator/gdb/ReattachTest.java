package dev.tdemu.emulator.gdb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.VmConfig;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Debuggers come and go while the guest runs: each new client must find the VM stopped for it. */
@Timeout(60)
class ReattachTest {
    StubbedVm stub;

    @AfterEach
    void tearDown() throws Exception {
        stub.close();
    }

    @Test
    void aClientThatLeavesLetsTheGuestRunAndTheNextOneStopsItAgain() throws Exception {
        VmConfig config = VmConfig.newBuilder().setGuestImage("builtin:bench-debug").setMode(GuestMode.GUEST_MODE_VMX)
                .setMemoryBytes(64L << 20).setTimeoutMs(0).build();
        stub = StubbedVm.start(config);
        String rax = null;
        for (int round = 0; round < 5; round++) {
            // bench-debug adds 1 to RAX on every loop: a new value proves the guest ran since the
            // last debugger left. It runs from the last detach on; a debugger that comes before its
            // first loop finds the old value, and leaves again (no clock: the guest's own progress).
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            String seen;
            do {
                assertThat(System.nanoTime() - deadline).as("the guest did not run between debuggers (round %d)", round)
                        .isNegative();
                seen = attachAndReadRax(round);
            } while (seen.equals(rax));
            rax = seen;
        }
        assertThat(stub.run).isNotDone();
    }

    /** Connects like gdb, checks the VM was halted for it, reads RAX and leaves (the stub detaches, the guest runs on). */
    private String attachAndReadRax(int round) throws Exception {
        String rax;
        try (RspClient client = RspClient.connect("127.0.0.1", stub.port(), Duration.ofSeconds(30))) {
            client.request("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+");
            client.startNoAckMode();
            String stop = client.request("?");
            // halted for the debugger: a SIGTRAP (as QEMU reports it), not the SIGINT of a Ctrl-C
            assertThat(stop).as("round %d", round).matches("T05thread:p1\\.1;.*");
            assertThat(client.request("p10")).as("RIP").hasSize(16);
            rax = client.request("p0");
        }
        // The stub notices the disconnect on its own; its cleanup (detach) lets the guest run on.
        stub.server.lastSessionFinished().get(30, java.util.concurrent.TimeUnit.SECONDS);
        return rax;
    }
}
