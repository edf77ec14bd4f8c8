package dev.tdemu.emulator.gdb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.VmConfig;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code tdemu run --gdb} runs gdb's hardware-breakpoint continue cycle on a throwaway VM beside
 * its listening stub until a client comes, so that a fresh JVM's first real cycles run compiled (how much that saves is
 * measured side by side with QEMU, docs/gdbstub.md). Here: every cycle of the warm-up really
 * stops at its breakpoint, and a VM being debugged beside it is left as it was.
 */
@Timeout(120)
class VmWarmUpTest {
    @Test
    void everyContinueOfTheWarmUpStopsAtItsBreakpoint() {
        VmWarmUp.Outcome o = VmWarmUp.run(25, Duration.ofMinutes(1));
        assertThat(o.cycles()).as("continues that ended in a stop reply").isEqualTo(25);
    }

    @Test
    void theWarmUpEndsAtItsNextStepOnceItsStopConditionHolds() {
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        assertThat(VmWarmUp.run(25, Duration.ofMinutes(1), () -> asked.incrementAndGet() > 0).cycles())
                .as("a client already there: no cycle").isZero();
        assertThat(asked).as("asked once, before the VM is made: nothing was set up").hasValue(1);
        asked.set(0);
        assertThat(VmWarmUp.run(25, Duration.ofMinutes(1), () -> asked.incrementAndGet() > 1).cycles())
                .as("the client came while the VM was made: no stub, no cycle").isZero();
        assertThat(asked).as("asked again before the stub starts").hasValue(2);
        asked.set(0);
        // asked before the VM, before the stub, then before each cycle
        assertThat(VmWarmUp.run(25, Duration.ofMinutes(1), () -> asked.incrementAndGet() > 5).cycles())
                .as("the client came after three cycles").isEqualTo(3);
    }

    @Test
    void theWarmUpLeavesTheVmBeingDebuggedAtItsFirstInstruction() throws Exception {
        VmConfig config = VmConfig.newBuilder().setGuestImage("builtin:bench-debug").setMode(GuestMode.GUEST_MODE_VMX)
                .setTimeoutMs(60_000).build();
        long entry = ElfImage.builtin("bench-debug").entry();
        try (StubbedVm real = StubbedVm.start(config)) { // held at its first instruction (--wait)
            assertThat(VmWarmUp.run(10, Duration.ofMinutes(1)).cycles()).isEqualTo(10);
            var target = real.target;
            target.attach().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertThat(target.readRegisters(1).toCompletableFuture().get(10, TimeUnit.SECONDS).getLong("rip"))
                    .as("the real guest has not run").isEqualTo(entry);
        }
    }
}
