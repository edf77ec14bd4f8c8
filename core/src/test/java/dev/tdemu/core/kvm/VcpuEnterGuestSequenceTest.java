package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.DrOperation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static dev.tdemu.core.kvm.KvmDrStateTest.HW_BP;
import static dev.tdemu.core.x86.DrOperation.get;
import static dev.tdemu.core.x86.DrOperation.set;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exact DR operations of vcpu_enter_guest before entry and after exit. */
class VcpuEnterGuestSequenceTest {

    static final long HOST_DR0 = 0xFFFF_FFFF_8100_0000L;
    static final long HOST_DR1 = 0xFFFF_8880_0000_1000L;

    private final DebugRegisterFile cpu = new DebugRegisterFile();
    private final HostCpu host = new HostCpu(0);
    private final HostCpu idleHost = new HostCpu(1);

    private void armHost() {
        host.installBreakpoint(new HostBreakpoint(HOST_DR0, BreakpointType.EXECUTE, BreakpointLength.ONE), cpu);
        host.installBreakpoint(new HostBreakpoint(HOST_DR1, BreakpointType.WRITE, BreakpointLength.EIGHT), cpu);
    }

    private List<DrOperation> fullRestore() {
        return List.of(set(0, HOST_DR0), set(1, HOST_DR1), set(2, 0), set(3, 0), set(6, 0xFFFF_0FF0L),
                set(7, host.cpuDr7().value()));
    }

    private static KvmVcpu guestWithBreakpoints(DrSwitchPolicy p) {
        KvmVcpu v = KvmVcpu.vmx(p);
        v.kvmSetDr(0, 0xA0);
        v.kvmSetDr(1, 0xA1);
        v.kvmSetDr(2, 0xA2);
        v.kvmSetDr(3, 0xA3);
        v.kvmSetDr(7, 0x1);
        v.kvmUpdateDr0123();
        return v;
    }

    private static KvmVcpu td(DrSwitchPolicy p, TdAttributes attrs) {
        return KvmVcpu.td(p, new TdxModule(TdxDrBehaviour.INIT_ON_EXIT), new TdVcpu(attrs));
    }

    @ParameterizedTest
    @EnumSource(DrSwitchPolicy.class)
    void beforeEntryWithBpEnabledClearsDr7FirstThenLoadsEffDbAndClearsReload(DrSwitchPolicy p) {
        KvmVcpu v = guestWithBreakpoints(p);
        DrSequence seq = VcpuEnterGuest.beforeEntry(v, idleHost, cpu);
        assertEquals(List.of(set(7, 0x400), set(0, 0xA0), set(1, 0xA1), set(2, 0xA2), set(3, 0xA3)), seq.operations());
        assertFalse(v.switchDbRegs().reload());
        assertTrue(v.switchDbRegs().bpEnabled());
    }

    @Test
    void beforeEntryWithWontExitAlsoLoadsTheGuestsDr6Last() {
        KvmVcpu v = guestWithBreakpoints(DrSwitchPolicy.UPSTREAM);
        v.kvmSetDr(6, 0x1);
        v.forceSwitchDbRegs(v.switchDbRegs().with(SwitchDbRegs.WONT_EXIT));
        assertEquals(List.of(set(7, 0x400), set(0, 0xA0), set(1, 0xA1), set(2, 0xA2), set(3, 0xA3), set(6, 0xFFFF_0FF1L)),
                VcpuEnterGuest.beforeEntry(v, idleHost, cpu).operations());
    }

    @ParameterizedTest
    @EnumSource(DrSwitchPolicy.class)
    void beforeEntryWithNothingToLoadOnlyClearsDr7WhenHostBreakpointsAreActive(DrSwitchPolicy p) {
        armHost();
        assertEquals(List.of(set(7, 0x400)), VcpuEnterGuest.beforeEntry(KvmVcpu.vmx(p), host, cpu).operations());
        assertEquals(HOST_DR0, cpu.dr(0), "DR0-3 stay the host's");
    }

    @ParameterizedTest
    @EnumSource(DrSwitchPolicy.class)
    void beforeEntryWithNothingToLoadAndNoHostBreakpointsDoesNothing(DrSwitchPolicy p) {
        assertTrue(VcpuEnterGuest.beforeEntry(KvmVcpu.vmx(p), idleHost, cpu).isEmpty());
    }

