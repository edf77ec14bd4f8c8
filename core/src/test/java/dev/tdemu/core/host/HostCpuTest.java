package dev.tdemu.core.host;

import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.DrOperation;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.RecordingDrAccess;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostCpuTest {

    private final HostCpu host = new HostCpu(0);

    @Test
    void noBreakpointsMeansNotActive() {
        assertFalse(host.hwBreakpointActive());
        assertEquals(Dr7.RESET, host.cpuDr7());
    }

    @Test
    void registeringSetsTheGlobalEnableAndRwLenFieldsOfTheFirstFreeSlot() {
        int slot = host.registerBreakpoint(new HostBreakpoint(0x1000, BreakpointType.WRITE, BreakpointLength.EIGHT));
        assertEquals(0, slot);
        Dr7 d = host.cpuDr7();
        assertTrue(d.globalEnable(0));
        assertFalse(d.localEnable(0));
        assertEquals(BreakpointType.WRITE, d.type(0));
        assertEquals(BreakpointLength.EIGHT, d.length(0));
        assertTrue(d.ge());
        assertEquals(0x1000, host.cpuDebugreg(0));
        assertTrue(host.hwBreakpointActive());
    }

    @Test
    void hwBreakpointActiveTestsOnlyGlobalEnables() {
        host.registerBreakpoint(new HostBreakpoint(0x2000, BreakpointType.EXECUTE, BreakpointLength.ONE));
        assertTrue(host.hwBreakpointActive());
        host.unregisterBreakpoint(0);
        assertFalse(host.hwBreakpointActive());
    }

    @Test
    void aFifthBreakpointFailsClearlyWhenAllFourSlotsAreTaken() {
        for (int i = 0; i < 4; i++) {
            assertEquals(i, host.registerBreakpoint(new HostBreakpoint(0x1000L * (i + 1), BreakpointType.EXECUTE, BreakpointLength.ONE)));
        }
        BreakpointSlotsExhausted e = assertThrows(BreakpointSlotsExhausted.class,
                () -> host.registerBreakpoint(new HostBreakpoint(0x9000, BreakpointType.EXECUTE, BreakpointLength.ONE)));
        assertTrue(e.getMessage().contains("all four"));
    }

    @Test
    void unregisteringFreesTheSlotForReuse() {
        host.registerBreakpoint(new HostBreakpoint(0x1000, BreakpointType.EXECUTE, BreakpointLength.ONE));
        host.registerBreakpoint(new HostBreakpoint(0x2000, BreakpointType.EXECUTE, BreakpointLength.ONE));
        host.unregisterBreakpoint(0);
        assertFalse(host.cpuDr7().enabled(0));
        assertTrue(host.cpuDr7().enabled(1));
        assertEquals(0, host.registerBreakpoint(new HostBreakpoint(0x3000, BreakpointType.WRITE, BreakpointLength.ONE)));
    }

    @Test
    void unregisteringZeroesCpuDebugregAndDropsGeWithTheLastSlot() {
        host.registerBreakpoint(new HostBreakpoint(0x1000, BreakpointType.EXECUTE, BreakpointLength.ONE));
        host.registerBreakpoint(new HostBreakpoint(0x2000, BreakpointType.EXECUTE, BreakpointLength.ONE));
        host.unregisterBreakpoint(1);
        assertEquals(0, host.cpuDebugreg(1));
        assertTrue(host.cpuDr7().ge());
        host.unregisterBreakpoint(0);
        assertEquals(Dr7.RESET, host.cpuDr7());
        assertThrows(IllegalStateException.class, () -> host.unregisterBreakpoint(0));
    }

    @Test
    void misalignedOrLongExecuteBreakpointsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new HostBreakpoint(0x1002, BreakpointType.WRITE, BreakpointLength.FOUR));
        assertThrows(IllegalArgumentException.class, () -> new HostBreakpoint(0x1000, BreakpointType.EXECUTE, BreakpointLength.FOUR));
    }

    @Test
    void hwBreakpointRestoreWritesDr0To3ThenDr6ResetThenCpuDr7() {
        host.registerBreakpoint(new HostBreakpoint(0x1000, BreakpointType.EXECUTE, BreakpointLength.ONE));
        host.registerBreakpoint(new HostBreakpoint(0x2000, BreakpointType.READ_WRITE, BreakpointLength.FOUR));
        DebugRegisterFile cpu = new DebugRegisterFile();
        cpu.load(new DebugRegisters(9, 9, 9, 9, new Dr6(0xF), new Dr7(0xFF)));
        RecordingDrAccess rec = new RecordingDrAccess(cpu);
        host.hwBreakpointRestore(rec);
        assertEquals(List.of(DrOperation.set(0, 0x1000), DrOperation.set(1, 0x2000), DrOperation.set(2, 0),
                DrOperation.set(3, 0), DrOperation.set(6, 0xFFFF_0FF0L), DrOperation.set(7, host.cpuDr7().value())),
                rec.operations());
        assertEquals(host.expectedHardware(), cpu.snapshot());
    }

    @Test
    void installArmsTheBreakpointInHardware() {
        DebugRegisterFile cpu = new DebugRegisterFile();
        host.installBreakpoint(new HostBreakpoint(0x1000, BreakpointType.EXECUTE, BreakpointLength.ONE), cpu);
        assertEquals(0x1000, cpu.dr(0));
        assertEquals(host.cpuDr7(), cpu.dr7());
        assertTrue(cpu.checkInstructionFetch(0x1000, false, dev.tdemu.core.x86.CpuMode.KERNEL_64).isPresent());
        host.uninstallBreakpoint(0, cpu);
        assertEquals(Dr7.RESET, cpu.dr7());
    }

    @Test
    void protoBreakpointConverts() {
        HostBreakpoint bp = HostBreakpoint.fromProto(dev.tdemu.proto.HostBreakpoint.newBuilder()
                .setAddress(0x1000).setKind(dev.tdemu.proto.BreakpointKind.BREAKPOINT_KIND_WRITE).setLength(4).build());
        assertEquals(new HostBreakpoint(0x1000, BreakpointType.WRITE, BreakpointLength.FOUR), bp);
    }
}
