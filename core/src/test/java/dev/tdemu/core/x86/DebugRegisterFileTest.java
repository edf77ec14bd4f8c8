package dev.tdemu.core.x86;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DebugRegisterFileTest {

    private static final CpuMode KERNEL_DE0 = new CpuMode(0, false, true);
    private static final CpuMode KERNEL_32 = new CpuMode(0, true, false);

    private final DebugRegisterFile cpu = new DebugRegisterFile();

    @Test
    void cpuStartsInResetState() {
        assertEquals(DebugRegisters.INIT, cpu.snapshot());
        assertEquals(0, cpu.debugctl());
    }

    @Test
    void movToDrAtCplAboveZeroIsGp0AndWritesNothing() {
        assertEquals(new MovDrOutcome.Fault(ExceptionVector.GP), cpu.movToDr(CpuMode.USER_64, 0, 0x1000));
        assertEquals(0, cpu.dr(0));
    }

    @Test
    void movFromDrAtCplAboveZeroIsGp0() {
        assertEquals(new MovDrOutcome.Fault(ExceptionVector.GP), cpu.movFromDr(new CpuMode(1, true, true), 7));
    }

    @Test
    void dr4AndDr5AreUdWhenCr4DeIsSet() {
        assertEquals(new MovDrOutcome.Fault(ExceptionVector.UD), cpu.movToDr(CpuMode.KERNEL_64, 4, 0));
        assertEquals(new MovDrOutcome.Fault(ExceptionVector.UD), cpu.movFromDr(CpuMode.KERNEL_64, 5));
    }

    @Test
    void dr4AliasesDr6AndDr5AliasesDr7WhenCr4DeIsClear() {
        cpu.movToDr(KERNEL_DE0, 4, 0x1);
        cpu.movToDr(KERNEL_DE0, 5, 0x3);
        assertEquals(0xFFFF_0FF1L, cpu.dr6().value());
        assertEquals(0x403L, cpu.dr7().value());
        assertEquals(new MovDrOutcome.Completed(0xFFFF_0FF1L), cpu.movFromDr(KERNEL_DE0, 4));
        assertEquals(new MovDrOutcome.Completed(0x403L), cpu.movFromDr(KERNEL_DE0, 5));
    }

    @Test
    void cplCheckComesBeforeTheDr4UdCheck() {
        assertEquals(new MovDrOutcome.Fault(ExceptionVector.GP), cpu.movToDr(CpuMode.USER_64, 4, 0));
    }

    @Test
    void writingOneToBits63To32OfDr6In64BitModeIsGp0() {
        assertEquals(new MovDrOutcome.Fault(ExceptionVector.GP), cpu.movToDr(CpuMode.KERNEL_64, 6, 1L << 32));
        assertEquals(Dr6.RESET, cpu.dr6());
    }

    @Test
    void writingOneToBits63To32OfDr7In64BitModeIsGp0() {
        assertEquals(new MovDrOutcome.Fault(ExceptionVector.GP), cpu.movToDr(CpuMode.KERNEL_64, 7, (1L << 63) | 1));
        assertEquals(Dr7.RESET, cpu.dr7());
    }

    @Test
    void dr0To3AcceptAny64BitValueIn64BitMode() {
        cpu.movToDr(CpuMode.KERNEL_64, 3, 0xFFFF_8880_0000_1000L);
        assertEquals(0xFFFF_8880_0000_1000L, cpu.dr(3));
    }

    @Test
    void outside64BitModeTheOperandIs32BitsSoUpperBitsNeverFault() {
        assertInstanceOf(MovDrOutcome.Completed.class, cpu.movToDr(KERNEL_32, 7, 0x1_0000_0001L));
        assertEquals(0x401L, cpu.dr7().value());
        cpu.movToDr(KERNEL_32, 0, 0x1_2345_6789L);
        assertEquals(0x2345_6789L, cpu.dr(0));
    }

    @Test
    void dr7WriteReadsBackWithBit10SetAndBits11_12_14_15Clear() {
        assertEquals(new MovDrOutcome.Completed(0x2401L), cpu.movToDr(CpuMode.KERNEL_64, 7, 0xD801L | (1L << 13)));
    }

    @Test
    void dr6WriteReadsBackWithFixedBits() {
        assertEquals(new MovDrOutcome.Completed(0xFFFF_0FF0L | 0x5), cpu.movToDr(CpuMode.KERNEL_64, 6, 0x1005));
    }

    @Test
    void movDrWithGdSetIsBdFaultAndDoesNotExecute() {
        cpu.movToDr(CpuMode.KERNEL_64, 7, Dr7.GD);
        MovDrOutcome out = cpu.movToDr(CpuMode.KERNEL_64, 0, 0x1234);
        MovDrOutcome.GeneralDetect gd = assertInstanceOf(MovDrOutcome.GeneralDetect.class, out);
        assertEquals(EventClass.FAULT, gd.exception().eventClass());
        assertTrue(gd.exception().pending().bd());
        assertTrue(gd.exception().dr6().bd());
        assertEquals(0, cpu.dr(0));
        assertInstanceOf(MovDrOutcome.GeneralDetect.class, cpu.movFromDr(CpuMode.KERNEL_64, 6));
    }

    @Test
    void gdIsClearedWhenTheBdDebugExceptionIsDelivered() {
        cpu.movToDr(CpuMode.KERNEL_64, 7, Dr7.GD | 1);
        MovDrOutcome.GeneralDetect gd = (MovDrOutcome.GeneralDetect) cpu.movFromDr(CpuMode.KERNEL_64, 0);
        cpu.deliver(gd.exception());
        assertFalse(cpu.dr7().gd());
        assertTrue(cpu.dr7().localEnable(0));
        assertTrue(cpu.dr6().bd());
        assertInstanceOf(MovDrOutcome.Completed.class, cpu.movFromDr(CpuMode.KERNEL_64, 6));
    }

    @Test
    void gdIsClearedOnDeliveryOfAnyDebugException() {
        cpu.movToDr(CpuMode.KERNEL_64, 7, Dr7.GD);
        cpu.deliver(cpu.singleStep());
        assertFalse(cpu.dr7().gd());
    }

    @Test
    void gdCheckComesAfterTheDr4UdCheck() {
        cpu.movToDr(CpuMode.KERNEL_64, 7, Dr7.GD);
        assertEquals(new MovDrOutcome.Fault(ExceptionVector.UD), cpu.movToDr(CpuMode.KERNEL_64, 4, 0));
    }

    @Test
    void gdFaultComesBeforeTheReservedBitGp() {
        cpu.movToDr(CpuMode.KERNEL_64, 7, Dr7.GD);
        assertInstanceOf(MovDrOutcome.GeneralDetect.class, cpu.movToDr(CpuMode.KERNEL_64, 7, 1L << 40));
    }

    @Test
    void deliveryOfASingleStepSetsBsAndClearsStaleSlotBits() {
        cpu.movToDr(CpuMode.KERNEL_64, 6, 0b0100 | Dr6.BD);
        cpu.deliver(cpu.singleStep());
        assertEquals(0xFFFF_0FF0L | Dr6.BD | Dr6.BS, cpu.dr6().value());
    }

    @Test
    void int3DeliveryLeavesDr6AndGdAlone() {
        cpu.movToDr(CpuMode.KERNEL_64, 7, Dr7.GD);
        cpu.deliver(cpu.int3());
        assertEquals(Dr6.RESET, cpu.dr6());
        assertTrue(cpu.dr7().gd());
    }

    @Test
    void hostSetDebugregAppliesFixedBitsLikeMov() {
        cpu.setDebugreg(7, 0);
        assertEquals(0x400L, cpu.getDebugreg(7));
        cpu.setDebugreg(6, 0);
        assertEquals(0xFFFF_0FF0L, cpu.getDebugreg(6));
    }

    @Test
    void hostSetDebugregOfDr4OrReservedBitsIsAModelBug() {
        assertThrows(IllegalArgumentException.class, () -> cpu.setDebugreg(4, 0));
        assertThrows(IllegalArgumentException.class, () -> cpu.setDebugreg(7, 1L << 32));
    }

    @Test
    void loadReplacesAllSixRegisters() {
        DebugRegisters r = new DebugRegisters(1, 2, 3, 4, new Dr6(0x1), new Dr7(0x2));
        cpu.load(r);
        assertEquals(r, cpu.snapshot());
    }
}
