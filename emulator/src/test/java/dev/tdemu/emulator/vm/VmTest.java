package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.ExitRecord;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.TdxDrBehaviour;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class VmTest {
    @ParameterizedTest
    @EnumSource(value = GuestMode.class, names = {"GUEST_MODE_VMX", "GUEST_MODE_TD"})
    void helloPrintsItsGreetingAndExitsWithStatusZeroInBothModes(GuestMode mode) {
        VmResult r = Guests.run("hello", mode);
        assertThat(r.outcome()).isEqualTo(VmResult.Outcome.EXITED);
        assertThat(r.exitStatus()).isZero();
        assertThat(r.console()).isEqualTo("Hello from a tdemu guest!\n");
        assertThat(r.violations()).isEmpty();
        // One exit per console byte plus the exit port (and CPUID leaf 0x21 in a VMX guest).
        assertThat(r.exits()).isEqualTo(mode == GuestMode.GUEST_MODE_VMX ? 28 : 27);
    }

    /**
     * The seed review, proven by execution: a TD whose guest never touches a DR, host breakpoints
     * active, and the host workload after every exit. Which policies lose them under which module
     * behaviour is the table of docs/core-model.md.
     */
    @ParameterizedTest(name = "{0} / {1}: host breakpoints intact = {2}")
    @CsvSource({
        "DR_SWITCH_POLICY_PRE_TDX, TDX_DR_BEHAVIOUR_INIT_ON_EXIT, true",
        "DR_SWITCH_POLICY_PRE_TDX, TDX_DR_BEHAVIOUR_RESTORE_HOST_EXCEPT_DR7, true",
        "DR_SWITCH_POLICY_V1_SKIP_RESTORE, TDX_DR_BEHAVIOUR_INIT_ON_EXIT, false",
        "DR_SWITCH_POLICY_V1_SKIP_RESTORE, TDX_DR_BEHAVIOUR_RESTORE_HOST_EXCEPT_DR7, false",
        "DR_SWITCH_POLICY_V5_AS_POSTED, TDX_DR_BEHAVIOUR_INIT_ON_EXIT, true",
        "DR_SWITCH_POLICY_V5_AS_POSTED, TDX_DR_BEHAVIOUR_RESTORE_HOST_EXCEPT_DR7, true",
        "DR_SWITCH_POLICY_DR7_ONLY, TDX_DR_BEHAVIOUR_INIT_ON_EXIT, false",
        "DR_SWITCH_POLICY_DR7_ONLY, TDX_DR_BEHAVIOUR_RESTORE_HOST_EXCEPT_DR7, true",
        "DR_SWITCH_POLICY_UPSTREAM, TDX_DR_BEHAVIOUR_INIT_ON_EXIT, true",
        "DR_SWITCH_POLICY_UPSTREAM, TDX_DR_BEHAVIOUR_RESTORE_HOST_EXCEPT_DR7, true",
    })
    void hostBreakpointsAcrossTdExitsFollowTheSeedReviewTable(DrSwitchPolicy policy, TdxDrBehaviour behaviour, boolean intact) {
        VmResult r = Guests.run(Guests.config("host-bp-survives", GuestMode.GUEST_MODE_TD).setPolicy(policy)
                .setTdxDr(behaviour).addHostBreakpoints(Guests.HOST_EXEC).addHostBreakpoints(Guests.HOST_WATCH).build());
        assertThat(r.outcome()).isEqualTo(VmResult.Outcome.EXITED);
        assertThat(r.exitStatus()).isZero();
        if (intact) {
            assertThat(r.violations()).isEmpty();
            assertThat(r.hostBreakpointHits()).as("both host breakpoints fire after every exit").isEqualTo(2 * r.exits());
        } else {
            assertThat(r.violatingExits()).as("every exit loses them").isEqualTo(r.exits());
            assertThat(r.violations()).allMatch(v -> v.invariant() == Invariant.HOST_BREAKPOINTS_INTACT);
            assertThat(r.firstViolation().violations()).anyMatch(v -> v.detail().contains("did not fire"));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DrSwitchPolicy.class, names = {"DR_SWITCH_POLICY_UNSPECIFIED", "UNRECOGNIZED"},
            mode = EnumSource.Mode.EXCLUDE)
    void vmxGuestsKeepHostBreakpointsUnderEveryPolicyBecauseNoAutoSwitchIsInvolved(DrSwitchPolicy policy) {
        VmResult r = Guests.run(Guests.config("host-bp-survives", GuestMode.GUEST_MODE_VMX).setPolicy(policy)
                .addHostBreakpoints(Guests.HOST_EXEC).addHostBreakpoints(Guests.HOST_WATCH).build());
        assertThat(r.exitStatus()).isZero();
        assertThat(r.violations()).isEmpty();
        assertThat(r.hostBreakpointHits()).isEqualTo(2 * r.exits());
    }

    @ParameterizedTest
    @EnumSource(value = GuestMode.class, names = {"GUEST_MODE_VMX", "GUEST_MODE_TD"})
    void theGuestsOwnBreakpointsKeepFiringAcrossExitsWithHostBreakpointsActive(GuestMode mode) {
        VmResult r = Guests.run(Guests.config("guest-bp-survives", mode).addHostBreakpoints(Guests.HOST_EXEC)
                .addHostBreakpoints(Guests.HOST_WATCH).build());
        assertThat(r.console()).contains("every breakpoint fired every round").doesNotContain("FAIL");
        assertThat(r.exitStatus()).isZero();
        assertThat(r.violations()).isEmpty();
        assertThat(r.warnings()).isEmpty();
        assertThat(r.exits()).as("many exits between the hits").isGreaterThan(100);
    }

    @Test
    void vmxLazySwitchTakesTheWontExitPathAndSyncsBackAtTheNextExit() {
        List<ExitEvent> events = new ArrayList<>();
        VmResult r = Guests.run(Guests.config("guest-bp-survives", GuestMode.GUEST_MODE_VMX).build(), events::add);
        assertThat(r.exitStatus()).isZero();
        // A MOV-DR exit sets WONT_EXIT; the next entry loads the guest's DR6 too, and the next exit
        // syncs DR0-3/DR6 back from hardware (get_debugreg) and re-enables MOV-DR exiting.
        long syncs = events.stream().filter(e -> e.exit().sequence().operations().stream()
                .anyMatch(op -> op instanceof dev.tdemu.core.x86.DrOperation.Get)).count();
        long dr6Loads = events.stream().filter(e -> e.entry().sequence().operations().stream()
                .anyMatch(op -> op instanceof dev.tdemu.core.x86.DrOperation.Set s && s.reg() == 6)).count();
        long movDrExits = events.stream().filter(e -> e.reason() == dev.tdemu.core.vmx.ExitReason.MOV_DR).count();
        assertThat(syncs).as("exits that synced a lazily switched guest").isGreaterThan(20);
        assertThat(dr6Loads).as("entries that loaded DR6 under WONT_EXIT").isEqualTo(syncs);
        assertThat(movDrExits).as("MOV DR exits again after every sync").isGreaterThan(20);
    }

    @ParameterizedTest
    @EnumSource(value = DrSwitchPolicy.class, names = {"DR_SWITCH_POLICY_UNSPECIFIED", "UNRECOGNIZED"},
            mode = EnumSource.Mode.EXCLUDE)
    void aModuleThatLeavesTheTdsValuesInHardwareLeaksThemUnderEveryPolicy(DrSwitchPolicy policy) {
        VmResult leaky = Guests.run(Guests.config("guest-bp-survives", GuestMode.GUEST_MODE_TD).setPolicy(policy)
                .setTdxDr(TdxDrBehaviour.TDX_DR_BEHAVIOUR_LEAVE_GUEST_STATE).build());
        assertThat(leaky.violations()).anyMatch(v -> v.invariant() == Invariant.NO_LEAK);
        VmResult correct = Guests.run(Guests.config("guest-bp-survives", GuestMode.GUEST_MODE_TD).setPolicy(policy).build());
        assertThat(correct.violations()).noneMatch(v -> v.invariant() == Invariant.NO_LEAK);
    }

    @ParameterizedTest
    @CsvSource({"GUEST_MODE_VMX, 1", "GUEST_MODE_VMX, 3", "GUEST_MODE_TD, 2", "GUEST_MODE_TD, 4"})
    void everyVcpuRunsOnItsOwnPhysicalCpuWithItsOwnDebugRegisters(GuestMode mode, int vcpus) {
        VmResult r = Guests.run(Guests.config("multi-vcpu", mode).setVcpus(vcpus).build());
        assertThat(r.console()).contains("each vCPU kept its own debug registers");
        assertThat(r.exitStatus()).isZero();
        assertThat(r.violations()).isEmpty();
    }

    /**
     * {@code monitor exits N}: each vCPU keeps its own last exits (no lock at every exit); the
     * monitor merges them into the VM's last N, oldest first, whichever vCPU made them.
     */
    @Test
    void monitorExitsListsTheVmsLastExitsOfEveryVcpuInSequenceOrder() throws Exception {
        java.util.Map<Long, Integer> vcpuOfExit = new java.util.concurrent.ConcurrentSkipListMap<>();
        VmResult r;
        String listed;
        try (Vm vm = new Vm(VmSpec.from(Guests.config("multi-vcpu", GuestMode.GUEST_MODE_VMX).setVcpus(3).build()),
                new Vm.Options(null, List.of(e -> vcpuOfExit.put(e.sequence(), e.vcpu()))))) {
            r = vm.run();
            listed = vm.monitor("exits 100");
        }
        assertThat(r.exitStatus()).isZero();
        assertThat(vcpuOfExit).as("exits seen").hasSizeGreaterThan(64);
        assertThat(java.util.Set.copyOf(vcpuOfExit.values())).as("vCPUs that exited").containsExactlyInAnyOrder(0, 1, 2);
        List<String> expected = vcpuOfExit.entrySet().stream().skip(vcpuOfExit.size() - 64)
                .map(e -> "#" + e.getKey() + "  vCPU " + e.getValue()).toList();
        List<String> shown = java.util.regex.Pattern.compile("(?m)^#\\d+  vCPU \\d+").matcher(listed).results()
                .map(java.util.regex.MatchResult::group).toList();
        assertThat(shown).as("the VM's last 64 exits, oldest first, with their vCPUs").isEqualTo(expected);
    }

    /**
     * The engine turns LOCK-prefixed instructions into plain loads and stores (it runs without
     * CF_PARALLEL), so two engines on two threads lose updates; tdemu lets one vCPU at a time run
     * guest code (GuestScheduler) and preempts with precise kicks. Lost or repeated updates show in
     * the guest's totals.
     */
    @ParameterizedTest
    @CsvSource({"GUEST_MODE_VMX, 2", "GUEST_MODE_VMX, 4", "GUEST_MODE_TD, 3"})
    void lockedUpdatesAndSpinlocksAreExactAcrossVcpus(GuestMode mode, int vcpus) {
        VmResult r = Guests.run(Guests.config("smp-atomic", mode).setVcpus(vcpus).build());
        assertThat(r.console()).contains("counted exactly once");
        assertThat(r.exitStatus()).isZero();
    }

    @Test
    void aGuestThatHaltsWithInterruptsOffEndsTheVmAsHalted() {
        VmResult r = Guests.run("halt", GuestMode.GUEST_MODE_VMX);
        assertThat(r.outcome()).isEqualTo(VmResult.Outcome.HALTED);
        assertThat(r.processExitStatus()).isEqualTo(1);
        assertThat(r.detail()).contains("halted").contains("without an exit status");
    }

    @Test
    void theTraceHasOneRecordPerExitWithDebugRegistersAndVerdicts(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("t.bin");
        var config = Guests.config("hello", GuestMode.GUEST_MODE_TD).addHostBreakpoints(Guests.HOST_EXEC)
                .setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_V1_SKIP_RESTORE).build();
        VmResult r;
        TraceWriter w = TraceWriter.create(file, TraceWriter.header(config, "test"), TraceWriter.DEFAULT_LIMIT, n -> { });
        r = Guests.run(config, w);
        w.finish("guest exited");
        List<ExitRecord> exits = new ArrayList<>();
        try (TraceReader t = TraceReader.open(file)) {
            assertThat(t.header().getConfig()).isEqualTo(config);
            for (ExitRecord e; (e = t.next()) != null; ) {
                exits.add(e);
            }
            assertThat(t.ending()).isInstanceOf(TraceReader.Ending.Complete.class);
        }
        assertThat(exits).hasSize((int) r.exits());
        ExitRecord first = exits.getFirst();
        assertThat(first.getReasonName()).isEqualTo("TDCALL");
        assertThat(first.getTdcallLeaf()).as("TDG.VP.VMCALL<Instruction.IO>").isEqualTo(30);
        assertThat(first.getHostExpected().getDr0()).isEqualTo(HostWorkload.DEFAULT_FUNCTION);
        assertThat(first.getHwAfterDrSequence().getDr7()).as("V1 skipped the restore").isEqualTo(0x400);
        assertThat(first.getVerdictsList()).anyMatch(v -> v.getInvariant().equals("HOST_BREAKPOINTS_INTACT") && !v.getHolds());
        assertThat(first.getSwitchDbRegs()).as("AUTO_SWITCH").isEqualTo(8);
    }
}
