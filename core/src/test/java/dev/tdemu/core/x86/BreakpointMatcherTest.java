package dev.tdemu.core.x86;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static dev.tdemu.core.x86.BreakpointLength.EIGHT;
import static dev.tdemu.core.x86.BreakpointLength.FOUR;
import static dev.tdemu.core.x86.BreakpointLength.ONE;
import static dev.tdemu.core.x86.BreakpointLength.TWO;
import static dev.tdemu.core.x86.BreakpointType.EXECUTE;
import static dev.tdemu.core.x86.BreakpointType.IO;
import static dev.tdemu.core.x86.BreakpointType.READ_WRITE;
import static dev.tdemu.core.x86.BreakpointType.WRITE;
import static dev.tdemu.core.x86.DataAccessKind.READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BreakpointMatcherTest {

    private static final CpuMode K = CpuMode.KERNEL_64;
    private static final CpuMode K_DE0 = new CpuMode(0, false, true);

    /** Registers with slot n at address a[n] programmed as given; slots not given are disabled and zero. */
    private static DebugRegisters regs(Object... slotSpecs) {
        long[] a = new long[4];
        Dr7 d = Dr7.RESET;
        for (int i = 0; i < slotSpecs.length; i += 5) {
            int n = (Integer) slotSpecs[i];
            a[n] = (Long) slotSpecs[i + 1];
            d = d.withSlot(n, (BreakpointType) slotSpecs[i + 2], (BreakpointLength) slotSpecs[i + 3],
                    (Boolean) slotSpecs[i + 4], false);
        }
        return DebugRegisters.of(a, Dr6.RESET, d);
    }

    private static Optional<DebugException> write(DebugRegisters r, long addr, int size) {
        return BreakpointMatcher.dataAccess(r, addr, size, DataAccessKind.WRITE, K);
    }

    private static Optional<DebugException> read(DebugRegisters r, long addr, int size) {
        return BreakpointMatcher.dataAccess(r, addr, size, READ, K);
    }

    @Test
    void enabledExecuteBreakpointIsAFaultAtTheInstructionAddressWithItsBBit() {
        DebugRegisters r = regs(2, 0x401000L, EXECUTE, ONE, true);
        DebugException e = BreakpointMatcher.instructionFetch(r, 0x401000L, false, K).orElseThrow();
        assertEquals(ExceptionVector.DB, e.vector());
        assertEquals(EventClass.FAULT, e.eventClass());
        assertEquals(0b0100, e.pending().bMask());
        assertEquals(0xFFFF_0FF4L, e.dr6().value());
    }

    @Test
    void executeBreakpointDoesNotMatchOtherBytesOfTheInstruction() {
        DebugRegisters r = regs(0, 0x401001L, EXECUTE, ONE, true);
        assertTrue(BreakpointMatcher.instructionFetch(r, 0x401000L, false, K).isEmpty());
    }

    @Test
    void rfSuppressesInstructionBreakpoints() {
        DebugRegisters r = regs(0, 0x401000L, EXECUTE, ONE, true);
        assertTrue(BreakpointMatcher.instructionFetch(r, 0x401000L, true, K).isEmpty());
    }

    @Test
    void rfDoesNotSuppressDataBreakpointsOrSingleStep() {
        // RF is not an input of the trap checks: data breakpoints and single step fire regardless.
        DebugRegisters r = regs(0, 0x1000L, WRITE, FOUR, true);
        assertTrue(write(r, 0x1000L, 4).isPresent());
        assertTrue(BreakpointMatcher.afterInstruction(r, List.of(), true, K).isPresent());
    }

    @Test
    void noDebugExceptionWhenOnlyDisabledSlotsMatch() {
        DebugRegisters r = regs(0, 0x1000L, WRITE, FOUR, false, 1, 0x401000L, EXECUTE, ONE, false);
        assertTrue(write(r, 0x1000L, 4).isEmpty());
        assertTrue(BreakpointMatcher.instructionFetch(r, 0x401000L, false, K).isEmpty());
    }

    @Test
    void bBitsAreSetForMatchingDisabledSlotsOnceAnEnabledConditionFires() {
        DebugRegisters r = regs(0, 0x1000L, WRITE, FOUR, true, 3, 0x1002L, READ_WRITE, TWO, false);
        assertEquals(0b1001, write(r, 0x1000L, 4).orElseThrow().pending().bMask());
    }

    @Test
    void singleStepReportsMatchingDisabledDataSlotsToo() {
        DebugRegisters r = regs(1, 0x1000L, READ_WRITE, ONE, false);
        DebugException e = BreakpointMatcher.afterInstruction(r,
                List.of(new Access.DataAccess(0x1000L, 1, READ)), true, K).orElseThrow();
        assertEquals(0b0010, e.pending().bMask());
        assertTrue(e.pending().bs());
    }

    @Test
    void dataBreakpointIsATrap() {
        DebugRegisters r = regs(0, 0x1000L, WRITE, ONE, true);
        assertEquals(EventClass.TRAP, write(r, 0x1000L, 1).orElseThrow().eventClass());
    }

    @Test
    void dataBreakpointRangeIsTheAddressAlignedDownToItsLength() {
        DebugRegisters r = regs(0, 0x1003L, READ_WRITE, FOUR, true);
        assertTrue(read(r, 0x1000L, 1).isPresent());
        assertTrue(read(r, 0x1002L, 1).isPresent());
        assertFalse(read(r, 0x1004L, 1).isPresent());
        assertFalse(read(r, 0x0FFFL, 1).isPresent());
    }

    @Test
    void anyByteOfAnAccessOverlappingTheRangeMatches() {
        DebugRegisters r = regs(0, 0x1008L, WRITE, TWO, true);
        assertTrue(write(r, 0x1001L, 8).isPresent());   // last byte 0x1008
        assertTrue(write(r, 0x1009L, 4).isPresent());   // first byte in range
        assertFalse(write(r, 0x1000L, 8).isPresent());  // ends at 0x1007
        assertFalse(write(r, 0x100AL, 2).isPresent());
    }

    @Test
    void lenTenIsEightBytes() {
        DebugRegisters r = regs(0, 0x2005L, READ_WRITE, EIGHT, true);
        assertTrue(read(r, 0x2000L, 1).isPresent());
        assertTrue(read(r, 0x2007L, 1).isPresent());
        assertFalse(read(r, 0x2008L, 1).isPresent());
    }

    @Test
    void lenTenIsEightBytesOutside64BitModeToo() {
        DebugRegisters r = regs(0, 0x2005L, READ_WRITE, EIGHT, true);
        CpuMode legacy = new CpuMode(0, true, false);
        assertTrue(BreakpointMatcher.dataAccess(r, 0x2000L, 1, READ, legacy).isPresent());
        assertTrue(BreakpointMatcher.dataAccess(r, 0x2007L, 1, READ, legacy).isPresent());
    }

    @Test
    void readWriteSlotMatchesReadsAndWrites() {
        DebugRegisters r = regs(0, 0x1000L, READ_WRITE, ONE, true);
        assertTrue(read(r, 0x1000L, 1).isPresent());
        assertTrue(write(r, 0x1000L, 1).isPresent());
    }

    @Test
    void readWriteSlotDoesNotMatchInstructionFetches() {
        DebugRegisters r = regs(0, 0x401000L, READ_WRITE, ONE, true);
        assertTrue(BreakpointMatcher.instructionFetch(r, 0x401000L, false, K).isEmpty());
    }

    @Test
    void writeSlotMatchesOnlyWrites() {
        DebugRegisters r = regs(0, 0x1000L, WRITE, ONE, true);
        assertTrue(read(r, 0x1000L, 1).isEmpty());
        assertTrue(write(r, 0x1000L, 1).isPresent());
        assertTrue(BreakpointMatcher.instructionFetch(r, 0x1000L, false, K).isEmpty());
    }

    @Test
    void executeSlotNeverMatchesDataAccesses() {
        DebugRegisters r = regs(0, 0x1000L, EXECUTE, ONE, true);
        assertTrue(read(r, 0x1000L, 1).isEmpty());
        assertTrue(write(r, 0x1000L, 1).isEmpty());
    }

    @Test
    void executeSlotWithLenOtherThanZeroMatchesOnlyTheExactAddress() {
        DebugRegisters r = regs(0, 0x401002L, EXECUTE, FOUR, true);
        assertTrue(BreakpointMatcher.instructionFetch(r, 0x401002L, false, K).isPresent());
        assertTrue(BreakpointMatcher.instructionFetch(r, 0x401000L, false, K).isEmpty());
        assertTrue(BreakpointMatcher.instructionFetch(r, 0x401003L, false, K).isEmpty());
    }

    @Test
    void ioBreakpointMatchesPortAccessesWhenCr4DeIsSet() {
        DebugRegisters r = regs(1, 0x3F8L, IO, ONE, true);
        DebugException e = BreakpointMatcher.ioAccess(r, 0x3F8, 1, K).orElseThrow();
        assertEquals(EventClass.TRAP, e.eventClass());
        assertEquals(0b0010, e.pending().bMask());
        assertTrue(BreakpointMatcher.ioAccess(r, 0x3F9, 1, K).isEmpty());
    }

    @Test
    void ioBreakpointUsesTheSameAlignmentAndOverlapRule() {
        DebugRegisters r = regs(0, 0xCFDL, IO, FOUR, true);
        // 0xCFD aligned down to four bytes watches ports 0xCFC..0xCFF.
        assertTrue(BreakpointMatcher.ioAccess(r, 0xCFC, 1, K).isPresent());
        assertTrue(BreakpointMatcher.ioAccess(r, 0xCFA, 4, K).isPresent());
        assertTrue(BreakpointMatcher.ioAccess(r, 0xCF8, 4, K).isEmpty());
    }

    @Test
    void ioBreakpointNeverMatchesWhenCr4DeIsClear() {
        DebugRegisters r = regs(0, 0x3F8L, IO, ONE, true);
        assertTrue(BreakpointMatcher.ioAccess(r, 0x3F8, 1, K_DE0).isEmpty());
    }

    @Test
    void ioBreakpointDoesNotMatchMemoryAtTheSameAddress() {
        DebugRegisters r = regs(0, 0x3F8L, IO, ONE, true);
        assertTrue(read(r, 0x3F8L, 1).isEmpty());
    }

    @Test
    void completedSingleStepIsATrapWithBs() {
        DebugException e = BreakpointMatcher.singleStep(DebugRegisters.INIT);
        assertEquals(EventClass.TRAP, e.eventClass());
        assertTrue(e.pending().bs());
        assertEquals(0xFFFF_0FF0L | Dr6.BS, e.dr6().value());
    }

    @Test
    void dataBreakpointAndSingleStepOnOneInstructionAreOneTrapWithBothConditions() {
        DebugRegisters r = regs(0, 0x1000L, WRITE, ONE, true);
        DebugException e = BreakpointMatcher.afterInstruction(r,
                List.of(new Access.DataAccess(0x1000L, 1, DataAccessKind.WRITE)), true, K).orElseThrow();
        assertEquals(PendingDebug.ofSlots(1).or(PendingDebug.singleStep()), e.pending());
    }

    @Test
    void icebpIsATrapDebugExceptionWithoutBs() {
        DebugException e = BreakpointMatcher.icebp(DebugRegisters.INIT);
        assertEquals(ExceptionVector.DB, e.vector());
        assertEquals(EventClass.TRAP, e.eventClass());
        assertTrue(e.pending().isEmpty());
        assertEquals(Dr6.RESET, e.dr6());
    }

    @Test
    void int3IsBreakpointExceptionNotDebugException() {
        DebugException e = BreakpointMatcher.int3(DebugRegisters.INIT);
        assertEquals(ExceptionVector.BP, e.vector());
        assertEquals(EventClass.TRAP, e.eventClass());
        assertEquals(Dr6.RESET, e.dr6());
    }

    @Test
    void reportedDr6KeepsStickyStatusBitsAndReplacesTheSlotBits() {
        DebugRegisters r = regs(0, 0x1000L, WRITE, ONE, true).withDr6(new Dr6(0b1000 | Dr6.BS));
        assertEquals(0xFFFF_0FF0L | 0b0001 | Dr6.BS, write(r, 0x1000L, 1).orElseThrow().dr6().value());
    }

    @Test
    void generalDetectOnlyWhenGdIsSet() {
        assertTrue(BreakpointMatcher.generalDetect(DebugRegisters.INIT).isEmpty());
        DebugException e = BreakpointMatcher.generalDetect(DebugRegisters.INIT.withDr7(new Dr7(Dr7.GD))).orElseThrow();
        assertEquals(EventClass.FAULT, e.eventClass());
        assertEquals(PendingDebug.generalDetect(), e.pending());
    }

    @Test
    void dataBreakpointRangeWrapsAroundTheTopOfTheAddressSpace() {
        DebugRegisters r = regs(0, 0L, READ_WRITE, FOUR, true);
        assertTrue(read(r, -2L, 4).isPresent());   // bytes 0xFFFF..FE, FF, 0, 1
        assertTrue(read(r, -4L, 4).isEmpty());
    }
}
