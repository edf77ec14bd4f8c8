package dev.tdemu.core.invariant;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.kvm.DebugExceptionResult;
import dev.tdemu.core.kvm.DebugStop;
import dev.tdemu.core.kvm.DrSwitchPolicy;
import dev.tdemu.core.kvm.GuestDebug;
import dev.tdemu.core.kvm.GuestDebugRequest;
import dev.tdemu.core.kvm.KvmVcpu;
import dev.tdemu.core.kvm.VcpuEnterGuest;
import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.vmx.DebugExitQualification;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.vmx.VmxHardware;
import dev.tdemu.core.x86.Access;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DataAccessKind;
import dev.tdemu.core.x86.DebugException;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.proto.InvariantVerdict;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InvariantChecksTest {

    private static final CpuMode K = CpuMode.KERNEL_64;
    private static final long H0 = 0xFFFF_FFFF_8100_0000L;

    private final HostCpu host = new HostCpu(0);

    private HostCpu hostWithSlot0() {
        host.registerBreakpoint(new HostBreakpoint(H0, BreakpointType.EXECUTE, BreakpointLength.ONE));
        return host;
    }

    // ---- HOST_BREAKPOINTS_INTACT ----

    @Test
    void hostInvariantHoldsTriviallyWithoutActiveHostBreakpoints() {
        assertEquals(List.of(), InvariantChecks.hostBreakpointsIntact(host, new DebugRegisters(1, 2, 3, 4, Dr6.RESET, new Dr7(0xFF))));
    }

    @Test
    void hostInvariantHoldsWhenHardwareEqualsCpuDebugregAndCpuDr7() {
        hostWithSlot0();
        assertEquals(List.of(), InvariantChecks.hostBreakpointsIntact(host, host.expectedHardware()));
    }

    @Test
    void hostInvariantIgnoresSlotsTheHostDoesNotUse() {
        hostWithSlot0();
        assertEquals(List.of(), InvariantChecks.hostBreakpointsIntact(host, host.expectedHardware().withDr(3, 0x1234)));
    }

    @Test
    void hostInvariantNamesTheLostRegisterWithExpectedAndActualValues() {
        hostWithSlot0();
        List<Violation> v = InvariantChecks.hostBreakpointsIntact(host, host.expectedHardware().withDr(0, 0).withDr7(Dr7.RESET));
        assertEquals(2, v.size());
        assertEquals(Invariant.HOST_BREAKPOINTS_INTACT, v.get(0).invariant());
        assertEquals("DR0: expected 0xffffffff81000000 (cpu_debugreg[0]), actual 0x0", v.get(0).detail());
        assertTrue(v.get(1).detail().startsWith("DR7: expected 0x"), v.get(1).detail());
        assertTrue(v.get(1).detail().endsWith("actual 0x400"), v.get(1).detail());
    }

    // ---- GUEST_BREAKPOINTS_INTACT ----

    @Test
    void guestViewMustEqualWhatTheGuestLastWrote() {
        KvmVcpu vcpu = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM);
        vcpu.kvmSetDr(1, 0x1111);
        DebugRegisters wrote = DebugRegisters.INIT.withDr(1, 0x1111);
        assertEquals(List.of(), InvariantChecks.guestViewIntact(vcpu, wrote));
        List<Violation> v = InvariantChecks.guestViewIntact(vcpu, wrote.withDr(1, 0x2222));
        assertEquals(List.of(new Violation(Invariant.GUEST_BREAKPOINTS_INTACT,
                "DR1 (guest view): expected 0x2222, actual 0x1111")), v);
    }

    @Test
    void tdGuestViewIsTheTdsSavedState() {
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        TdVcpu tdv = new TdVcpu(TdAttributes.NON_DEBUG);
        KvmVcpu vcpu = KvmVcpu.td(DrSwitchPolicy.UPSTREAM, module, tdv);
        DebugRegisterFile cpu = new DebugRegisterFile();
        module.tdhVpEnter(tdv, cpu);
        cpu.movToDr(K, 2, 0x2000);
        module.tdExit(tdv, cpu);
        assertEquals(List.of(), InvariantChecks.guestViewIntact(vcpu, DebugRegisters.INIT.withDr(2, 0x2000)));
        assertEquals(1, InvariantChecks.guestViewIntact(vcpu, DebugRegisters.INIT).size());
    }

    @Test
    void atEntryTheHardwareMustHoldEffDbForEnabledSlotsAndTheEffectiveDr7() {
        KvmVcpu vcpu = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM);
        vcpu.kvmSetDr(0, 0xA0);
        vcpu.kvmSetDr(7, 0x1);
        DebugRegisters good = new DebugRegisters(0xA0, 0x999, 0, 0, Dr6.RESET, new Dr7(0x1));
        assertEquals(List.of(), InvariantChecks.guestBreakpointsLoaded(vcpu, good), "DR1 is not enabled");
        List<Violation> v = InvariantChecks.guestBreakpointsLoaded(vcpu, good.withDr(0, 0xB0).withDr7(Dr7.RESET));
        assertEquals(List.of("DR0 at guest entry: expected 0xa0 (effDb[0]), actual 0xb0",
                "DR7 at guest entry: expected 0x401 (effective DR7), actual 0x400"), v.stream().map(Violation::detail).toList());
    }

    // ---- NO_LEAK ----

    private static TdVcpu tdWith(DebugRegisters regs, TdAttributes attrs) {
        TdxModule module = new TdxModule(TdxDrBehaviour.LEAVE_GUEST_STATE);
        TdVcpu tdv = new TdVcpu(attrs);
        DebugRegisterFile cpu = new DebugRegisterFile();
        module.tdhVpEnter(tdv, cpu);
        cpu.load(regs);
        module.tdExit(tdv, cpu);
        return tdv;
    }

    @Test
    void noLeakFlagsATdValueInAPhysicalAddressRegister() {
        TdVcpu td = tdWith(DebugRegisters.INIT.withDr(2, 0x7000), TdAttributes.NON_DEBUG);
        List<Violation> v = InvariantChecks.noLeakAfterExit(td, host, DebugRegisters.INIT.withDr(2, 0x7000));
        assertEquals(List.of(new Violation(Invariant.NO_LEAK,
                "DR2 after TD exit: holds the TD's value 0x7000; expected 0 or the host's 0x0")), v);
    }

    @Test
    void noLeakAcceptsZeroAndTheHostsOwnValue() {
        hostWithSlot0();
        TdVcpu td = tdWith(DebugRegisters.INIT.withDr(0, H0), TdAttributes.NON_DEBUG);
        assertEquals(List.of(), InvariantChecks.noLeakAfterExit(td, host, host.expectedHardware()));
        assertEquals(List.of(), InvariantChecks.noLeakAfterExit(tdWith(DebugRegisters.INIT, TdAttributes.NON_DEBUG), host,
                DebugRegisters.INIT));
    }

    @Test
    void noLeakFlagsDr7EnableBitsTheHostDidNotSet() {
        hostWithSlot0();   // G0
        TdVcpu td = tdWith(DebugRegisters.INIT.withDr7(new Dr7(0x4)), TdAttributes.NON_DEBUG);
        List<Violation> v = InvariantChecks.noLeakAfterExit(td, host, host.expectedHardware().withDr7(new Dr7(host.cpuDr7().value() | 0x4)));
        assertEquals(1, v.size());
        assertTrue(v.getFirst().detail().startsWith("DR7 after TD exit"), v.getFirst().detail());
        assertEquals(List.of(), InvariantChecks.noLeakAfterExit(td, host, host.expectedHardware()));
    }

    @Test
    void noLeakDoesNotApplyToADebugTd() {
        TdVcpu td = tdWith(DebugRegisters.INIT.withDr(2, 0x7000), TdAttributes.DEBUG_TD);
        assertEquals(List.of(), InvariantChecks.noLeakAfterExit(td, host, DebugRegisters.INIT.withDr(2, 0x7000)));
    }

    @Test
    void noLeakAtEntryRequiresTheHardwareToHoldExactlyTheTdsState() {
        TdVcpu td = new TdVcpu(TdAttributes.NON_DEBUG);
        assertEquals(List.of(), InvariantChecks.noLeakAtEntry(td, DebugRegisters.INIT));
        List<Violation> v = InvariantChecks.noLeakAtEntry(td, DebugRegisters.INIT.withDr(0, H0));
        assertEquals(1, v.size());
        assertEquals(Invariant.NO_LEAK, v.getFirst().invariant());
        assertTrue(v.getFirst().detail().startsWith("DR0"));
    }

    // ---- DEBUGGER_BREAKPOINTS_EXACT ----

    private static final Dr7 DBG_DR7 = Dr7.RESET.withSlot(1, BreakpointType.EXECUTE, BreakpointLength.ONE, false, true)
            .withSlot(2, BreakpointType.WRITE, BreakpointLength.FOUR, false, true);
    private static final DebugRegisters DBG = new DebugRegisters(0, 0x40_1000L, 0x60_0000L, 0, Dr6.RESET, DBG_DR7);

    @Test
    void debuggerHitReportedOnceWithRipDr6AndDr7Holds() {
        DebugStop stop = new DebugStop(ExceptionVector.DB, 0x40_1000L, new Dr6(0b0010), DBG_DR7);
        assertEquals(List.of(), InvariantChecks.debuggerBreakpointsExact(DBG, new Access.InstructionFetch(0x40_1000L), K,
                0x40_1000L, List.of(stop)));
    }

    @Test
    void debuggerHitReportedTwiceIsAViolation() {
        DebugStop stop = new DebugStop(ExceptionVector.DB, 0x40_1000L, new Dr6(0b0010), DBG_DR7);
        assertEquals(1, InvariantChecks.debuggerBreakpointsExact(DBG, new Access.InstructionFetch(0x40_1000L), K,
                0x40_1000L, List.of(stop, stop)).size());
    }

    @Test
    void debuggerHitNotReportedIsAViolation() {
        assertEquals(1, InvariantChecks.debuggerBreakpointsExact(DBG,
                new Access.DataAccess(0x60_0002L, 1, DataAccessKind.WRITE), K, 0x40_2000L, List.of()).size());
    }

    @Test
    void debuggerStopWithWrongRipDr6OrDr7IsAViolationNamingEach() {
        DebugStop bad = new DebugStop(ExceptionVector.DB, 0x40_2001L, new Dr6(0b0110), Dr7.RESET);
        List<String> details = InvariantChecks.debuggerBreakpointsExact(DBG,
                new Access.DataAccess(0x60_0002L, 1, DataAccessKind.WRITE), K, 0x40_2000L, List.of(bad))
                .stream().map(Violation::detail).toList();
        assertEquals(List.of("RIP: expected 0x402000, actual 0x402001",
                "DR6: expected 0xffff0ff4, actual 0xffff0ff6",
                String.format("DR7: expected 0x%x (the debugger's), actual 0x400", DBG_DR7.value())), details);
    }

    @Test
    void stopForAnAccessThatMeetsNoDebuggerBreakpointIsAViolation() {
        DebugStop stop = new DebugStop(ExceptionVector.DB, 0, new Dr6(0b0100), DBG_DR7);
        assertEquals(1, InvariantChecks.debuggerBreakpointsExact(DBG,
                new Access.DataAccess(0x60_0002L, 1, DataAccessKind.READ), K, 0, List.of(stop)).size());
    }

    @Test
    void debuggerHardwareBreakpointTravelsThroughKvmAndIsReportedExactly() {
        DebugRegisterFile cpu = new DebugRegisterFile();
        HostCpu idle = new HostCpu(0);
        KvmVcpu vcpu = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM);
        vcpu.setGuestDebug(GuestDebugRequest.of(GuestDebug.of(GuestDebug.ENABLE, GuestDebug.USE_HW_BP),
                DBG.addresses(), DBG_DR7));
        VcpuEnterGuest.enterGuest(vcpu, idle, cpu);
        DebugException db = cpu.checkInstructionFetch(0x40_1000L, false, K).orElseThrow();
        assertTrue(VmxHardware.exceptionExits(vcpu.vmcs(), ExceptionVector.DB));
        VcpuEnterGuest.exitGuest(vcpu, idle, cpu, ExitReason.EXCEPTION_NMI, db.pending().bits());
        DebugExceptionResult r = vcpu.handleDebugException(new DebugExitQualification(db.pending()), 0x40_1000L);
        DebugStop stop = assertInstanceOf(DebugExceptionResult.ReportToDebugger.class, r).stop();
        assertEquals(List.of(), InvariantChecks.debuggerBreakpointsExact(DBG, new Access.InstructionFetch(0x40_1000L),
                K, 0x40_1000L, List.of(stop)));
    }

    @Test
    void verdictHoldsWhenNoViolationOfThatInvariantAndCarriesTheDetailsOtherwise() {
        Violation a = new Violation(Invariant.NO_LEAK, "DR0 x");
        Violation b = new Violation(Invariant.NO_LEAK, "DR7 y");
        assertTrue(InvariantChecks.verdict(Invariant.HOST_BREAKPOINTS_INTACT, List.of(a)).getHolds());
        InvariantVerdict v = InvariantChecks.verdict(Invariant.NO_LEAK, List.of(a, b));
        assertFalse(v.getHolds());
        assertEquals("NO_LEAK", v.getInvariant());
        assertEquals("DR0 x; DR7 y", v.getDetail());
        assertEquals("DR0 x", a.toVerdict().getDetail());
    }
}
