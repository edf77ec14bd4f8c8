package dev.tdemu.core.kvm;

import dev.tdemu.core.x86.Gpr;
import dev.tdemu.core.tdx.GprUpdates;
import dev.tdemu.core.tdx.TdVmcallArgs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** tdemu's hypercalls: one validation for VMCALL (VMX) and the TD vendor leaf. */
class TdemuHypercallTest {

    private final FakeVmm vmm = new FakeVmm();

    private HypercallResult vmcall(long nr, long a0, long a1, long a2) {
        return KvmHypercall.handleVmcall(nr, a0, a1, a2, vmm);
    }

    private long returned(HypercallResult r) {
        return assertInstanceOf(HypercallResult.Returned.class, r).value();
    }

    /** The same call through TDG.VP.VMCALL; R10 is always success and R11 carries the hypercall's value. */
    private long viaTd(long nr, long a0, long a1, long a2) {
        TdVmcallResult r = new TdxVmcall(vmm, 48).handleTdvmcall(
                TdVmcallArgs.ofR10ToR15(TdemuHypercall.TD_VENDOR_LEAF, nr, a0, a1, a2, 0));
        GprUpdates out = assertInstanceOf(TdVmcallResult.Completed.class, r).registers();
        assertEquals(0, out.value(Gpr.R10));
        return out.value(Gpr.R11);
    }

    @Test
    void writeHandsTheGuestRangeToTheConsole() {
        assertEquals(0, returned(vmcall(0x101, 0x20_1000, 12, 0)));
        assertEquals(List.of("write 0x201000 12"), vmm.calls);
    }

    @Test
    void writeOfUnmappedMemoryIsEfault() {
        assertEquals(-14, returned(vmcall(0x101, 1L << 62, 12, 0)));
    }

    @Test
    void writeOfNothingSucceedsWithoutTouchingTheConsole() {
        assertEquals(0, returned(vmcall(0x101, 0x1000, 0, 0)));
        assertTrue(vmm.calls.isEmpty());
    }

    @ParameterizedTest
    @CsvSource({"1048577", "-1", "-1048576", "4294967296"})
    void writeLongerThanOneMegabyteOrNegativeIsEinvalAndWritesNothing(long length) {
        assertEquals(-22, returned(vmcall(0x101, 0x1000, length, 0)));
        assertEquals(-22, viaTd(0x101, 0x1000, length, 0));
        assertTrue(vmm.calls.isEmpty());
    }

    @Test
    void writeOfARangeThatWrapsIsEfault() {
        assertEquals(-14, returned(vmcall(0x101, -8, 16, 0)));
        assertTrue(vmm.calls.isEmpty());
    }

    @Test
    void exitEndsTheVmWithTheStatus() {
        VmEnd end = assertInstanceOf(HypercallResult.Ends.class, vmcall(0x100, 3, 0, 0)).end();
        assertEquals(new VmEnd.Exited(3), end);
    }

    @Test
    void exitWithAStatusAbove255IsEinvalAndTheGuestGoesOn() {
        assertEquals(-22, returned(vmcall(0x100, 256, 0, 0)));
        assertEquals(-22, viaTd(0x100, -1, 0, 0));
    }

    @Test
    void hostWorkloadReturnsTheHitsSoFar() {
        vmm.hostHits = 9;
        assertEquals(9, returned(vmcall(0x102, 0, 0, 0)));
        assertEquals(9, viaTd(0x102, 0, 0, 0));
    }

    @Test
    void readHostDrsStoresAtTheAddressOrIsEfault() {
        assertEquals(0, returned(vmcall(0x103, 0x3000, 0, 0)));
        assertEquals(-14, returned(vmcall(0x103, 1L << 62, 0, 0)));
        assertEquals(-14, returned(vmcall(0x103, -16, 0, 0)), "48 bytes from there wrap");
    }

    @Test
    void anUnknownNumberIsEnosys() {
        assertEquals(-1000, returned(vmcall(0x104, 0, 0, 0)));
        assertEquals(-1000, viaTd(0, 0, 0, 0));
        assertEquals(-1000, returned(vmcall(0x1_0000_0100L, 0, 0, 0)), "all 64 bits of the number count");
    }

    @Test
    void theTdVendorLeafTakesItsArgumentsFromR12ToR14() {
        viaTd(0x101, 0x4000, 3, 0);
        assertEquals(List.of("write 0x4000 3"), vmm.calls);
        TdVmcallResult exit = new TdxVmcall(vmm, 48).handleTdvmcall(
                TdVmcallArgs.ofR10ToR15(TdemuHypercall.TD_VENDOR_LEAF, 0x100, 7, 0, 0, 0));
        assertEquals(new VmEnd.Exited(7), assertInstanceOf(TdVmcallResult.Ends.class, exit).end());
    }
}
