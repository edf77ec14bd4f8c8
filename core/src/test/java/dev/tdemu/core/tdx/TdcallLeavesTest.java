package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.x86.Gpr;
import dev.tdemu.core.x86.CpuMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.tdemu.core.tdx.TdFixture.RIP;
import static dev.tdemu.core.tdx.TdFixture.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TdcallLeavesTest {

    private final TdFixture f = TdFixture.standard();

    @Test
    void vpInfoReportsGpawAttributesVcpuCountsAndTheCallersIndex() {
        TdFixture debug = new TdFixture(new TdParams(TdAttributes.DEBUG_TD, 4, TdParams.GPAW_48, 64 * TdFixture.MIB, 0));
        debug.td.addVcpu();
        debug.td.addVcpu();
        TdVcpu third = debug.td.addVcpu();
        TdcallResult.Completed c = debug.completed(third, call(TdcallLeaf.TDG_VP_INFO).with(Gpr.RBX, 0x55));
        GprUpdates u = c.updates();
        assertEquals(TdxStatus.TDX_SUCCESS.code(), c.status());
        assertEquals(48, u.value(Gpr.RCX));
        assertEquals(TdAttributes.DEBUG, u.value(Gpr.RDX));
        assertEquals((4L << 32) | 3, u.value(Gpr.R8), "MAX_VCPUS in bits 63:32, NUM_VCPUS in bits 31:0");
        assertEquals(2, u.value(Gpr.R9));
        assertEquals(0, u.value(Gpr.R10), "TDG.SYS.RD is not offered");
        assertEquals(0, u.value(Gpr.R11));
        assertFalse(u.writes(Gpr.RBX), "registers the leaf does not define keep their values");
        assertEquals(RIP + 4, c.nextRip());
        assertFalse(c.singleStepTrap());
    }

    @Test
    void vpInfoReportsGpaw52ForAWideTd() {
        TdFixture wide = new TdFixture(new TdParams(TdAttributes.NON_DEBUG, 1, TdParams.GPAW_52, TdFixture.MIB, 0));
        assertEquals(52, wide.completed(wide.td.addVcpu(), call(TdcallLeaf.TDG_VP_INFO)).updates().value(Gpr.RCX));
    }

    @Test
    void aTdcallCompletedUnderTheTrapFlagOwesASingleStepTrap() {
        TdVcpu v = f.td.addVcpu();
        TdcallResult.Completed c = f.completed(v, call(TdcallLeaf.TDG_VP_INFO).withRflags(0x2 | Rflags.TF));
        assertTrue(c.singleStepTrap());
        assertEquals(RIP + 4, c.nextRip());
    }

    @Test
    void aFailedTdcallUnderTheTrapFlagStillOwesTheTrap() {
        TdVcpu v = f.td.addVcpu();
        TdcallResult.Completed c = f.completed(v, call(0xFFFF).withRflags(0x2 | Rflags.TF));
        assertTrue(c.singleStepTrap(), "the TDCALL instruction completed; only the leaf failed");
    }

    @ParameterizedTest
    @ValueSource(longs = {1L << 24, 1L << 31, 1L << 32, 1L << 63})
    void reservedBitsOfRaxAreOperandInvalidNamingRax(long reserved) {
        TdVcpu v = f.td.addVcpu();
        TdcallResult.Completed c = f.completed(v, call(TdcallLeaf.TDG_VP_INFO.number() | reserved));
        assertEquals(0xC000_0100_0000_0000L, c.status(), "TDX_OPERAND_INVALID with operand ID 0 (RAX)");
        assertEquals(GprUpdates.of(Gpr.RAX, 0xC000_0100_0000_0000L), c.updates(), "nothing but RAX changes");
    }

    @ParameterizedTest
    @ValueSource(ints = {13, 14, 17, 19, 21, 28, 0x100, 0xFFFF})
    void anUnknownLeafIsOperandInvalidNamingRax(int leaf) {
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RAX), f.status(f.td.addVcpu(), call(leaf)));
    }

    @Test
    void aVersionAboveZeroIsOperandInvalidForEveryLeafButVmRd() {
        TdVcpu v = f.td.addVcpu();
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RAX), f.status(v, call(1 | (1L << 16))));
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RAX), f.status(v, call(6 | (1L << 16))));
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RAX), f.status(v, call(7 | (2L << 16))),
                "TDG.VM.RD knows versions 0 and 1 only");
    }

    @Test
    void tdcallOutside64BitModeIsGpAndChangesNothing() {
        TdVcpu v = f.td.addVcpu();
        TdcallResult r = f.module.tdcall(v, call(TdcallLeaf.TDG_VP_INFO).withMode(new CpuMode(0, true, false)));
        assertInstanceOf(TdcallResult.InjectGp.class, r);
    }

    @Test
    void tdcallAboveCpl0IsGp() {
        TdVcpu v = f.td.addVcpu();
        TdcallResult r = f.module.tdcall(v, TdFixture.userMode(call(TdcallLeaf.TDG_VP_VMCALL).with(Gpr.RCX, 0xFC00)));
        assertEquals("TDCALL at CPL 3", assertInstanceOf(TdcallResult.InjectGp.class, r).reason());
        assertFalse(v.vmcallPending(), "a faulting TDCALL does not reach the host");
    }

    @ParameterizedTest
    @EnumSource(value = TdcallLeaf.class, names = {"TDG_SYS_RD", "TDG_SYS_RDALL", "TDG_SERVTD_RD", "TDG_SERVTD_WR",
        "TDG_MR_VERIFYREPORT", "TDG_MEM_PAGE_ATTR_RD", "TDG_MEM_PAGE_ATTR_WR", "TDG_VP_ENTER", "TDG_VP_INVEPT",
        "TDG_VP_INVVPID"})
    void knownLeavesTdemuDoesNotModelFailLoudly(TdcallLeaf leaf) {
        TdcallResult.NotModelled n = assertInstanceOf(TdcallResult.NotModelled.class,
                f.module.tdcall(f.td.addVcpu(), call(leaf)));
        assertEquals(leaf, n.leaf());
        assertTrue(n.what().contains(leaf.spelling()), n.what());
    }

    @Test
    void rtmrExtendChecksItsOperandsThenFailsLoudly() {
        TdVcpu v = f.td.addVcpu();
        TdcallRegs ok = call(TdcallLeaf.TDG_MR_RTMR_EXTEND).with(Gpr.RCX, 0x20_0040).with(Gpr.RDX, 3);
        assertInstanceOf(TdcallResult.NotModelled.class, f.module.tdcall(v, ok));
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RCX), f.status(v, ok.with(Gpr.RCX, 0x20_0020)),
                "the extension must be 64-byte aligned");
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RCX), f.status(v, ok.with(Gpr.RCX, 1L << 47)),
                "the extension must be in private memory");
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RDX), f.status(v, ok.with(Gpr.RDX, 4)),
                "there are four RTMRs");
    }

    @Test
    void reportChecksItsOperandsThenFailsLoudly() {
        TdVcpu v = f.td.addVcpu();
        TdcallRegs ok = call(TdcallLeaf.TDG_MR_REPORT).with(Gpr.RCX, 0x40_0400).with(Gpr.RDX, 0x40_0040);
        assertEquals(TdcallLeaf.TDG_MR_REPORT,
                assertInstanceOf(TdcallResult.NotModelled.class, f.module.tdcall(v, ok)).leaf());
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RCX), f.status(v, ok.with(Gpr.RCX, 0x40_0200)),
                "TDREPORT_STRUCT is 1024-byte aligned");
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RDX), f.status(v, ok.with(Gpr.RDX, 0x40_0008)),
                "REPORTDATA is 64-byte aligned");
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.R8), f.status(v, ok.with(Gpr.R8, 1)),
                "report subtype 0 only");
    }

    @Test
    void cpuidveSetRefusesReservedBitsAndSetsThePerCplControls() {
        TdVcpu v = f.td.addVcpu();
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RCX),
                f.status(v, call(TdcallLeaf.TDG_VP_CPUIDVE_SET).with(Gpr.RCX, 4)));
        assertFalse(v.cpuidSupervisorVe());
        assertEquals(TdxStatus.TDX_SUCCESS.code(), f.status(v, call(TdcallLeaf.TDG_VP_CPUIDVE_SET).with(Gpr.RCX, 1)));
        assertTrue(v.cpuidSupervisorVe());
        assertFalse(v.cpuidUserVe());
    }

    @Test
    void theTdsVcpusAreNumberedInCreationOrderUpToMaxVcpus() {
        for (int i = 0; i < 4; i++) {
            assertEquals(i, f.td.addVcpu().vcpuIndex());
        }
        assertEquals(4, f.td.numVcpus());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, f.td::addVcpu);
    }
}
