package dev.tdemu.core.kvm;

import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxDebugRefused;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.vmx.ExceptionBitmap;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.ExceptionVector;
import org.junit.jupiter.api.Test;

import static dev.tdemu.core.kvm.GuestDebug.ENABLE;
import static dev.tdemu.core.kvm.GuestDebug.SINGLESTEP;
import static dev.tdemu.core.kvm.GuestDebug.USE_HW_BP;
import static dev.tdemu.core.kvm.GuestDebug.USE_SW_BP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kvm_update_dr7, kvm_update_dr0123, KVM_SET_GUEST_DEBUG, kvm_set_dr and kvm_get_dr. */
class KvmDrStateTest {

    static final Dr7 DEBUGGER_DR7 = Dr7.RESET.withSlot(0, BreakpointType.EXECUTE, BreakpointLength.ONE, false, true);
    static final GuestDebugRequest HW_BP = new GuestDebugRequest(GuestDebug.of(ENABLE, USE_HW_BP),
            0xD000, 0xD100, 0xD200, 0xD300, DEBUGGER_DR7);

    private final KvmVcpu vcpu = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM, ExceptionBitmap.NONE);

    @Test
    void newVmxVcpuHasResetGuestViewAndKvmsVmcsSetup() {
        KvmVcpu v = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM);
        assertEquals(DebugRegisters.INIT, v.guestView());
        assertEquals(SwitchDbRegs.NONE, v.switchDbRegs());
        assertTrue(v.vmcs().movDrExiting());
        assertTrue(v.vmcs().entryControls().loadDebugControls());
        assertTrue(v.vmcs().exitControls().saveDebugControls());
        assertEquals(Dr7.RESET, v.vmcs().guestDr7());
        assertTrue(v.vmcs().exceptionBitmap().intercepts(ExceptionVector.DB), "KVM's VMX code always intercepts #DB");
    }

    @Test
    void kvmUpdateDr7WritesTheGuestsDr7ToTheVmcsWithoutUseHwBp() {
        vcpu.kvmSetDr(7, 0x4);
        assertEquals(new Dr7(0x4), vcpu.vmcs().guestDr7());
        assertEquals(new Dr7(0x4), vcpu.effectiveDr7());
    }

    @Test
    void kvmUpdateDr7WritesGuestDebugDr7ToTheVmcsWithUseHwBp() {
        vcpu.kvmSetDr(7, 0x4);
        vcpu.setGuestDebug(HW_BP);
        assertEquals(DEBUGGER_DR7, vcpu.vmcs().guestDr7());
        assertEquals(new Dr7(0x4), vcpu.dr7());
    }

    @Test
    void bpEnabledFollowsAnyLocalOrGlobalEnableBitInTheEffectiveDr7() {
        vcpu.kvmSetDr(7, 1L << 5);
        assertTrue(vcpu.switchDbRegs().bpEnabled());
        vcpu.kvmSetDr(7, Dr7.LE | Dr7.GE | Dr7.GD | (0b11L << 16));
        assertFalse(vcpu.switchDbRegs().bpEnabled());
    }

    @Test
    void kvmUpdateDr7OnATdVcpuOnlyRecordsTheEffectiveDr7() {
        KvmVcpu td = KvmVcpu.td(DrSwitchPolicy.UPSTREAM, new TdxModule(TdxDrBehaviour.INIT_ON_EXIT),
                new TdVcpu(TdAttributes.NON_DEBUG));
        td.kvmSetDr(7, 0x1);
        assertEquals(new Dr7(0x1), td.effectiveDr7());
        assertTrue(td.switchDbRegs().bpEnabled());
        assertThrows(IllegalStateException.class, td::vmcs);
    }

    @Test
    void kvmUpdateDr0123CopiesDbToEffDbAndSetsReload() {
        vcpu.kvmSetDr(0, 0x1000);
        vcpu.forceSwitchDbRegs(SwitchDbRegs.NONE);
        vcpu.kvmUpdateDr0123();
        assertEquals(0x1000, vcpu.effDb(0));
        assertTrue(vcpu.switchDbRegs().reload());
    }

    @Test
    void kvmUpdateDr0123DoesNothingWhileTheDebuggerOwnsTheRegisters() {
        vcpu.setGuestDebug(HW_BP);
        vcpu.kvmSetDr(0, 0x1000);
        vcpu.kvmUpdateDr0123();
        assertEquals(0xD000, vcpu.effDb(0));
        assertFalse(vcpu.switchDbRegs().reload());
    }

    @Test
    void setGuestDebugWithUseHwBpTakesEffDbAndGuestDebugDr7FromTheDebugger() {
        vcpu.kvmSetDr(1, 0x1111);
        vcpu.setGuestDebug(HW_BP);
        assertEquals(0xD100, vcpu.effDb(1));
        assertEquals(0x1111, vcpu.db(1));
        assertEquals(DEBUGGER_DR7, vcpu.guestDebugDr7());
        assertTrue(vcpu.switchDbRegs().bpEnabled());
    }

    @Test
    void setGuestDebugWithoutUseHwBpPutsTheGuestsDbBackIntoEffDb() {
        vcpu.kvmSetDr(1, 0x1111);
        vcpu.setGuestDebug(HW_BP);
        vcpu.setGuestDebug(GuestDebugRequest.flags(ENABLE, SINGLESTEP));
        assertEquals(0x1111, vcpu.effDb(1));
        assertEquals(Dr7.RESET, vcpu.effectiveDr7());
        assertFalse(vcpu.switchDbRegs().bpEnabled());
    }

    @Test
    void setGuestDebugWithoutEnableDropsAllFlags() {
        vcpu.setGuestDebug(GuestDebugRequest.flags(SINGLESTEP, USE_HW_BP));
        assertEquals(GuestDebug.NONE, vcpu.guestDebug());
        assertFalse(vcpu.vmcs().exceptionBitmap().intercepts(ExceptionVector.DB));
    }

    @Test
    void setGuestDebugInterceptsDebugExceptionsWithSinglestep() {
        vcpu.setGuestDebug(GuestDebugRequest.flags(ENABLE, SINGLESTEP));
        assertTrue(vcpu.vmcs().exceptionBitmap().intercepts(ExceptionVector.DB));
        assertFalse(vcpu.vmcs().exceptionBitmap().intercepts(ExceptionVector.BP));
        assertTrue(vcpu.singleStepping());
    }

    @Test
    void setGuestDebugInterceptsDebugExceptionsWithUseHwBp() {
        vcpu.setGuestDebug(HW_BP);
        assertTrue(vcpu.vmcs().exceptionBitmap().intercepts(ExceptionVector.DB));
    }

    @Test
    void setGuestDebugInterceptsBreakpointExceptionsWithUseSwBp() {
        vcpu.setGuestDebug(GuestDebugRequest.flags(ENABLE, USE_SW_BP));
        assertTrue(vcpu.vmcs().exceptionBitmap().intercepts(ExceptionVector.BP));
        assertFalse(vcpu.vmcs().exceptionBitmap().intercepts(ExceptionVector.DB));
    }

    @Test
    void disablingGuestDebugDropsTheDebuggersIntercepts() {
        vcpu.setGuestDebug(GuestDebugRequest.flags(ENABLE, SINGLESTEP, USE_SW_BP));
        vcpu.setGuestDebug(GuestDebugRequest.DISABLE);
        assertEquals(ExceptionBitmap.NONE, vcpu.vmcs().exceptionBitmap());
    }

    @Test
    void aVcpuThatItselfInterceptsDebugExceptionsKeepsTheInterceptWhenDebuggingStops() {
        KvmVcpu v = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM, ExceptionBitmap.of(ExceptionVector.DB));
        v.setGuestDebug(GuestDebugRequest.flags(ENABLE, SINGLESTEP));
        v.setGuestDebug(GuestDebugRequest.DISABLE);
        assertTrue(v.vmcs().exceptionBitmap().intercepts(ExceptionVector.DB));
    }

    @Test
    void kvmSetDrOfDr0To3UpdatesDbAndEffDb() {
        assertTrue(vcpu.kvmSetDr(2, 0x2222));
        assertEquals(0x2222, vcpu.db(2));
        assertEquals(0x2222, vcpu.effDb(2));
        assertEquals(0x2222, vcpu.kvmGetDr(2));
    }

    @Test
    void kvmSetDrOfDr0To3UnderUseHwBpUpdatesOnlyDb() {
        vcpu.setGuestDebug(HW_BP);
        vcpu.kvmSetDr(2, 0x2222);
        assertEquals(0x2222, vcpu.db(2));
        assertEquals(0xD200, vcpu.effDb(2));
    }

    @Test
    void kvmSetDrOfDr6KeepsItsFixedBits() {
        vcpu.kvmSetDr(6, 0x1_0001L & 0xFFFF_FFFFL);
        assertEquals(0xFFFF_0FF1L, vcpu.dr6().value());
        assertEquals(0xFFFF_0FF1L, vcpu.kvmGetDr(6));
    }

    @Test
    void kvmSetDrOfDr6WithBits63To32IsRefusedForGp() {
        assertFalse(vcpu.kvmSetDr(6, 1L << 32));
        assertEquals(Dr6.RESET, vcpu.dr6());
    }

    @Test
    void kvmSetDrOfDr7UpdatesDr7AndTheVmcs() {
        assertTrue(vcpu.kvmSetDr(7, 0x2));
        assertEquals(new Dr7(0x2), vcpu.dr7());
        assertEquals(new Dr7(0x2), vcpu.vmcs().guestDr7());
        assertEquals(0x402, vcpu.kvmGetDr(7));
    }

    @Test
    void kvmSetDrOfDr7WithBits63To32IsRefusedForGp() {
        assertFalse(vcpu.kvmSetDr(7, 1L << 40));
        assertEquals(Dr7.RESET, vcpu.dr7());
    }

    @Test
    void kvmDr4AndDr5AreDr6AndDr7() {
        vcpu.kvmSetDr(4, 0x1);
        vcpu.kvmSetDr(5, 0x3);
        assertEquals(0xFFFF_0FF1L, vcpu.kvmGetDr(6));
        assertEquals(0x403L, vcpu.kvmGetDr(7));
        assertEquals(vcpu.kvmGetDr(6), vcpu.kvmGetDr(4));
        assertEquals(vcpu.kvmGetDr(7), vcpu.kvmGetDr(5));
    }

    // ---- TD vCPUs ----

    private static KvmVcpu tdVcpu(DrSwitchPolicy policy, TdAttributes attrs) {
        return KvmVcpu.td(policy, new TdxModule(TdxDrBehaviour.INIT_ON_EXIT), new TdVcpu(attrs));
    }

    @Test
    void tdVcpuStartsWithAutoSwitch() {
        for (DrSwitchPolicy p : DrSwitchPolicy.values()) {
            if (p != DrSwitchPolicy.PRE_TDX) {
                assertEquals(SwitchDbRegs.of(SwitchDbRegs.AUTO_SWITCH), tdVcpu(p, TdAttributes.NON_DEBUG).switchDbRegs(), p.name());
            }
        }
    }

    @Test
    void tdVcpuUnderPreTdxHasNoAutoSwitchBecauseTheFlagDoesNotExist() {
        assertEquals(SwitchDbRegs.NONE, tdVcpu(DrSwitchPolicy.PRE_TDX, TdAttributes.NON_DEBUG).switchDbRegs());
    }

    @Test
    void tdVcpuKeepsAutoSwitchThroughDrUpdates() {
        KvmVcpu td = tdVcpu(DrSwitchPolicy.UPSTREAM, TdAttributes.DEBUG_TD);
        td.setGuestDebug(HW_BP);
        td.kvmUpdateDr0123();
        td.setGuestDebug(GuestDebugRequest.DISABLE);
        assertTrue(td.switchDbRegs().autoSwitch());
    }

    @Test
    void hardwareBreakpointsOnANonDebugTdAreRefusedAndChangeNothing() {
        KvmVcpu td = tdVcpu(DrSwitchPolicy.UPSTREAM, TdAttributes.NON_DEBUG);
        assertThrows(TdxDebugRefused.class, () -> td.setGuestDebug(HW_BP));
        assertThrows(TdxDebugRefused.class, () -> td.setGuestDebug(GuestDebugRequest.flags(ENABLE, SINGLESTEP)));
        assertEquals(GuestDebug.NONE, td.guestDebug());
        assertEquals(SwitchDbRegs.of(SwitchDbRegs.AUTO_SWITCH), td.switchDbRegs());
        assertEquals(0, td.effDb(0));
    }

    @Test
    void hardwareBreakpointsOnADebugTdGoIntoTheTdsDrsAndDebugIntercept() {
        KvmVcpu td = tdVcpu(DrSwitchPolicy.UPSTREAM, TdAttributes.DEBUG_TD);
        td.setGuestDebug(HW_BP);
        DebugRegisters saved = td.tdVcpu().savedDebugRegisters();
        assertEquals(0xD000, saved.dr0());
        assertEquals(0xD300, saved.dr3());
        assertEquals(DEBUGGER_DR7, saved.dr7());
        assertTrue(td.tdVcpu().exceptionBitmap().intercepts(ExceptionVector.DB));
        assertTrue(td.switchDbRegs().bpEnabled());
    }

    @Test
    void endingHardwareBreakpointsOnADebugTdGivesTheTdBackItsOwnDrs() {
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        TdVcpu tdv = new TdVcpu(TdAttributes.DEBUG_TD);
        module.debugWriteDr(tdv, 1, 0x7100);
        module.debugWriteDr(tdv, 7, 0x4);
        KvmVcpu td = KvmVcpu.td(DrSwitchPolicy.UPSTREAM, module, tdv);
        td.setGuestDebug(HW_BP);
        td.setGuestDebug(GuestDebugRequest.DISABLE);
        assertEquals(0x7100, tdv.savedDebugRegisters().dr1());
        assertEquals(new Dr7(0x4), tdv.savedDebugRegisters().dr7());
        assertFalse(tdv.exceptionBitmap().intercepts(ExceptionVector.DB));
        assertEquals(DebugRegisters.INIT, td.guestView(), "KVM does not track a TD's own DRs");
    }
}
