package dev.tdemu.core.vmx;

import dev.tdemu.core.x86.PendingDebug;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExitQualificationTest {

    @Test
    void basicExitReasonNumbersFollowTheSdm() {
        assertEquals(0, ExitReason.EXCEPTION_NMI.basic());
        assertEquals(10, ExitReason.CPUID.basic());
        assertEquals(12, ExitReason.HLT.basic());
        assertEquals(18, ExitReason.VMCALL.basic());
        assertEquals(29, ExitReason.MOV_DR.basic());
        assertEquals(30, ExitReason.IO_INSTRUCTION.basic());
        assertEquals(31, ExitReason.RDMSR.basic());
        assertEquals(32, ExitReason.WRMSR.basic());
        assertEquals(48, ExitReason.EPT_VIOLATION.basic());
        assertEquals(77, ExitReason.TDCALL.basic());
        assertEquals(1, ExitReason.EXTERNAL_INTERRUPT.basic());
        assertEquals(2, ExitReason.TRIPLE_FAULT.basic());
        assertEquals(ExitReason.MOV_DR, ExitReason.fromBasic(29));
        assertThrows(IllegalArgumentException.class, () -> ExitReason.fromBasic(3)); // INIT: not modelled
    }

    @Test
    void movDrQualificationHasDrInBits2To0DirectionInBit4AndGprInBits11To8() {
        MovDrQualification q = MovDrQualification.fromBits(0b1011_0001_0110L);
        assertEquals(6, q.drNumber());
        assertEquals(MovDrDirection.FROM_DR, q.direction());
        assertEquals(0xB, q.gpr());
        assertEquals(0xB16L, q.bits());
        assertEquals(MovDrDirection.TO_DR, MovDrQualification.fromBits(0x7).direction());
    }

    @Test
    void debugQualificationHasBBitsIn3To0BdInBit13AndBsInBit14() {
        DebugExitQualification q = DebugExitQualification.fromBits(0b1010 | (1L << 13) | (1L << 14));
        assertTrue(q.b(1));
        assertTrue(q.b(3));
        assertTrue(q.bd());
        assertTrue(q.bs());
        assertEquals(PendingDebug.ofSlots(0b1010).or(PendingDebug.generalDetect()).or(PendingDebug.singleStep()), q.pending());
    }

    @Test
    void controlBitsAreAtTheirSdmPositions() {
        assertEquals(1 << 23, new ProcBasedControls(0).withMovDrExiting(true).bits());
        assertEquals(1 << 2, new VmEntryControls(0).withLoadDebugControls(true).bits());
        assertEquals(1 << 2, new VmExitControls(0).withSaveDebugControls(true).bits());
    }
}
