package dev.tdemu.core.kvm;

import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.vmx.DebugExitQualification;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.core.x86.PendingDebug;
import org.junit.jupiter.api.Test;

import static dev.tdemu.core.kvm.KvmDrStateTest.DEBUGGER_DR7;
import static dev.tdemu.core.kvm.KvmDrStateTest.HW_BP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** The #DB exit handler: debugger's hit or the guest's. */
class HandleDebugExceptionTest {

    private final KvmVcpu vcpu = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM);

    private static DebugExitQualification q(PendingDebug p) {
        return new DebugExitQualification(p);
    }

    @Test
    void withoutADebuggerTheDebugExceptionIsReinjectedWithTheNewSlotBitsReplacingOldOnesInTheGuestsDr6() {
        vcpu.kvmSetDr(6, 0b0100 | Dr6.BS);
        DebugExceptionResult r = vcpu.handleDebugException(q(PendingDebug.ofSlots(0b0001)), 0x1000);
        Dr6 expected = new Dr6(0b0001 | Dr6.BS);
        assertEquals(new DebugExceptionResult.Reinject(expected), r);
        assertEquals(expected, vcpu.dr6());
        assertEquals(0xFFFF_4FF1L, vcpu.dr6().value(), "fixed bits and the sticky BS kept, B2 replaced by B0");
    }

    @Test
    void reinjectionClearsTheGuestsGdAsDeliveryWould() {
        vcpu.kvmSetDr(7, Dr7.GD);
        vcpu.handleDebugException(q(PendingDebug.singleStep()), 0);
        assertFalse(vcpu.dr7().gd());
        assertFalse(vcpu.vmcs().guestDr7().gd());
    }

    @Test
    void hitOnASlotTheDebuggerEnabledIsReportedWithDr6Dr7AndRip() {
        vcpu.setGuestDebug(HW_BP);
        DebugExceptionResult r = vcpu.handleDebugException(q(PendingDebug.ofSlots(0b0001)), 0xD000);
        assertEquals(new DebugExceptionResult.ReportToDebugger(
                new DebugStop(ExceptionVector.DB, 0xD000, new Dr6(0b0001), DEBUGGER_DR7)), r);
        assertEquals(Dr6.RESET, vcpu.dr6(), "the guest's DR6 is untouched");
    }

    @Test
    void singleStepIsReportedToTheDebuggerUnderSinglestep() {
        vcpu.setGuestDebug(GuestDebugRequest.flags(GuestDebug.ENABLE, GuestDebug.SINGLESTEP));
        DebugExceptionResult r = vcpu.handleDebugException(q(PendingDebug.singleStep()), 0x1003);
        DebugStop stop = assertInstanceOf(DebugExceptionResult.ReportToDebugger.class, r).stop();
        assertEquals(0x1003, stop.rip());
        assertEquals(0xFFFF_0FF0L | Dr6.BS, stop.dr6().value());
    }

    @Test
    void guestsOwnSingleStepUnderUseHwBpGoesBackToTheGuestWithoutTheDebuggersBBits() {
        vcpu.setGuestDebug(HW_BP);
        // BS from the guest's TF, plus B2 for a disabled debugger slot that happened to match.
        DebugExceptionResult r = vcpu.handleDebugException(q(PendingDebug.singleStep().or(PendingDebug.ofSlots(0b0100))), 0);
        assertEquals(new DebugExceptionResult.Reinject(new Dr6(Dr6.BS)), r);
    }

    @Test
    void dataBreakpointOfTheGuestUnderSinglestepAloneGoesBackToTheGuest() {
        vcpu.setGuestDebug(GuestDebugRequest.flags(GuestDebug.ENABLE, GuestDebug.SINGLESTEP));
        assertInstanceOf(DebugExceptionResult.Reinject.class, vcpu.handleDebugException(q(PendingDebug.ofSlots(0b1000)), 0));
        assertEquals(0b1000, vcpu.dr6().bMask());
    }

    @Test
    void icebpWithNoConditionsGoesBackToTheGuestUnchanged() {
        vcpu.setGuestDebug(HW_BP);
        assertEquals(new DebugExceptionResult.Reinject(Dr6.RESET), vcpu.handleDebugException(q(PendingDebug.NONE), 0));
    }

    @Test
    void debugTdsGuestDebugExceptionUpdatesTheTdsDr6ThroughTheModule() {
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        TdVcpu tdv = new TdVcpu(TdAttributes.DEBUG_TD);
        KvmVcpu td = KvmVcpu.td(DrSwitchPolicy.UPSTREAM, module, tdv);
        td.setGuestDebug(GuestDebugRequest.flags(GuestDebug.ENABLE, GuestDebug.SINGLESTEP));
        DebugExceptionResult r = td.handleDebugException(q(PendingDebug.ofSlots(0b0010)), 0);
        assertEquals(new DebugExceptionResult.Reinject(new Dr6(0b0010)), r);
        assertEquals(new Dr6(0b0010), tdv.savedDebugRegisters().dr6());
    }
}