    @ParameterizedTest
    @EnumSource(DrSwitchPolicy.class)
    void afterExitRestoresAllHostRegistersWhenHostBreakpointsAreActiveForVmx(DrSwitchPolicy p) {
        armHost();
        assertEquals(fullRestore(), VcpuEnterGuest.afterExit(guestWithBreakpoints(p), host, cpu).operations());
        assertEquals(host.expectedHardware(), cpu.snapshot());
    }

    /**
     * A phase that did nothing is skipped while what its conditions test keeps its values
     * (PolicyExecutor): the same vCPU, entered and left again and again, must still do its work
     * as soon as the host's breakpoints or switch_db_regs change, and stop when they change back.
     */
    @ParameterizedTest
    @EnumSource(DrSwitchPolicy.class)
    void aPhaseThatDidNothingDoesItsWorkAgainAsSoonAsWhatItTestsChanges(DrSwitchPolicy p) {
        KvmVcpu v = KvmVcpu.vmx(p);
        for (int round = 0; round < 3; round++) {
            assertTrue(VcpuEnterGuest.beforeEntry(v, host, cpu).isEmpty(), "no host breakpoints, nothing to load");
            assertTrue(VcpuEnterGuest.afterExit(v, host, cpu).isEmpty());
        }
        armHost();
        for (int round = 0; round < 2; round++) {
            assertEquals(List.of(set(7, 0x400)), VcpuEnterGuest.beforeEntry(v, host, cpu).operations());
            assertEquals(fullRestore(), VcpuEnterGuest.afterExit(v, host, cpu).operations());
        }
        host.uninstallBreakpoint(0, cpu);
        host.uninstallBreakpoint(1, cpu);
        assertTrue(VcpuEnterGuest.beforeEntry(v, host, cpu).isEmpty(), "the host's breakpoints gone again");
        assertTrue(VcpuEnterGuest.afterExit(v, host, cpu).isEmpty());
        v.kvmSetDr(0, 0xA0);
        v.kvmSetDr(7, 0x1);
        v.kvmUpdateDr0123();
        assertEquals(List.of(set(7, 0x400), set(0, 0xA0), set(1, 0), set(2, 0), set(3, 0)),
                VcpuEnterGuest.beforeEntry(v, host, cpu).operations(), "the guest's breakpoint armed: BP_ENABLED");
    }

    @ParameterizedTest
    @EnumSource(DrSwitchPolicy.class)
    void afterExitDoesNothingWithoutHostBreakpointsOrWontExit(DrSwitchPolicy p) {
        assertTrue(VcpuEnterGuest.afterExit(guestWithBreakpoints(p), idleHost, cpu).isEmpty());
    }

