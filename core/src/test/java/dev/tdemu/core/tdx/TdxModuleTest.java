package dev.tdemu.core.tdx;

import dev.tdemu.core.vmx.ExceptionBitmap;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.ExceptionVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TdxModuleTest {

    private static final DebugRegisters HOST = new DebugRegisters(0xAAA0, 0xBBB0, 0xCCC0, 0xDDD0,
            new Dr6(0x1), Dr7.RESET);
    private static final DebugRegisters TD_WRITES = new DebugRegisters(0x7000, 0, 0, 0x7300,
            new Dr6(Dr6.BS), new Dr7(0x1 | (1L << 6)));

    private final DebugRegisterFile cpu = new DebugRegisterFile();

    private TdVcpu runOnce(TdxModule module) {
        TdVcpu td = new TdVcpu(TdAttributes.NON_DEBUG);
        cpu.load(HOST);
        module.tdhVpEnter(td, cpu);
        cpu.load(TD_WRITES); // the TD programs its own DRs while it runs
        module.tdExit(td, cpu);
        return td;
    }

    @Test
    void tdVcpuStartsWithInitDebugRegisters() {
        assertEquals(new DebugRegisters(0, 0, 0, 0, new Dr6(0xFFFF_0FF0L), new Dr7(0x400)),
                new TdVcpu(TdAttributes.NON_DEBUG).savedDebugRegisters());
    }

    @Test
    void tdhVpEnterSavesTheHostDrsAndLoadsTheTdsOwn() {
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        TdVcpu td = new TdVcpu(TdAttributes.NON_DEBUG);
        cpu.load(HOST);
        module.tdhVpEnter(td, cpu);
        assertEquals(HOST, td.hostAtEnter());
        assertEquals(DebugRegisters.INIT, cpu.snapshot());
    }

    @Test
    void tdExitSavesTheTdsHardwareDrsIntoItsState() {
        TdVcpu td = runOnce(new TdxModule(TdxDrBehaviour.INIT_ON_EXIT));
        assertEquals(TD_WRITES, td.savedDebugRegisters());
    }

    @Test
    void tdsDrsSurviveExitAndReentry() {
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        TdVcpu td = runOnce(module);
        module.tdhVpEnter(td, cpu);
        assertEquals(TD_WRITES, cpu.snapshot());
    }

    @Test
    void initOnExitLeavesArchitecturalInitState() {
        runOnce(new TdxModule(TdxDrBehaviour.INIT_ON_EXIT));
        assertEquals(DebugRegisters.INIT, cpu.snapshot());
    }

    @Test
    void restoreHostExceptDr7PutsBackTheHostsDr0To3AndDr6AndTheDr7ItHadAtEnter() {
        runOnce(new TdxModule(TdxDrBehaviour.RESTORE_HOST_EXCEPT_DR7));
        assertEquals(HOST, cpu.snapshot());
    }

    @Test
    void restoreHostExceptDr7DoesNotBringBackAHostBreakpointDr7ClearedBeforeEnter() {
        // The host's breakpoints were armed, but KVM cleared DR7 to 0x400 before TDH.VP.ENTER.
        TdxModule module = new TdxModule(TdxDrBehaviour.RESTORE_HOST_EXCEPT_DR7);
        TdVcpu td = new TdVcpu(TdAttributes.NON_DEBUG);
        cpu.load(HOST.withDr7(new Dr7(0x2)));
        cpu.setDebugreg(7, 0x400);
        module.tdhVpEnter(td, cpu);
        module.tdExit(td, cpu);
        assertEquals(Dr7.RESET, cpu.dr7());
        assertEquals(HOST.dr0(), cpu.dr(0));
    }

    @Test
    void leaveGuestStateLeavesTheTdsValuesInHardware() {
        runOnce(new TdxModule(TdxDrBehaviour.LEAVE_GUEST_STATE));
        assertEquals(TD_WRITES, cpu.snapshot());
    }

    @Test
    void debugInterfaceIsRefusedWithOperandInvalidForANonDebugTd() {
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        TdVcpu td = new TdVcpu(TdAttributes.NON_DEBUG);
        TdxDebugRefused e = assertThrows(TdxDebugRefused.class, () -> module.debugReadDr(td, 0));
        assertEquals(TdxStatus.TDX_OPERAND_INVALID, e.status());
        assertThrows(TdxDebugRefused.class, () -> module.debugWriteDr(td, 7, 0x1));
        assertThrows(TdxDebugRefused.class, () -> module.debugReadDebugRegisters(td));
        assertThrows(TdxDebugRefused.class,
                () -> module.debugWriteExceptionBitmap(td, ExceptionBitmap.of(ExceptionVector.DB)));
        assertThrows(TdxDebugRefused.class, () -> module.debugReadExceptionBitmap(td));
        assertEquals(DebugRegisters.INIT, td.savedDebugRegisters());
        assertEquals(ExceptionBitmap.NONE, td.exceptionBitmap());
    }

    @Test
    void debugTdsDrsCanBeReadAndWrittenAndAreLoadedAtEnter() {
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        TdVcpu td = new TdVcpu(TdAttributes.DEBUG_TD);
        module.debugWriteDr(td, 2, 0x4010);
        module.debugWriteDr(td, 7, 0x10);
        assertEquals(0x4010, module.debugReadDr(td, 2));
        assertEquals(0x410, module.debugReadDr(td, 7));
        module.tdhVpEnter(td, cpu);
        assertEquals(0x4010, cpu.dr(2));
        assertEquals(new Dr7(0x10), cpu.dr7());
    }

    @Test
    void debugTdsDebugInterceptIsExceptionBitmapBit1() {
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        TdVcpu td = new TdVcpu(TdAttributes.DEBUG_TD);
        module.debugWriteExceptionBitmap(td, ExceptionBitmap.of(ExceptionVector.DB));
        assertEquals(1 << 1, module.debugReadExceptionBitmap(td).bits());
        assertTrue(td.exceptionBitmap().intercepts(ExceptionVector.DB));
    }

    @Test
    void tdsOwnMovDrWorksInHardwareWhileItRuns() {
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        TdVcpu td = new TdVcpu(TdAttributes.NON_DEBUG);
        module.tdhVpEnter(td, cpu);
        cpu.movToDr(CpuMode.KERNEL_64, 1, 0x5000);
        module.tdExit(td, cpu);
        assertEquals(0x5000, td.savedDebugRegisters().dr1());
    }

    @Test
    void debugTdsDrsCannotBeWrittenWhileItRuns() {
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        TdVcpu td = new TdVcpu(TdAttributes.DEBUG_TD);
        module.tdhVpEnter(td, cpu);
        assertThrows(IllegalStateException.class, () -> module.debugWriteDr(td, 0, 0x1));
    }

    @Test
    void enterAndExitMustAlternate() {
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        TdVcpu td = new TdVcpu(TdAttributes.NON_DEBUG);
        assertThrows(IllegalStateException.class, () -> module.tdExit(td, cpu));
        module.tdhVpEnter(td, cpu);
        assertThrows(IllegalStateException.class, () -> module.tdhVpEnter(td, cpu));
    }
}
