package dev.tdemu.core.x86;

import dev.tdemu.core.host.HostCpu;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DR6.BLD (bit 11, active low) and the reset-value writes of 5f465c148c61 / fa7d0f83c5c4. */
class Dr6BusLockTest {

    @Test
    void onACpuWithBusLockDetectionWritingZeroToDr6ClearsBld() {
        DebugRegisterFile cpu = DebugRegisterFile.withBusLockDetect();
        cpu.setDebugreg(6, 0);
        assertEquals(0xFFFF_07F0L, cpu.dr6().value());
        assertTrue(cpu.dr6().busLockDetected());
    }

    @Test
    void onACpuWithoutItBldAlwaysReadsOne() {
        DebugRegisterFile cpu = new DebugRegisterFile();
        cpu.setDebugreg(6, 0);
        assertEquals(0xFFFF_0FF0L, cpu.dr6().value());
        assertFalse(cpu.dr6().busLockDetected());
    }

    @Test
    void theResetValueHasBldSet() {
        assertFalse(Dr6.RESET.busLockDetected());
        assertTrue(Dr6.RESET.isResetValue());
        assertEquals(Dr6.RESET, Dr6.withBusLockDetect(0xFFFF_0FF0L));
    }

    @Test
    void noDebugExceptionButABusLockOneClearsBld() {
        Dr6 afterBreakpoint = Dr6.withBusLockDetect(0xFFFF_0FF0L).deliver(PendingDebug.ofSlots(0b10));
        assertFalse(afterBreakpoint.busLockDetected());
        Dr6 cleared = Dr6.withBusLockDetect(0xFFFF_07F0L).deliver(PendingDebug.singleStep());
        assertTrue(cleared.busLockDetected(), "a #DB leaves a cleared BLD cleared");
        DebugRegisterFile cpu = DebugRegisterFile.withBusLockDetect();
        cpu.busLockTrap();
        assertTrue(cpu.dr6().busLockDetected());
    }

    @Test
    void clearAllDebugRegsAtBootMakesTheFirstDebugExceptionLookLikeABusLock() {
        DebugRegisterFile cpu = DebugRegisterFile.withBusLockDetect();
        HostCpu host = new HostCpu(0);
        host.clearAllDebugRegs(cpu);
        HostCpu.HostDebugRead first = host.debugReadResetDr6(cpu);
        assertTrue(first.busLock(), "x86/split lock detection: #DB: ... took a bus_lock trap");
        assertFalse(host.debugReadResetDr6(cpu).busLock(), "the handler wrote DR6_RESERVED back");
    }

    @Test
    void initializeDebugRegsWritesTheArchitecturalResetValues() {
        DebugRegisterFile cpu = DebugRegisterFile.withBusLockDetect();
        cpu.setDebugreg(0, 0x1234);
        cpu.setDebugreg(6, 0);
        HostCpu host = new HostCpu(0);
        host.initializeDebugRegs(cpu);
        assertEquals(DebugRegisters.INIT, cpu.snapshot());
        assertFalse(host.debugReadResetDr6(cpu).busLock());
    }

    @Test
    void debugctlNamesTheKernelsBits() {
        assertEquals("LBR|FREEZE_IN_SMM", Debugctl.describe(Debugctl.LBR | Debugctl.FREEZE_IN_SMM));
        assertEquals("0", Debugctl.describe(0));
        assertEquals(Debugctl.BTF | Debugctl.FREEZE_PERFMON_ON_PMI | Debugctl.FREEZE_IN_SMM, Debugctl.TDX_DEBUGCTL_PRESERVED);
    }
}