    @Test
    void afterExitWithWontExitSyncsDr0To3AndDr6FromHardwareAndDr7FromTheVmcsThenRestoresTheHost() {
        armHost();
        KvmVcpu v = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM);
        v.forceSwitchDbRegs(SwitchDbRegs.of(SwitchDbRegs.WONT_EXIT));
        v.vmcs().setMovDrExiting(false);
        cpu.load(new DebugRegisters(0xB0, 0xB1, 0xB2, 0xB3, new Dr6(Dr6.BS), Dr7.RESET));
        v.vmcs().setGuestDr7(new Dr7(0x4));
        DrSequence seq = VcpuEnterGuest.afterExit(v, host, cpu);
        List<DrOperation> expected = new java.util.ArrayList<>(List.of(get(0, 0xB0), get(1, 0xB1), get(2, 0xB2),
                get(3, 0xB3), get(6, 0xFFFF_0FF0L | Dr6.BS)));
        expected.addAll(fullRestore());
        assertEquals(expected, seq.operations());
        assertEquals(new DebugRegisters(0xB0, 0xB1, 0xB2, 0xB3, new Dr6(Dr6.BS), new Dr7(0x4)), v.guestView());
        assertEquals(0xB2, v.effDb(2));
        assertEquals(SwitchDbRegs.of(SwitchDbRegs.BP_ENABLED, SwitchDbRegs.RELOAD), v.switchDbRegs());
        assertTrue(v.vmcs().movDrExiting());
        assertTrue(v.warnings().isEmpty());
    }

    @Test
    void v5AsPostedWithBpEnabledAndAutoSwitchLoadsEffDbIntoHardwareBeforeTdEntry() {
        KvmVcpu v = td(DrSwitchPolicy.V5_AS_POSTED, TdAttributes.DEBUG_TD);
        v.setGuestDebug(HW_BP);
        assertEquals(SwitchDbRegs.of(SwitchDbRegs.BP_ENABLED, SwitchDbRegs.AUTO_SWITCH), v.switchDbRegs());
        assertEquals(List.of(set(7, 0x400), set(0, 0xD000), set(1, 0xD100), set(2, 0xD200), set(3, 0xD300)),
                VcpuEnterGuest.beforeEntry(v, idleHost, cpu).operations());
    }

    @Test
    void upstreamWithBpEnabledAndAutoSwitchDoesNotLoadEffDbBeforeTdEntry() {
        KvmVcpu v = td(DrSwitchPolicy.UPSTREAM, TdAttributes.DEBUG_TD);
        v.setGuestDebug(HW_BP);
        assertTrue(VcpuEnterGuest.beforeEntry(v, idleHost, cpu).isEmpty());
        armHost();
        assertEquals(List.of(set(7, 0x400)), VcpuEnterGuest.beforeEntry(v, host, cpu).operations());
    }

    @Test
    void v1SkipRestoreDoesNothingAfterATdExitEvenWithHostBreakpointsActive() {
        armHost();
        assertTrue(VcpuEnterGuest.afterExit(td(DrSwitchPolicy.V1_SKIP_RESTORE, TdAttributes.NON_DEBUG), host, cpu).isEmpty());
    }

    @Test
    void dr7OnlyRestoresOnlyCpuDr7AfterATdExit() {
        armHost();
        assertEquals(List.of(set(7, host.cpuDr7().value())),
                VcpuEnterGuest.afterExit(td(DrSwitchPolicy.DR7_ONLY, TdAttributes.NON_DEBUG), host, cpu).operations());
    }

    @ParameterizedTest
    @EnumSource(value = DrSwitchPolicy.class, names = {"PRE_TDX", "V5_AS_POSTED", "UPSTREAM"})
    void fullRestoreAfterATdExitForPreTdxV5AndUpstream(DrSwitchPolicy p) {
        armHost();
        assertEquals(fullRestore(), VcpuEnterGuest.afterExit(td(p, TdAttributes.NON_DEBUG), host, cpu).operations());
    }

    @Test
    void wontExitWithAutoSwitchRecordsTheWarnOnInsteadOfThrowing() {
        KvmVcpu v = td(DrSwitchPolicy.UPSTREAM, TdAttributes.NON_DEBUG);
        v.forceSwitchDbRegs(SwitchDbRegs.of(SwitchDbRegs.AUTO_SWITCH, SwitchDbRegs.WONT_EXIT));
        assertDoesNotThrow(() -> VcpuEnterGuest.afterExit(v, idleHost, cpu));
        assertEquals(List.of(new KvmWarning("vcpu_enter_guest", "vcpu->arch.switch_db_regs & KVM_DEBUGREG_AUTO_SWITCH")),
                v.warnings());
        assertFalse(v.switchDbRegs().wontExit());
        assertTrue(v.switchDbRegs().autoSwitch());
        assertEquals(v.effectiveDr7(), v.dr7(), "a TD has no VMCS: the sync takes the recorded effective DR7");
    }

    @Test
    void wontExitWithUseHwBpRecordsTheWarnOn() {
        KvmVcpu v = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM);
        v.setGuestDebug(HW_BP);
        v.forceSwitchDbRegs(v.switchDbRegs().with(SwitchDbRegs.WONT_EXIT));
        VcpuEnterGuest.afterExit(v, idleHost, cpu);
        assertEquals(List.of(new KvmWarning("vcpu_enter_guest", "vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP")),
                v.warnings());
    }

    @Test
    void enterAndExitTracesSnapshotTheHardwareAroundEachStep() {
        armHost();
        KvmVcpu v = guestWithBreakpoints(DrSwitchPolicy.UPSTREAM);
        VcpuEnterGuest.EntryTrace in = VcpuEnterGuest.enterGuest(v, host, cpu);
        assertEquals(host.expectedHardware(), in.hwBeforeSequence());
        assertEquals(Dr7.RESET, in.hwAfterSequence().dr7());
        assertEquals(new Dr7(0x1), in.hwInGuest().dr7());
        VcpuEnterGuest.ExitTrace out = VcpuEnterGuest.exitGuest(v, host, cpu, dev.tdemu.core.vmx.ExitReason.HLT, 0);
        assertEquals(Dr7.RESET, out.hwAtExit().dr7());
        assertEquals(0xA0, out.hwAtExit().dr0());
        assertEquals(host.expectedHardware(), out.hwAfterSequence());
    }
}
