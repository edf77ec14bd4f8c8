package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.core.invariant.InvariantChecks;
import dev.tdemu.core.invariant.Violation;
import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static dev.tdemu.core.kvm.DrSwitchPolicy.DR7_ONLY;
import static dev.tdemu.core.kvm.DrSwitchPolicy.PRE_TDX;
import static dev.tdemu.core.kvm.DrSwitchPolicy.UPSTREAM;
import static dev.tdemu.core.kvm.DrSwitchPolicy.V1_SKIP_RESTORE;
import static dev.tdemu.core.kvm.DrSwitchPolicy.V5_AS_POSTED;
import static dev.tdemu.core.tdx.TdxDrBehaviour.INIT_ON_EXIT;
import static dev.tdemu.core.tdx.TdxDrBehaviour.RESTORE_HOST_EXCEPT_DR7;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seed review, reproduced: one TD exit of a non-debug TD vCPU (beforeEntry → TDH.VP.ENTER → TD
 * runs → TD exit → afterExit), then the invariants, for every policy × module behaviour.
 */
class SeedReviewMatrixTest {

    static final long HOST_DR0 = 0xFFFF_FFFF_8100_0000L;   // host execute breakpoint, slot 0
    static final long HOST_DR1 = 0xFFFF_8880_0000_1000L;   // host 8-byte write watchpoint, slot 1
    static final long TD_DR0 = 0x7F00_0000_1000L;
    static final Dr7 TD_DR7 = new Dr7(0x1);                 // L0, execute

