package dev.tdemu.core.kvm;

import dev.tdemu.core.x86.Gpr;
import dev.tdemu.core.tdx.GprUpdates;
import dev.tdemu.core.tdx.TdVmcallArgs;
import dev.tdemu.core.tdx.TdvmcallLeaf;
import dev.tdemu.core.tdx.TdvmcallStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** KVM's TDG.VP.VMCALL handling, leaf by leaf, on a TD with GPAW 48 (SHARED = bit 47). */
class TdxVmcallTest {

    private static final long SHARED = 1L << 47;
    private static final long SUCCESS = TdvmcallStatus.TDVMCALL_STATUS_SUCCESS.code();
    private static final long INVALID = TdvmcallStatus.TDVMCALL_STATUS_INVALID_OPERAND.code();

    private final FakeVmm vmm = new FakeVmm();
    private final TdxVmcall kvm = new TdxVmcall(vmm, 48);

    private TdVmcallResult ghci(TdvmcallLeaf leaf, long r12, long r13, long r14, long r15) {
        return kvm.handleTdvmcall(TdVmcallArgs.ofR10ToR15(0, leaf.number(), r12, r13, r14, r15));
    }

    private GprUpdates completed(TdVmcallResult r) {
        return assertInstanceOf(TdVmcallResult.Completed.class, r).registers();
    }

    private long r10(TdVmcallResult r) {
        return assertInstanceOf(TdVmcallResult.Completed.class, r).r10();
    }

    @Test
    void cpuidReturnsKvmsFourRegistersInR12ToR15() {
        GprUpdates out = completed(ghci(TdvmcallLeaf.INSTRUCTION_CPUID, 0xFFFF_FFFF_0000_0007L, 0x1_0000_0001L, 0, 0));
        assertEquals(List.of("cpuid 0x7 0x1"), vmm.calls, "bits 63:32 of R12 and R13 are ignored, as CPUID ignores them");
        assertEquals(GprUpdates.builder().set(Gpr.R10, SUCCESS).set(Gpr.R12, 7).set(Gpr.R13, 1)
                .set(Gpr.R14, 0x8000_0000L).set(Gpr.R15, 0xFFFF_FFFFL).build(), out);
    }

    @Test
    void hltHaltsTheVcpuWithTheTdsInterruptBlockedFlag() {
        TdVmcallResult.Halt open = assertInstanceOf(TdVmcallResult.Halt.class, ghci(TdvmcallLeaf.INSTRUCTION_HLT, 0, 0, 0, 0));
        assertFalse(open.interruptsBlocked());
        assertEquals(GprUpdates.of(Gpr.R10, SUCCESS), open.registers());
        assertTrue(assertInstanceOf(TdVmcallResult.Halt.class, ghci(TdvmcallLeaf.INSTRUCTION_HLT, 1, 0, 0, 0))
                .interruptsBlocked());
        assertTrue(vmm.calls.isEmpty(), "halting is the vCPU loop's business, not the VMM's");
    }

    @Test
    void ioWritesTheLowBytesOfR15ToThePort() {
        assertEquals(SUCCESS, r10(ghci(TdvmcallLeaf.INSTRUCTION_IO, 2, 1, 0x3F8, 0xDEAD_BEEFL)));
        assertEquals(List.of("out 2 0x3f8 0xbeef"), vmm.calls);
    }

