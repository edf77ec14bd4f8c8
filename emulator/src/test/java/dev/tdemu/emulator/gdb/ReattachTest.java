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
        java.util.Set<String> raxSeen = new java.util.HashSet<>();
        for (int round = 0; round < 5; round++) {
            try (RspClient client = RspClient.connect("127.0.0.1", stub.port(), Duration.ofSeconds(10))) {
                client.request("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+");
                client.startNoAckMode();
                String stop = client.request("?");
                // halted for the debugger: a SIGTRAP (as QEMU reports it), not the SIGINT of a Ctrl-C
                assertThat(stop).as("round %d", round).matches("T05thread:p1\\.1;.*");
                assertThat(client.request("p10")).as("RIP").hasSize(16);
                // bench-debug adds 1 to RAX on every loop: a new value each time proves it ran in between
                assertThat(raxSeen.add(client.request("p0"))).as("RAX changed before round %d", round).isTrue();
            }
            // The stub notices the disconnect on its own: its cleanup (detach, which lets the guest
            // run on) must be over before the guest's 50 ms between debuggers start.
            stub.server.lastSessionFinished().get(10, java.util.concurrent.TimeUnit.SECONDS);
            Thread.sleep(50); // the guest runs between debuggers
        }
        assertThat(stub.run).isNotDone();
    }
}
