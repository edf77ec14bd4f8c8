package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.invariant.InvariantChecks;
import dev.tdemu.core.vmx.DebugExitQualification;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.vmx.MovDrDirection;
import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.vmx.VmxHardware;
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
import dev.tdemu.core.x86.MovDrOutcome;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.OptionalLong;

import static dev.tdemu.core.kvm.KvmDrStateTest.HW_BP;
import static dev.tdemu.core.x86.DrOperation.get;
import static dev.tdemu.core.x86.DrOperation.set;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * KVM's lazy DR switch for VMX guests, end to end through VM entry and exit: the run loop is
 * beforeEntry → VM entry → guest → VM exit → afterExit → checks → exit handler.
 */
class VmxLazySwitchTest {

    private static final CpuMode K = CpuMode.KERNEL_64;
    private static final long HOST_DR0 = 0xFFFF_FFFF_8100_0000L;
    private static final long GUEST_BP = 0x40_2000L;
    private static final long GUEST_DR7 = 0x1 | (0b01L << 16) | (0b11L << 18); // L0, write, 4 bytes

    private final DebugRegisterFile cpu = new DebugRegisterFile();
    private final HostCpu host = new HostCpu(0);
    private final KvmVcpu vcpu = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM);

    VmxLazySwitchTest() {
        host.installBreakpoint(new HostBreakpoint(HOST_DR0, BreakpointType.EXECUTE, BreakpointLength.ONE), cpu);
    }

    /** The guest executes MOV to DR{@code dr}: either it exits, or it runs on the hardware. */
    private Optional<MovDrQualification> guestMovToDr(int dr, long value) {
        Optional<MovDrQualification> exit = VmxHardware.movDrExit(vcpu.vmcs(), K, dr, MovDrDirection.TO_DR, 0);
        if (exit.isEmpty()) {
            assertInstanceOf(MovDrOutcome.Completed.class, cpu.movToDr(K, dr, value));
        }
        return exit;
    }

    private void exit(ExitReason reason, long qual) {
        VcpuEnterGuest.exitGuest(vcpu, host, cpu, reason, qual);
        assertTrue(InvariantChecks.hostBreakpointsIntact(host, cpu.snapshot()).isEmpty(), cpu.snapshot().toString());
    }

    @Test
    void firstGuestMovDrExitsAndSwitchesToDirectAccessThenTheNextExitSyncsItBack() {
        VcpuEnterGuest.enterGuest(vcpu, host, cpu);
        MovDrQualification q = guestMovToDr(0, GUEST_BP).orElseThrow();
        exit(ExitReason.MOV_DR, q.bits());

        assertInstanceOf(HandleDrResult.ReExecute.class, vcpu.handleDr(q, K, GUEST_BP, 0x1000));
        assertTrue(vcpu.switchDbRegs().wontExit());
        assertFalse(vcpu.vmcs().movDrExiting());

        // The next entry loads the guest's DRs, DR6 included, because it will access them directly.
        VcpuEnterGuest.EntryTrace in = VcpuEnterGuest.enterGuest(vcpu, host, cpu);
        assertEquals(java.util.List.of(set(7, 0x400), set(0, 0), set(1, 0), set(2, 0), set(3, 0), set(6, 0xFFFF_0FF0L)),
                in.sequence().operations());
        assertTrue(guestMovToDr(0, GUEST_BP).isEmpty(), "re-executed MOV no longer exits");
        assertTrue(guestMovToDr(7, GUEST_DR7).isEmpty());
        assertEquals(GUEST_BP, cpu.dr(0));

        VcpuEnterGuest.ExitTrace out = VcpuEnterGuest.exitGuest(vcpu, host, cpu, ExitReason.HLT, 0);
        assertEquals(java.util.List.of(get(0, GUEST_BP), get(1, 0), get(2, 0), get(3, 0), get(6, 0xFFFF_0FF0L),
                set(0, HOST_DR0), set(1, 0), set(2, 0), set(3, 0), set(6, 0xFFFF_0FF0L), set(7, host.cpuDr7().value())),
                out.sequence().operations());
        assertEquals(new DebugRegisters(GUEST_BP, 0, 0, 0, Dr6.RESET, new Dr7(GUEST_DR7)), vcpu.guestView());
        assertFalse(vcpu.switchDbRegs().wontExit());
        assertTrue(vcpu.vmcs().movDrExiting(), "MOV-DR exiting is back on");
        assertTrue(vcpu.switchDbRegs().bpEnabled());
        assertTrue(vcpu.warnings().isEmpty());
        assertEquals(host.expectedHardware(), cpu.snapshot());
    }

    @Test
    void afterTheSyncTheGuestsBreakpointIsLoadedAtEveryEntryAndFires() {
        firstGuestMovDrExitsAndSwitchesToDirectAccessThenTheNextExitSyncsItBack();
        VcpuEnterGuest.EntryTrace in = VcpuEnterGuest.enterGuest(vcpu, host, cpu);
        assertEquals(java.util.List.of(set(7, 0x400), set(0, GUEST_BP), set(1, 0), set(2, 0), set(3, 0)),
                in.sequence().operations());
        assertTrue(InvariantChecks.guestBreakpointsLoaded(vcpu, in.hwInGuest()).isEmpty());

        // The guest writes its watched address: a trap #DB that VMX intercepts, KVM re-injects.
        DebugException db = cpu.checkDataAccess(GUEST_BP, 4, DataAccessKind.WRITE, K).orElseThrow();
        assertTrue(VmxHardware.exceptionExits(vcpu.vmcs(), ExceptionVector.DB));
        exit(ExitReason.EXCEPTION_NMI, db.pending().bits());
        DebugExceptionResult r = vcpu.handleDebugException(new DebugExitQualification(db.pending()), 0x1005);
        assertEquals(new DebugExceptionResult.Reinject(new Dr6(0b0001)), r);
    }

    @Test
    void guestMovFromDr6AfterReinjectionSwitchesLazilySoTheGuestReadsItsDr6FromHardware() {
        vcpu.handleDebugException(new DebugExitQualification(dev.tdemu.core.x86.PendingDebug.singleStep()), 0);
        VcpuEnterGuest.enterGuest(vcpu, host, cpu);
        MovDrQualification q = VmxHardware.movDrExit(vcpu.vmcs(), K, 6, MovDrDirection.FROM_DR, 0).orElseThrow();
        exit(ExitReason.MOV_DR, q.bits());
        assertInstanceOf(HandleDrResult.ReExecute.class, vcpu.handleDr(q, K, 0, 0));
        VcpuEnterGuest.enterGuest(vcpu, host, cpu);
        assertEquals(new MovDrOutcome.Completed(0xFFFF_0FF0L | Dr6.BS), cpu.movFromDr(K, 6));
    }

    @Test
    void debuggerOwningTheDrsKeepsMovDrExitingOnAndGuestAccessesAreEmulatedWithoutDisturbingEffDb() {
        vcpu.setGuestDebug(HW_BP);
        VcpuEnterGuest.EntryTrace in = VcpuEnterGuest.enterGuest(vcpu, host, cpu);
        assertEquals(0xD000, in.hwInGuest().dr0());
        assertEquals(KvmDrStateTest.DEBUGGER_DR7, in.hwInGuest().dr7());

        MovDrQualification q = guestMovToDr(0, GUEST_BP).orElseThrow();
        exit(ExitReason.MOV_DR, q.bits());
        assertEquals(new HandleDrResult.Emulated(0, OptionalLong.empty()), vcpu.handleDr(q, K, GUEST_BP, 0));
        assertTrue(vcpu.vmcs().movDrExiting());
        assertFalse(vcpu.switchDbRegs().wontExit());
        assertEquals(GUEST_BP, vcpu.db(0));
        assertEquals(0xD000, vcpu.effDb(0));

        in = VcpuEnterGuest.enterGuest(vcpu, host, cpu);
        assertEquals(0xD000, in.hwInGuest().dr0(), "the debugger's breakpoint is still in hardware");
        MovDrQualification read = VmxHardware.movDrExit(vcpu.vmcs(), K, 0, MovDrDirection.FROM_DR, 3).orElseThrow();
        exit(ExitReason.MOV_DR, read.bits());
        assertEquals(new HandleDrResult.Emulated(3, OptionalLong.of(GUEST_BP)), vcpu.handleDr(read, K, 0, 0));
        assertTrue(vcpu.warnings().isEmpty());
    }
}
