package dev.tdemu.core.vmx;

import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.ExceptionVector;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VmxHardwareTest {

    private final Vmcs vmcs = new Vmcs();
    private final DebugRegisterFile cpu = new DebugRegisterFile();
    private final DebugRegisters hostRegs = new DebugRegisters(0x11, 0x22, 0x33, 0x44, new Dr6(0x1), new Dr7(0x2 | (1L << 16)));

    @BeforeEach
    void hostState() {
        cpu.load(hostRegs);
        cpu.setDebugctl(0x1);
        vmcs.setGuestDr7(new Dr7(0x1 | Dr7.GD));
        vmcs.setGuestDebugctl(0x2);
    }

    @Test
    void vmEntryWithLoadDebugControlsLoadsDr7AndDebugctlFromTheVmcs() {
        vmcs.setEntryControls(new VmEntryControls(VmEntryControls.LOAD_DEBUG_CONTROLS));
        VmxHardware.vmEntry(vmcs, cpu);
        assertEquals(new Dr7(0x1 | Dr7.GD), cpu.dr7());
        assertEquals(0x2, cpu.debugctl());
    }

    @Test
    void vmEntryWithoutLoadDebugControlsKeepsTheHostDr7AndDebugctl() {
        VmxHardware.vmEntry(vmcs, cpu);
        assertEquals(hostRegs.dr7(), cpu.dr7());
        assertEquals(0x1, cpu.debugctl());
    }

    @Test
    void vmEntryNeverTouchesDr0To3OrDr6() {
        vmcs.setEntryControls(new VmEntryControls(VmEntryControls.LOAD_DEBUG_CONTROLS));
        VmxHardware.vmEntry(vmcs, cpu);
        assertEquals(hostRegs.withDr7(cpu.dr7()), cpu.snapshot());
    }

    @Test
    void vmExitWithSaveDebugControlsSavesDr7AndDebugctlToTheVmcs() {
        vmcs.setExitControls(new VmExitControls(VmExitControls.SAVE_DEBUG_CONTROLS));
        VmxHardware.vmExit(vmcs, cpu, ExitReason.HLT, 0);
        assertEquals(hostRegs.dr7(), vmcs.guestDr7());
        assertEquals(0x1, vmcs.guestDebugctl());
    }

    @Test
    void vmExitWithoutSaveDebugControlsLeavesTheVmcsGuestDr7() {
        VmxHardware.vmExit(vmcs, cpu, ExitReason.HLT, 0);
        assertEquals(new Dr7(0x1 | Dr7.GD), vmcs.guestDr7());
    }

    @Test
    void vmExitSetsDr7To0x400AndClearsDebugctlEvenWithoutSaveDebugControls() {
        VmxHardware.vmExit(vmcs, cpu, ExitReason.HLT, 0);
        assertEquals(0x400L, cpu.dr7().value());
        assertEquals(0, cpu.debugctl());
    }

    @Test
    void vmExitNeverTouchesDr0To3OrDr6() {
        vmcs.setExitControls(new VmExitControls(VmExitControls.SAVE_DEBUG_CONTROLS));
        VmxHardware.vmExit(vmcs, cpu, ExitReason.CPUID, 0);
        assertEquals(hostRegs.withDr7(Dr7.RESET), cpu.snapshot());
    }

    @Test
    void vmExitRecordsReasonAndQualification() {
        VmxHardware.vmExit(vmcs, cpu, ExitReason.MOV_DR, 0x317);
        assertEquals(ExitReason.MOV_DR, vmcs.exitReason());
        assertEquals(0x317, vmcs.exitQualification());
    }

    @Test
    void guestMovDrExitsOnlyWithMovDrExiting() {
        assertTrue(VmxHardware.movDrExit(vmcs, CpuMode.KERNEL_64, 0, MovDrDirection.TO_DR, 0).isEmpty());
        vmcs.setMovDrExiting(true);
        assertEquals(Optional.of(new MovDrQualification(0, MovDrDirection.TO_DR, 3)),
                VmxHardware.movDrExit(vmcs, CpuMode.KERNEL_64, 0, MovDrDirection.TO_DR, 3));
    }

    @Test
    void cplAboveZeroGpTakesPriorityOverTheMovDrExit() {
        vmcs.setMovDrExiting(true);
        assertTrue(VmxHardware.movDrExit(vmcs, CpuMode.USER_64, 7, MovDrDirection.FROM_DR, 0).isEmpty());
    }

    @Test
    void dr4UdWithCr4DeTakesPriorityOverTheMovDrExitButAliasExitsWithoutDe() {
        vmcs.setMovDrExiting(true);
        assertTrue(VmxHardware.movDrExit(vmcs, CpuMode.KERNEL_64, 4, MovDrDirection.FROM_DR, 0).isEmpty());
        assertTrue(VmxHardware.movDrExit(vmcs, new CpuMode(0, false, true), 4, MovDrDirection.FROM_DR, 0).isPresent());
    }

    @Test
    void movDrExitTakesPriorityOverGuestGeneralDetect() {
        vmcs.setMovDrExiting(true);
        cpu.loadDr7(new Dr7(Dr7.GD));
        assertTrue(VmxHardware.movDrExit(vmcs, CpuMode.KERNEL_64, 0, MovDrDirection.FROM_DR, 0).isPresent());
    }

    @Test
    void exceptionBitmapBit1MakesDebugExceptionsExit() {
        assertFalse(VmxHardware.exceptionExits(vmcs, ExceptionVector.DB));
        vmcs.setExceptionBitmap(new ExceptionBitmap(1 << 1));
        assertTrue(VmxHardware.exceptionExits(vmcs, ExceptionVector.DB));
        assertFalse(VmxHardware.exceptionExits(vmcs, ExceptionVector.BP));
    }
}
