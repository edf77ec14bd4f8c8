package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.x86.Gpr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static dev.tdemu.core.tdx.TdFixture.RIP;
import static dev.tdemu.core.tdx.TdFixture.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TdgVpVmcallTest {

    private final TdFixture f = TdFixture.standard();
    private final TdVcpu v = f.td.addVcpu();

    private static TdcallRegs vmcall(long rcx) {
        TdcallRegs r = call(TdcallLeaf.TDG_VP_VMCALL).with(Gpr.RCX, rcx);
        for (Gpr g : Gpr.values()) {
            if (g != Gpr.RAX && g != Gpr.RCX) {
                r = r.with(g, 0x1000 + g.index());
            }
        }
        return r;
    }

    @Test
    void theHostSeesOnlyTheRegistersRcxSelectsAndTheMaskInRcx() {
        TdVmcallArgs args = assertInstanceOf(TdcallResult.VmcallExit.class, f.module.tdcall(v, vmcall(0xFC00))).args();
        assertEquals(0xFC00, args.rcx());
        assertEquals(0x1000 + 12, args.r12());
        assertEquals(0x1000 + 15, args.r15());
        assertTrue(args.passes(Gpr.R10));
        assertFalse(args.passes(Gpr.RBX));
        assertEquals(0, args.get(Gpr.RBX), "a register the TD did not pass reads 0 on the host side");
        assertEquals(0, args.get(Gpr.RDI));
        assertTrue(v.vmcallPending());
    }

    @Test
    void theXmmSelectMaskIsReportedInRcxBits31To16() {
        TdVmcallArgs args = assertInstanceOf(TdcallResult.VmcallExit.class,
                f.module.tdcall(v, vmcall(0x0003_FC00L))).args();
        assertEquals(3, args.xmmSelect());
        assertEquals(0x3FC00, args.rcx());
    }

    @ParameterizedTest
    @EnumSource(value = Gpr.class, names = {"RAX", "RCX", "RSP", "RBP"})
    void aMaskSelectingRaxRcxRspOrRbpIsOperandInvalidNamingRcx(Gpr forbidden) {
        TdcallResult.Completed c = f.completed(v, vmcall(0xFC00 | forbidden.bit()));
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RCX), c.status());
        assertFalse(v.vmcallPending(), "nothing reaches the host");
    }

    @Test
    void reservedBitsOfRcxAreOperandInvalid() {
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RCX), f.status(v, vmcall(0xFC00 | (1L << 32))));
    }

    @Test
    void theReturnGivesTheTdOnlyTheRegistersItPassedAndTdxSuccess() {
        f.module.tdcall(v, vmcall(0x0C00)); // R10, R11
        GprUpdates host = GprUpdates.builder().set(Gpr.R10, 0).set(Gpr.R11, 0x42).set(Gpr.R12, 0x99).set(Gpr.RBX, 7)
                .build();
        TdcallResult.Completed c = f.module.vmcallReturn(v, host);
        assertEquals(GprUpdates.builder().set(Gpr.RAX, 0).set(Gpr.R10, 0).set(Gpr.R11, 0x42).build(), c.updates());
        assertEquals(RIP + 4, c.nextRip());
        assertFalse(c.singleStepTrap());
        assertFalse(v.vmcallPending());
    }

    @Test
    void aVmcallMadeUnderTheTrapFlagOwesItsSingleStepTrapWhenItCompletes() {
        f.module.tdcall(v, vmcall(0xFC00).withRflags(0x2 | Rflags.TF));
        assertTrue(f.module.vmcallReturn(v, GprUpdates.of(Gpr.R10, 0)).singleStepTrap());
    }

    @Test
    void enteringWithoutAnsweringAPendingVmcallIsAVmmBug() {
        f.module.tdcall(v, vmcall(0xFC00));
        assertThrows(IllegalStateException.class, () -> f.module.tdcall(v, call(TdcallLeaf.TDG_VP_INFO)));
    }

    @Test
    void answeringAVmcallThatWasNotMadeIsAVmmBug() {
        assertThrows(IllegalStateException.class, () -> f.module.vmcallReturn(v, GprUpdates.NONE));
    }
}
