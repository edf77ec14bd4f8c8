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
        assertEquals(7, ExitReason.INTERRUPT_WINDOW.basic());
        assertEquals(28, ExitReason.CR_ACCESS.basic());
        assertEquals(44, ExitReason.APIC_ACCESS.basic());
        assertEquals(49, ExitReason.EPT_MISCONFIG.basic());
        assertThrows(IllegalArgumentException.class, () -> ExitReason.fromBasic(9)); // task switch: not modelled
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
    void ioQualificationHasSizeMinusOneDirectionStringRepEncodingAndPortAtTheirSdmBits() {
        IoQualification outsb = new IoQualification(1, false, true, true, false, 0x3F8);
        assertEquals(0x03F8_0030L, outsb.bits());
        IoQualification inImm = new IoQualification(4, true, false, false, true, 0xE9);
        assertEquals(0x00E9_004BL, inImm.bits());
        assertEquals(inImm, IoQualification.fromBits(inImm.bits()));
        assertThrows(IllegalArgumentException.class, () -> new IoQualification(3, true, false, false, false, 0));
        assertThrows(IllegalArgumentException.class, () -> new IoQualification(1, true, false, false, false, 0x10000));
    }

    @Test
    void apicAccessQualificationHasTheOffsetInBits11To0AndTheAccessTypeInBits15To12() {
        assertEquals(0x0300L, ApicAccessQualification.linear(false, 0x300).bits());
        assertEquals(0x10B0L, ApicAccessQualification.linear(true, 0xB0).bits());
        assertEquals(ApicAccessQualification.linear(true, 0x310), ApicAccessQualification.fromBits(0x1310));
        assertEquals(0xF000L, ApicAccessQualification.fromBits(0xF000).bits());
        assertEquals(ApicAccessQualification.AccessType.GUEST_PHYSICAL_EVENT_DELIVERY, ApicAccessQualification.fromBits(0xA000).type());
        assertThrows(IllegalArgumentException.class, () -> ApicAccessQualification.fromBits(0x4000)); // type 4: reserved
        assertThrows(IllegalArgumentException.class, () -> ApicAccessQualification.linear(false, 0x1000));
        assertThrows(IllegalArgumentException.class,
                () -> new ApicAccessQualification(ApicAccessQualification.AccessType.GUEST_PHYSICAL_INSTRUCTION, 0x20));
    }

    @Test
    void eptViolationQualificationHasTheAccessInBits2To0AndThePermissionsInBits5To3() {
        assertEquals(1, EptViolationQualification.unbacked(EptViolationQualification.Access.READ).bits());
        assertEquals(2, EptViolationQualification.unbacked(EptViolationQualification.Access.WRITE).bits());
        assertEquals(4, EptViolationQualification.unbacked(EptViolationQualification.Access.FETCH).bits());
        assertEquals(2 | 8 | 32, new EptViolationQualification(EptViolationQualification.Access.WRITE, true, false, true).bits());
    }

    @Test
    void crAccessQualificationHasCrTypeGprAndLmswDataAtTheirSdmBits() {
        assertEquals(0x0503L, CrAccessQualification.movToCr(3, 5).bits());
        assertEquals(0x0014L, CrAccessQualification.movFromCr(4, 0).bits());
        CrAccessQualification lmsw = new CrAccessQualification(0, CrAccessQualification.AccessType.LMSW, 0, true, 0xFFFF);
        assertEquals(0xFFFF_0070L, lmsw.bits());
        assertEquals(lmsw, CrAccessQualification.fromBits(lmsw.bits()));
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