    record Outcome(DebugRegisters hw, HostCpu host, TdVcpu td, List<Violation> atEntry, List<Violation> afterExit,
                   KvmVcpu vcpu) {

        Set<String> registers(Invariant inv) {
            return afterExit.stream().filter(v -> v.invariant() == inv).map(v -> register(v.detail()))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static String register(String detail) {
        Matcher m = Pattern.compile("^(DR\\d)").matcher(detail);
        return m.find() ? m.group(1) : detail;
    }

    private static final Consumer<DebugRegisterFile> TD_IGNORES_DRS = cpu -> {
    };
    private static final Consumer<DebugRegisterFile> TD_SETS_DR0_AND_DR7 = cpu -> {
        cpu.movToDr(CpuMode.KERNEL_64, 0, TD_DR0);
        cpu.movToDr(CpuMode.KERNEL_64, 7, TD_DR7.value());
    };

    static Outcome oneTdExit(DrSwitchPolicy policy, TdxDrBehaviour behaviour, boolean hostBreakpoints,
                             Consumer<DebugRegisterFile> tdRuns) {
        DebugRegisterFile cpu = new DebugRegisterFile();
        HostCpu host = new HostCpu(0);
        if (hostBreakpoints) {
            host.installBreakpoint(new HostBreakpoint(HOST_DR0, BreakpointType.EXECUTE, BreakpointLength.ONE), cpu);
            host.installBreakpoint(new HostBreakpoint(HOST_DR1, BreakpointType.WRITE, BreakpointLength.EIGHT), cpu);
        }
        TdVcpu td = new TdVcpu(TdAttributes.NON_DEBUG);
        KvmVcpu vcpu = KvmVcpu.td(policy, new TdxModule(behaviour), td);

        VcpuEnterGuest.EntryTrace in = VcpuEnterGuest.enterGuest(vcpu, host, cpu);
        List<Violation> atEntry = new java.util.ArrayList<>(InvariantChecks.noLeakAtEntry(td, in.hwInGuest()));
        atEntry.addAll(InvariantChecks.guestBreakpointsLoaded(vcpu, in.hwInGuest()));
        tdRuns.accept(cpu);
        VcpuEnterGuest.exitGuest(vcpu, host, cpu, ExitReason.TDCALL, 0);

        DebugRegisters hw = cpu.snapshot();
        List<Violation> after = new java.util.ArrayList<>(InvariantChecks.hostBreakpointsIntact(host, hw));
        after.addAll(InvariantChecks.noLeakAfterExit(td, host, hw));
        return new Outcome(hw, host, td, atEntry, after, vcpu);
    }

    private static Set<String> regs(String names) {
        return names.isBlank() ? Set.of() : new TreeSet<>(Arrays.asList(names.trim().split("\\s+")));
    }

    // ---- host breakpoints active, TD does not use DRs ----

    @ParameterizedTest(name = "{0} x {1}: host loses [{2}]")
    @CsvSource({
            "PRE_TDX,         INIT_ON_EXIT,            ''",
            "PRE_TDX,         RESTORE_HOST_EXCEPT_DR7, ''",
            "PRE_TDX,         LEAVE_GUEST_STATE,       ''",
            "V1_SKIP_RESTORE, INIT_ON_EXIT,            'DR0 DR1 DR7'",
            "V1_SKIP_RESTORE, RESTORE_HOST_EXCEPT_DR7, 'DR7'",
            "V1_SKIP_RESTORE, LEAVE_GUEST_STATE,       'DR0 DR1 DR7'",
            "V5_AS_POSTED,    INIT_ON_EXIT,            ''",
            "V5_AS_POSTED,    RESTORE_HOST_EXCEPT_DR7, ''",
            "V5_AS_POSTED,    LEAVE_GUEST_STATE,       ''",
            "DR7_ONLY,        INIT_ON_EXIT,            'DR0 DR1'",
            "DR7_ONLY,        RESTORE_HOST_EXCEPT_DR7, ''",
            "DR7_ONLY,        LEAVE_GUEST_STATE,       'DR0 DR1'",
            "UPSTREAM,        INIT_ON_EXIT,            ''",
            "UPSTREAM,        RESTORE_HOST_EXCEPT_DR7, ''",
            "UPSTREAM,        LEAVE_GUEST_STATE,       ''",
    })
    void hostBreakpointsAfterOneTdExit(DrSwitchPolicy policy, TdxDrBehaviour behaviour, String lost) {
        Outcome o = oneTdExit(policy, behaviour, true, TD_IGNORES_DRS);
        assertEquals(regs(lost), o.registers(Invariant.HOST_BREAKPOINTS_INTACT), o.hw().toString());
        assertEquals(Set.of(), o.registers(Invariant.NO_LEAK));
        assertEquals(List.of(), o.atEntry());
        assertEquals(List.of(), o.vcpu().warnings());
    }

    // ---- no host breakpoints, TD sets its own DR0/DR7 ----

    @ParameterizedTest(name = "{0} x {1}: TD leaks [{2}]")
    @CsvSource({
            "PRE_TDX,         INIT_ON_EXIT,            ''",
            "PRE_TDX,         RESTORE_HOST_EXCEPT_DR7, ''",
            "PRE_TDX,         LEAVE_GUEST_STATE,       'DR0 DR7'",
            "V1_SKIP_RESTORE, INIT_ON_EXIT,            ''",
            "V1_SKIP_RESTORE, RESTORE_HOST_EXCEPT_DR7, ''",
            "V1_SKIP_RESTORE, LEAVE_GUEST_STATE,       'DR0 DR7'",
            "V5_AS_POSTED,    INIT_ON_EXIT,            ''",
            "V5_AS_POSTED,    RESTORE_HOST_EXCEPT_DR7, ''",
            "V5_AS_POSTED,    LEAVE_GUEST_STATE,       'DR0 DR7'",
            "DR7_ONLY,        INIT_ON_EXIT,            ''",
            "DR7_ONLY,        RESTORE_HOST_EXCEPT_DR7, ''",
            "DR7_ONLY,        LEAVE_GUEST_STATE,       'DR0 DR7'",
            "UPSTREAM,        INIT_ON_EXIT,            ''",
            "UPSTREAM,        RESTORE_HOST_EXCEPT_DR7, ''",
            "UPSTREAM,        LEAVE_GUEST_STATE,       'DR0 DR7'",
    })
    void tdDebugRegistersAfterOneTdExitWithoutHostBreakpoints(DrSwitchPolicy policy, TdxDrBehaviour behaviour,
                                                              String leaked) {
        Outcome o = oneTdExit(policy, behaviour, false, TD_SETS_DR0_AND_DR7);
        assertEquals(regs(leaked), o.registers(Invariant.NO_LEAK), o.hw().toString());
        assertEquals(Set.of(), o.registers(Invariant.HOST_BREAKPOINTS_INTACT));
        assertEquals(TD_DR0, o.td().savedDebugRegisters().dr0(), "the TD keeps its own values");
        assertEquals(TD_DR7, o.td().savedDebugRegisters().dr7());
    }

    // ---- both: host breakpoints active and the TD sets its own DR0/DR7 ----

    @ParameterizedTest(name = "{0} x {1}: host loses [{2}], TD leaks [{3}]")
    @CsvSource({
            "PRE_TDX,         INIT_ON_EXIT,            '',            ''",
            "PRE_TDX,         RESTORE_HOST_EXCEPT_DR7, '',            ''",
            "PRE_TDX,         LEAVE_GUEST_STATE,       '',            ''",
            "V1_SKIP_RESTORE, INIT_ON_EXIT,            'DR0 DR1 DR7', ''",
            "V1_SKIP_RESTORE, RESTORE_HOST_EXCEPT_DR7, 'DR7',         ''",
            "V1_SKIP_RESTORE, LEAVE_GUEST_STATE,       'DR0 DR1 DR7', 'DR0 DR7'",
            "V5_AS_POSTED,    INIT_ON_EXIT,            '',            ''",
            "V5_AS_POSTED,    RESTORE_HOST_EXCEPT_DR7, '',            ''",
            "V5_AS_POSTED,    LEAVE_GUEST_STATE,       '',            ''",
            "DR7_ONLY,        INIT_ON_EXIT,            'DR0 DR1',     ''",
            "DR7_ONLY,        RESTORE_HOST_EXCEPT_DR7, '',            ''",
            "DR7_ONLY,        LEAVE_GUEST_STATE,       'DR0 DR1',     'DR0'",
            "UPSTREAM,        INIT_ON_EXIT,            '',            ''",
            "UPSTREAM,        RESTORE_HOST_EXCEPT_DR7, '',            ''",
            "UPSTREAM,        LEAVE_GUEST_STATE,       '',            ''",
    })
    void hostAndTdBreakpointsAfterOneTdExit(DrSwitchPolicy policy, TdxDrBehaviour behaviour, String lost, String leaked) {
        Outcome o = oneTdExit(policy, behaviour, true, TD_SETS_DR0_AND_DR7);
        assertEquals(regs(lost), o.registers(Invariant.HOST_BREAKPOINTS_INTACT), o.hw().toString());
        assertEquals(regs(leaked), o.registers(Invariant.NO_LEAK), o.hw().toString());
    }

    // ---- the review's statements, one by one ----

    @Test
    void tdExitWithInitStateLosesHostDr0UnderDr7OnlyPolicy() {
        Outcome o = oneTdExit(DR7_ONLY, INIT_ON_EXIT, true, TD_IGNORES_DRS);
        assertEquals(0, o.hw().dr0());
        assertEquals(o.host().cpuDr7(), o.hw().dr7(), "DR7 itself is restored");
    }

    @Test
    void tdExitWithHostRestoreIsCorrectUnderDr7OnlyPolicy() {
        Outcome o = oneTdExit(DR7_ONLY, RESTORE_HOST_EXCEPT_DR7, true, TD_IGNORES_DRS);
        assertEquals(o.host().expectedHardware(), o.hw());
    }

    @Test
    void v1SkipRestoreLeavesDr7At0x400UnderBothModuleBehaviours() {
        assertEquals(Dr7.RESET, oneTdExit(V1_SKIP_RESTORE, INIT_ON_EXIT, true, TD_IGNORES_DRS).hw().dr7());
        assertEquals(Dr7.RESET, oneTdExit(V1_SKIP_RESTORE, RESTORE_HOST_EXCEPT_DR7, true, TD_IGNORES_DRS).hw().dr7());
    }

    @Test
    void v1SkipRestoreUnderInitOnExitAlsoZeroesHostDr0To3() {
        DebugRegisters hw = oneTdExit(V1_SKIP_RESTORE, INIT_ON_EXIT, true, TD_IGNORES_DRS).hw();
        assertEquals(DebugRegisters.INIT, hw);
    }

    @Test
    void v5AsPostedRestoresEverythingBecauseItsExitPathIgnoresAutoSwitch() {
        for (TdxDrBehaviour b : TdxDrBehaviour.values()) {
            Outcome o = oneTdExit(V5_AS_POSTED, b, true, TD_IGNORES_DRS);
            assertEquals(o.host().expectedHardware(), o.hw(), b.name());
        }
    }

    @Test
    void upstreamAndPreTdxRestoreEverythingUnderEveryModuleBehaviour() {
        for (DrSwitchPolicy p : List.of(UPSTREAM, PRE_TDX)) {
            for (TdxDrBehaviour b : TdxDrBehaviour.values()) {
                Outcome o = oneTdExit(p, b, true, TD_SETS_DR0_AND_DR7);
                assertEquals(o.host().expectedHardware(), o.hw(), p + " " + b);
            }
        }
    }

    @Test
    void brokenModuleLeaksTheTdsDr0AndDr7ToTheHostUnderEveryPolicy() {
        for (DrSwitchPolicy p : DrSwitchPolicy.values()) {
            Outcome o = oneTdExit(p, TdxDrBehaviour.LEAVE_GUEST_STATE, false, TD_SETS_DR0_AND_DR7);
            assertEquals(TD_DR0, o.hw().dr0(), p.name());
            assertTrue(o.registers(Invariant.NO_LEAK).containsAll(Set.of("DR0", "DR7")), p.name());
        }
    }

    @Test
    void tdsOwnBreakpointsSurviveTheExitAndAreLoadedAgainAtTheNextEntryUnderEveryCell() {
        for (DrSwitchPolicy p : DrSwitchPolicy.values()) {
            for (TdxDrBehaviour b : TdxDrBehaviour.values()) {
                DebugRegisterFile cpu = new DebugRegisterFile();
                HostCpu host = new HostCpu(0);
                host.installBreakpoint(new HostBreakpoint(HOST_DR0, BreakpointType.EXECUTE, BreakpointLength.ONE), cpu);
                KvmVcpu vcpu = KvmVcpu.td(p, new TdxModule(b), new TdVcpu(TdAttributes.NON_DEBUG));
                VcpuEnterGuest.enterGuest(vcpu, host, cpu);
                TD_SETS_DR0_AND_DR7.accept(cpu);
                VcpuEnterGuest.exitGuest(vcpu, host, cpu, ExitReason.TDCALL, 0);
                DebugRegisters wrote = new DebugRegisters(TD_DR0, 0, 0, 0, Dr6.RESET, TD_DR7);
                assertEquals(List.of(), InvariantChecks.guestViewIntact(vcpu, wrote), p + " " + b);
                VcpuEnterGuest.EntryTrace again = VcpuEnterGuest.enterGuest(vcpu, host, cpu);
                assertEquals(List.of(), InvariantChecks.guestBreakpointsLoaded(vcpu, again.hwInGuest()), p + " " + b);
                assertTrue(cpu.checkInstructionFetch(TD_DR0, false, CpuMode.KERNEL_64).isPresent());
            }
        }
    }
}
