package dev.tdemu.core.kvm;

import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.vmx.MovDrDirection;
import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.ExceptionVector;
import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static dev.tdemu.core.kvm.KvmDrStateTest.DEBUGGER_DR7;
import static dev.tdemu.core.kvm.KvmDrStateTest.HW_BP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** handle_dr: the MOV-DR exit handler. */
class HandleDrTest {

    private static final CpuMode K = CpuMode.KERNEL_64;
    private final KvmVcpu vcpu = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM);

    private static MovDrQualification to(int dr, int gpr) {
        return new MovDrQualification(dr, MovDrDirection.TO_DR, gpr);
    }

    private static MovDrQualification from(int dr, int gpr) {
        return new MovDrQualification(dr, MovDrDirection.FROM_DR, gpr);
    }

    @Test
    void withoutADebuggerTheFirstMovDrSwitchesLazilyAndReexecutes() {
        HandleDrResult r = vcpu.handleDr(to(0, 1), K, 0x1234, 0x1000);
        assertInstanceOf(HandleDrResult.ReExecute.class, r);
        assertFalse(vcpu.vmcs().movDrExiting());
        assertTrue(vcpu.switchDbRegs().wontExit());
        assertEquals(0, vcpu.db(0), "the access itself is not emulated; the guest re-executes it on hardware");
    }

    @Test
    void singlestepAloneDoesNotOwnTheDrsSoTheSwitchIsStillLazy() {
        vcpu.setGuestDebug(GuestDebugRequest.flags(GuestDebug.ENABLE, GuestDebug.SINGLESTEP));
        assertInstanceOf(HandleDrResult.ReExecute.class, vcpu.handleDr(from(7, 0), K, 0, 0));
    }

    @Test
    void guestGdInjectsDebugExceptionWithBdAndClearsGd() {
        vcpu.kvmSetDr(7, Dr7.GD | 0x1);
        HandleDrResult r = vcpu.handleDr(from(0, 0), K, 0, 0x1000);
        HandleDrResult.InjectDb inj = assertInstanceOf(HandleDrResult.InjectDb.class, r);
        assertEquals(0xFFFF_0FF0L | Dr6.BD, inj.guestDr6().value());
        assertEquals(inj.guestDr6(), vcpu.dr6());
        assertFalse(vcpu.dr7().gd());
        assertTrue(vcpu.dr7().localEnable(0));
        assertFalse(vcpu.vmcs().guestDr7().gd(), "the next entry must not fault again");
        assertTrue(vcpu.vmcs().movDrExiting(), "GD is honoured before any lazy switch");
        assertFalse(vcpu.switchDbRegs().wontExit());
    }

    @Test
    void guestGdIsHonouredEvenWhileTheDebuggerOwnsTheDrs() {
        vcpu.kvmSetDr(7, Dr7.GD);
        vcpu.setGuestDebug(HW_BP);
        assertInstanceOf(HandleDrResult.InjectDb.class, vcpu.handleDr(from(0, 0), K, 0, 0));
        assertEquals(DEBUGGER_DR7, vcpu.effectiveDr7());
    }

    @Test
    void debuggersGdIsReportedToTheDebugger() {
        vcpu.setGuestDebug(new GuestDebugRequest(HW_BP.control(), 0, 0, 0, 0, DEBUGGER_DR7.withGd(true)));
        HandleDrResult r = vcpu.handleDr(from(0, 0), K, 0, 0x4000);
        DebugStop stop = assertInstanceOf(HandleDrResult.ReportToDebugger.class, r).stop();
        assertEquals(new DebugStop(ExceptionVector.DB, 0x4000, new Dr6(Dr6.BD), DEBUGGER_DR7.withGd(true)), stop);
    }

    @Test
    void movDrAtCplAboveZeroInjectsGp() {
        assertInstanceOf(HandleDrResult.InjectGp.class, vcpu.handleDr(to(0, 0), CpuMode.USER_64, 0, 0));
    }

    @Test
    void movDr4WithCr4DeInjectsUd() {
        assertInstanceOf(HandleDrResult.InjectUd.class, vcpu.handleDr(from(4, 0), K, 0, 0));
    }

    @Test
    void withUseHwBpMovFromDrIsEmulatedFromTheGuestsView() {
        vcpu.kvmSetDr(3, 0x3333);
        vcpu.setGuestDebug(HW_BP);
        HandleDrResult r = vcpu.handleDr(from(3, 5), K, 0, 0);
        assertEquals(new HandleDrResult.Emulated(5, OptionalLong.of(0x3333)), r);
        assertTrue(vcpu.vmcs().movDrExiting());
        assertFalse(vcpu.switchDbRegs().wontExit());
    }

    @Test
    void withUseHwBpMovToDrUpdatesTheGuestsViewWithoutDisturbingEffDb() {
        vcpu.setGuestDebug(HW_BP);
        assertEquals(new HandleDrResult.Emulated(2, OptionalLong.empty()), vcpu.handleDr(to(0, 2), K, 0x9000, 0));
        assertEquals(new HandleDrResult.Emulated(2, OptionalLong.empty()), vcpu.handleDr(to(7, 2), K, 0x1, 0));
        assertEquals(0x9000, vcpu.db(0));
        assertEquals(new Dr7(0x1), vcpu.dr7());
        assertEquals(0xD000, vcpu.effDb(0));
        assertEquals(DEBUGGER_DR7, vcpu.effectiveDr7());
        assertEquals(DEBUGGER_DR7, vcpu.vmcs().guestDr7());
    }

    @Test
    void withUseHwBpMovToDr7WithReservedBitsInjectsGp() {
        vcpu.setGuestDebug(HW_BP);
        assertInstanceOf(HandleDrResult.InjectGp.class, vcpu.handleDr(to(7, 0), K, 1L << 32, 0));
    }

    @Test
    void withUseHwBpDr4AliasesDr6WhenCr4DeIsClear() {
        vcpu.kvmSetDr(6, 0x2);
        vcpu.setGuestDebug(HW_BP);
        assertEquals(new HandleDrResult.Emulated(0, OptionalLong.of(0xFFFF_0FF2L)),
                vcpu.handleDr(from(4, 0), new CpuMode(0, false, true), 0, 0));
    }

    @Test
    void tdVcpusHaveNoMovDrExits() {
        KvmVcpu td = KvmVcpu.td(DrSwitchPolicy.UPSTREAM, new TdxModule(TdxDrBehaviour.INIT_ON_EXIT),
                new TdVcpu(TdAttributes.NON_DEBUG));
        assertThrows(IllegalStateException.class, () -> td.handleDr(from(0, 0), K, 0, 0));
    }
}