    @Test
    void ioReadReturnsTheValueOfTheAccessSizeInR11() {
        GprUpdates out = completed(ghci(TdvmcallLeaf.INSTRUCTION_IO, 4, 0, 0x71, 0));
        assertEquals(0x71, out.value(Gpr.R11), "a 4-byte read is 32 bits wide");
        assertEquals(SUCCESS, out.value(Gpr.R10));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 3, 8, -1})
    void ioOfAnInvalidSizeIsInvalidOperandAndTouchesNoPort(long size) {
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.INSTRUCTION_IO, size, 1, 0xE9, 0x41)));
        assertTrue(vmm.calls.isEmpty());
    }

    @Test
    void ioWithAnInvalidDirectionOrAPortAbove0xFFFFIsInvalidOperand() {
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.INSTRUCTION_IO, 1, 2, 0xE9, 0x41)));
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.INSTRUCTION_IO, 1, 1, 0x1_00E9, 0x41)));
        assertTrue(vmm.calls.isEmpty());
    }

    @Test
    void rdmsrReturnsTheValueInR11AndAGpAsInvalidOperand() {
        assertEquals(0x1234, completed(ghci(TdvmcallLeaf.INSTRUCTION_RDMSR, 0x10, 0, 0, 0)).value(Gpr.R11));
        assertEquals(GprUpdates.of(Gpr.R10, INVALID), completed(ghci(TdvmcallLeaf.INSTRUCTION_RDMSR, 0x11, 0, 0, 0)));
        completed(ghci(TdvmcallLeaf.INSTRUCTION_RDMSR, 0xFFFF_FFFF_0000_0010L, 0, 0, 0));
        assertEquals("rdmsr 0x10", vmm.calls.get(2), "the index is ECX's 32 bits");
    }

    @Test
    void wrmsrWritesR13AndAGpIsInvalidOperand() {
        assertEquals(SUCCESS, r10(ghci(TdvmcallLeaf.INSTRUCTION_WRMSR, 0x10, 0x1_0000_0002L, 0, 0)));
        assertEquals("wrmsr 0x10 0x100000002", vmm.calls.get(0));
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.INSTRUCTION_WRMSR, 0x11, 0, 0, 0)));
    }

    @Test
    void mmioReachesTheDeviceAtTheGpaWithoutTheSharedBit() {
        assertEquals(SUCCESS, r10(ghci(TdvmcallLeaf.VE_REQUEST_MMIO, 4, 1, SHARED | 0xFEE0_00B0L, 0xAAAA_0000_0000_0001L)));
        GprUpdates read = completed(ghci(TdvmcallLeaf.VE_REQUEST_MMIO, 2, 0, SHARED | 0xFEC0_0010L, 0));
        assertEquals(List.of("mmio write 4 0xfee000b0 0x1", "mmio read 2 0xfec00010"), vmm.calls);
        assertEquals(0x7788, read.value(Gpr.R11));
        assertEquals(0x1122_3344_5566_7788L,
                completed(ghci(TdvmcallLeaf.VE_REQUEST_MMIO, 8, 0, SHARED | 0x1000, 0)).value(Gpr.R11));
    }

    @Test
    void mmioChecksSizeDirectionAndTheGpa() {
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.VE_REQUEST_MMIO, 3, 0, SHARED | 0x1000, 0)), "size");
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.VE_REQUEST_MMIO, 4, 2, SHARED | 0x1000, 0)), "direction");
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.VE_REQUEST_MMIO, 4, 0, 0x1000, 0)), "private GPA");
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.VE_REQUEST_MMIO, 4, 0, SHARED | (1L << 48), 0)), "beyond GPAW");
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.VE_REQUEST_MMIO, 8, 0, SHARED | 0x1FFC, 0)), "crosses a page");
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.VE_REQUEST_MMIO, 8, 0, -4, 0)), "wraps");
        assertTrue(vmm.calls.isEmpty());
        assertEquals(SUCCESS, r10(ghci(TdvmcallLeaf.VE_REQUEST_MMIO, 4, 0, SHARED | 0x1FFA, 0)),
                "unaligned inside a page is allowed, as KVM allows it");
    }

    @Test
    void getTdVmCallInfoAnswersLeaves0And1WithZeros() {
        GprUpdates zeros = GprUpdates.builder().set(Gpr.R10, SUCCESS).set(Gpr.R11, 0).set(Gpr.R12, 0).set(Gpr.R13, 0)
                .set(Gpr.R14, 0).build();
        assertEquals(zeros, completed(ghci(TdvmcallLeaf.GET_TD_VM_CALL_INFO, 0, 0, 0, 0)));
        assertEquals(zeros, completed(ghci(TdvmcallLeaf.GET_TD_VM_CALL_INFO, 1, 0, 0, 0)));
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.GET_TD_VM_CALL_INFO, 2, 0, 0, 0)));
    }

    @Test
    void mapGpaToPrivateSucceedsBecauseTdMemoryIsAllPrivate() {
        assertEquals(GprUpdates.of(Gpr.R10, SUCCESS), completed(ghci(TdvmcallLeaf.MAP_GPA, 0x20_0000, 0x1000, 0, 0)));
    }

    @Test
    void mapGpaToSharedFailsLoudly() {
        TdVmcallResult r = ghci(TdvmcallLeaf.MAP_GPA, SHARED | 0x20_0000, 0x2000, 0, 0);
        assertTrue(assertInstanceOf(TdVmcallResult.NotModelled.class, r).what().contains("shared"));
    }

    @Test
    void mapGpaChecksTheRangeThenTheAlignmentAndReportsTheGpaInR11() {
        long misaligned = 0x20_0800;
        assertEquals(GprUpdates.builder().set(Gpr.R10, TdvmcallStatus.TDVMCALL_STATUS_ALIGN_ERROR.code())
                .set(Gpr.R11, misaligned).build(), completed(ghci(TdvmcallLeaf.MAP_GPA, misaligned, 0x1000, 0, 0)));
        assertEquals(TdvmcallStatus.TDVMCALL_STATUS_ALIGN_ERROR.code(),
                r10(ghci(TdvmcallLeaf.MAP_GPA, 0x20_0000, 0x800, 0, 0)));
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.MAP_GPA, 0x20_0000, 0, 0, 0)), "empty");
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.MAP_GPA, SHARED - 0x1000, 0x2000, 0, 0)), "both sides of SHARED");
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.MAP_GPA, -0x1000, 0x2000, 0, 0)), "wraps");
    }

    @Test
    void getQuoteIsCheckedThenUnsupportedBecauseTdemuHasNoQuoteService() {
        assertEquals(TdvmcallStatus.TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED.code(),
                r10(ghci(TdvmcallLeaf.GET_QUOTE, SHARED | 0x10_0000, 0x1000, 0, 0)));
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.GET_QUOTE, 0x10_0000, 0x1000, 0, 0)), "the buffer must be shared");
        assertEquals(INVALID, r10(ghci(TdvmcallLeaf.GET_QUOTE, SHARED | 0x10_0000, 0, 0, 0)), "and not empty");
        assertEquals(TdvmcallStatus.TDVMCALL_STATUS_ALIGN_ERROR.code(),
                r10(ghci(TdvmcallLeaf.GET_QUOTE, SHARED | 0x10_0010, 0x1000, 0, 0)));
    }

    @Test
    void setupEventNotifyInterruptAndUnknownLeavesAreUnsupported() {
        long unsupported = TdvmcallStatus.TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED.code();
        assertEquals(unsupported, r10(ghci(TdvmcallLeaf.SETUP_EVENT_NOTIFY_INTERRUPT, 0x30, 0, 0, 0)));
        assertEquals(unsupported, r10(kvm.handleTdvmcall(TdVmcallArgs.ofR10ToR15(0, 11, 0, 0, 0, 0))));
        assertEquals(unsupported, r10(kvm.handleTdvmcall(TdVmcallArgs.ofR10ToR15(0, -1, 0, 0, 0, 0))));
    }

    @Test
    void reportFatalErrorEndsTheVmWithTheErrorCodeAndTheRegisters() {
        TdVmcallArgs args = TdVmcallArgs.ofR10ToR15(0, 0x10003, (1L << 63) | 0x17, 0x8000, 0, 0);
        VmEnd end = assertInstanceOf(TdVmcallResult.Ends.class, kvm.handleTdvmcall(args)).end();
        VmEnd.TdFatalError fatal = assertInstanceOf(VmEnd.TdFatalError.class, end);
        assertEquals((1L << 63) | 0x17, fatal.errorCode());
        assertTrue(fatal.gpaValid());
        assertEquals(0x8000, fatal.registers().r13());
    }

    @Test
    void aRegisterTheTdDidNotPassReadsAsZero() {
        // R12 (the CPUID leaf) not in the mask: KVM reads the module's 0.
        TdVmcallArgs args = new TdVmcallArgs(Gpr.R10.bit() | Gpr.R11.bit() | Gpr.R13.bit(), 0,
                GprUpdates.builder().set(Gpr.R10, 0).set(Gpr.R11, 10).set(Gpr.R12, 0x21).set(Gpr.R13, 0).build());
        completed(kvm.handleTdvmcall(args));
        assertEquals(List.of("cpuid 0x0 0x0"), vmm.calls);
    }

    @Test
    void aKvmHypercallNumberInR10IsAnsweredWithEnosys() {
        assertEquals(-1000L, r10(kvm.handleTdvmcall(TdVmcallArgs.ofR10ToR15(1, 0, 0, 0, 0, 0))));
        assertTrue(vmm.calls.isEmpty());
    }

    @Test
    void onlyGpaw48And52Exist() {
        assertThrows(IllegalArgumentException.class, () -> new TdxVmcall(vmm, 40));
    }
}
