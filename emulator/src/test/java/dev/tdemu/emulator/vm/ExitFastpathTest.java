package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.VmConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The exit fastpath (Vcpu.exitHandlersFastpath) completes CPUID exits inside the engine's hook.
 * It must be invisible: every run with it gives the result, the exit records, the DR sequences
 * and the invariant verdicts of the same run without it.
 */
class ExitFastpathTest {
    record Run(VmResult result, List<ExitEvent> exits, long fastpathExits) {}

    static Run run(VmConfig config, boolean fastpath) {
        List<ExitEvent> exits = Collections.synchronizedList(new ArrayList<>());
        Vm.Options options = new Vm.Options(null, List.of(exits::add));
        try (Vm vm = new Vm(VmSpec.from(config), fastpath ? options : options.withoutExitFastpath())) {
            VmResult r = vm.run();
            return new Run(r, List.copyOf(exits), vm.fastpathExits());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static void assertSameRun(Run with, Run without) {
        VmResult a = with.result(), b = without.result();
        assertThat(a.outcome()).isEqualTo(b.outcome());
        assertThat(a.detail()).isEqualTo(b.detail());
        assertThat(a.exitStatus()).isEqualTo(b.exitStatus());
        assertThat(a.console()).isEqualTo(b.console());
        assertThat(a.exits()).isEqualTo(b.exits());
        assertThat(a.violations()).isEqualTo(b.violations());
        assertThat(a.violatingExits()).isEqualTo(b.violatingExits());
        assertThat(a.warnings()).isEqualTo(b.warnings());
        assertThat(a.hostBreakpointHits()).isEqualTo(b.hostBreakpointHits());
        assertThat(with.exits()).hasSameSizeAs(without.exits());
        for (int i = 0; i < with.exits().size(); i++) {
            ExitEvent x = with.exits().get(i), y = without.exits().get(i);
            assertThat(x.toProto()).as("exit record %d", i).isEqualTo(y.toProto());
            assertThat(x.entry()).as("entry DR sequence before exit %d", i).isEqualTo(y.entry());
            assertThat(x.exit()).as("exit DR sequence of exit %d", i).isEqualTo(y.exit());
            assertThat(Arrays.equals(x.hostHits(), y.hostHits())).as("host workload hits at exit %d", i).isTrue();
            assertThat(x.violations()).as("violations at exit %d", i).isEqualTo(y.violations());
        }
        assertThat(without.fastpathExits()).isZero();
    }

    /** Which of a run's CPUID exits the fastpath completes. */
    enum Taken { ALL, SOME }

    @ParameterizedTest(name = "{0} under {1}")
    @CsvSource({
        // guest,            policy,                                   CPUID exits completed in the fastpath
        "hello,              DR_SWITCH_POLICY_UPSTREAM,                ALL",
        "bench-cpuid,        DR_SWITCH_POLICY_UPSTREAM,                ALL",
        "bench-cpuid,        DR_SWITCH_POLICY_V1_SKIP_RESTORE,         ALL",
        // CPUID beside port I/O, hypercalls and HLT woken by the timer (an event injected at the entry)
        "host-bp-survives,   DR_SWITCH_POLICY_UPSTREAM,                ALL",
        // the guest's execute breakpoint: its DRs are loaded at each entry, the host's at each
        // exit, so the engine is armed again after each fastpath entry (EngineEvent.Reentered)
        "cpuid-exec-bp,      DR_SWITCH_POLICY_UPSTREAM,                ALL",
        "cpuid-exec-bp,      DR_SWITCH_POLICY_PRE_TDX,                 ALL",
        // with RFLAGS.TF set the emulated CPUID owes a single-step trap, so the run loop takes it
        "single-step,        DR_SWITCH_POLICY_UPSTREAM,                SOME",
        "dr-step,            DR_SWITCH_POLICY_UPSTREAM,                SOME",
    })
    void aRunWithTheFastpathLeavesTheSameResultExitRecordsAndDrSequencesAsOneWithout(String guest, DrSwitchPolicy policy,
                                                                                   Taken taken) {
        VmConfig config = Guests.config(guest, GuestMode.GUEST_MODE_VMX).setPolicy(policy).build();
        Run with = run(config, true), without = run(config, false);
        assertThat(with.result().outcome()).isEqualTo(VmResult.Outcome.EXITED);
        assertSameRun(with, without);
        long cpuidExits = with.exits().stream().filter(e -> e.reason() == dev.tdemu.core.vmx.ExitReason.CPUID).count();
        switch (taken) {
            case ALL -> assertThat(with.fastpathExits()).isEqualTo(cpuidExits).isPositive();
            case SOME -> assertThat(with.fastpathExits()).isPositive().isLessThan(cpuidExits);
        }
    }

    @Test
    void twoVcpusSharingTheEngineLockTakeEveryExitThroughTheRunLoop() {
        Run with = run(Guests.config("multi-vcpu", GuestMode.GUEST_MODE_VMX).setVcpus(2).build(), true);
        assertThat(with.result().outcome()).isEqualTo(VmResult.Outcome.EXITED);
        assertThat(with.result().exitStatus()).isZero();
        assertThat(with.exits()).anyMatch(e -> e.reason() == dev.tdemu.core.vmx.ExitReason.CPUID);
        assertThat(with.fastpathExits()).isZero();
    }

    @Test
    void benchCpuidTakesEveryCpuidExitInTheFastpath() {
        Run with = run(Guests.config("bench-cpuid", GuestMode.GUEST_MODE_VMX).build(), true);
        long cpuidExits = with.exits().stream().filter(e -> e.reason() == dev.tdemu.core.vmx.ExitReason.CPUID).count();
        assertThat(cpuidExits).isGreaterThanOrEqualTo(200_000);
        assertThat(with.fastpathExits()).isEqualTo(cpuidExits);
    }

    @Test
    void hostBreakpointsKeepTheRunLoopBecauseTheHostWorkloadRunsAtEachExit() {
        VmConfig config = Guests.config("host-bp-survives", GuestMode.GUEST_MODE_VMX).addHostBreakpoints(Guests.HOST_EXEC)
                .addHostBreakpoints(Guests.HOST_WATCH).build();
        Run with = run(config, true), without = run(config, false);
        assertSameRun(with, without);
        assertThat(with.fastpathExits()).isZero();
        assertThat(with.result().hostBreakpointHits()).isEqualTo(2 * with.result().exits());
    }

    @Test
    void aTdsCpuidNeverTakesTheVmxFastpath() {
        VmConfig config = Guests.config("host-bp-survives", GuestMode.GUEST_MODE_TD).build();
        Run with = run(config, true), without = run(config, false);
        assertSameRun(with, without);
        assertThat(with.fastpathExits()).isZero();
    }

    /**
     * A stop from another thread while the vCPU completes CPUID exits inside the engine's hook
     * (whose RIP write would make the engine drop it) still ends the run: the VM ends with the
     * outcome it was given, long before the guest's 10,000,000 exits.
     */
    @Test
    void theVmEndingFromAnotherThreadStopsAVcpuThatRunsInTheFastpath() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        VmConfig config = Guests.config("soak-cpuid", GuestMode.GUEST_MODE_VMX).setTimeoutMs(120_000).build();
        try (Vm vm = new Vm(VmSpec.from(config), new Vm.Options(null, List.of(e -> {
            if (e.sequence() >= 1_000) {
                running.countDown();
            }
        })))) {
            CompletableFuture<VmResult> result = CompletableFuture.supplyAsync(vm::run);
            assertThat(running.await(20, TimeUnit.SECONDS)).as("1,000 exits within 20 s").isTrue();
            assertThat(vm.fastpathExits()).isPositive();
            vm.finish(VmResult.Outcome.INTERRUPTED, "stopped by the test", -1);
            VmResult r = result.get(20, TimeUnit.SECONDS);
            assertThat(r.outcome()).isEqualTo(VmResult.Outcome.INTERRUPTED);
            assertThat(r.exits()).isLessThan(10_000_000);
        }
    }
}
