package dev.tdemu.core.pc;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

import static dev.tdemu.core.pc.MsrIndex.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MsrFileTest {
    private static final long ADDR_64 = 0x0000_1234_5678_9ABCL;
    private static final long NONCANONICAL = 0xAAAA_AAAA_AAAA_AAAAL;

    /** The engine and the rest of the vCPU, as plain fields. */
    private static final class FakeVcpu implements MsrVcpuContext {
        final Map<Integer, Long> engine = new HashMap<>();
        boolean paging;
        long debugctl;

        @Override
        public long readEngineMsr(int index) {
            assertTrue(MsrFile.engineOwned(index), MsrIndex.name(index) + " is not the engine's");
            return engine.getOrDefault(index, 0L);
        }

        @Override
        public void writeEngineMsr(int index, long value) {
            assertTrue(MsrFile.engineOwned(index), MsrIndex.name(index) + " is not the engine's");
            engine.put(index, value);
        }

        @Override
        public boolean pagingEnabled() {
            return paging;
        }

        @Override
        public long debugctl() {
            return debugctl;
        }

        @Override
        public void setDebugctl(long value) {
            debugctl = value;
        }
    }

    private final LocalApicFixture apic = new LocalApicFixture();
    private final FakeVcpu vcpu = new FakeVcpu();
    private final MsrFile msrs = new MsrFile(CpuidFeatures.UNICORN_QEMU64, apic.apic, vcpu);

    private long read(int index) {
        MsrRead r = msrs.read(index);
        assertInstanceOf(MsrRead.Value.class, r, () -> MsrIndex.name(index) + ": " + r);
        return ((MsrRead.Value) r).value();
    }

    private void write(int index, long value) {
        MsrWrite w = msrs.write(index, value);
        assertEquals(MsrWrite.DONE, w, () -> String.format("%s <- 0x%x", MsrIndex.name(index), value));
    }

    private void assertWriteGp(int index, long value) {
        assertInstanceOf(MsrWrite.Gp.class, msrs.write(index, value), () -> String.format("%s <- 0x%x", MsrIndex.name(index), value));
    }

    private void assertReadGp(int index) {
        assertInstanceOf(MsrRead.Gp.class, msrs.read(index), MsrIndex.name(index));
    }

    /** The read-back table of kvm-unit-tests' msr test, with its read-only bits of MISC_ENABLE kept. */
    @Test
    void writableMsrsReadBackWhatWasWritten() {
        write(IA32_SYSENTER_CS, 0x1234);
        assertEquals(0x1234, read(IA32_SYSENTER_CS));
        for (int index : new int[] {IA32_SYSENTER_ESP, IA32_SYSENTER_EIP, IA32_FS_BASE, IA32_GS_BASE, IA32_KERNEL_GS_BASE,
            IA32_LSTAR, IA32_CSTAR}) {
            write(index, ADDR_64);
            assertEquals(ADDR_64, read(index), MsrIndex.name(index));
        }
        long misc = (0x4_00C5_0809L & ~0x1880L) | (read(IA32_MISC_ENABLE) & 0x1880L);
        write(IA32_MISC_ENABLE, misc);
        assertEquals(misc, read(IA32_MISC_ENABLE));
        write(IA32_PAT, 0x0707_0707L);
        assertEquals(0x0707_0707L, read(IA32_PAT));
        write(IA32_FMASK, 0xFFFF_FFFFL);
        assertEquals(0xFFFF_FFFFL, read(IA32_FMASK));
        write(IA32_STAR, 0x0023_0010_0000_0000L);
        assertEquals(0x0023_0010_0000_0000L, read(IA32_STAR));
    }

    @ParameterizedTest
    @ValueSource(ints = {IA32_FS_BASE, IA32_GS_BASE, IA32_KERNEL_GS_BASE, IA32_LSTAR, IA32_CSTAR})
    void addressMsrsRefuseNonCanonicalValues(int index) {
        write(index, 0xFFFF_8000_0000_0000L);
        assertWriteGp(index, NONCANONICAL);
        assertWriteGp(index, 0x0000_8000_0000_0000L);
        assertEquals(0xFFFF_8000_0000_0000L, read(index), "a refused write changes nothing");
    }

    @Test
    void sysenterAddressesAreCanonicalizedRatherThanRefused() {
        write(IA32_SYSENTER_EIP, 0x0000_8000_0000_1000L);
        assertEquals(0xFFFF_8000_0000_1000L, read(IA32_SYSENTER_EIP));
    }

    @Test
    void engineOwnedMsrsLiveInTheEngine() {
        vcpu.engine.put(IA32_GS_BASE, 0xFFFF_8880_0000_0000L); // SWAPGS ran in the engine
        assertEquals(0xFFFF_8880_0000_0000L, read(IA32_GS_BASE));
        write(IA32_LSTAR, 0xFFFF_FFFF_8100_0000L);
        assertEquals(0xFFFF_FFFF_8100_0000L, vcpu.engine.get(IA32_LSTAR));
        assertTrue(MsrFile.engineOwned(IA32_EFER));
        assertFalse(MsrFile.engineOwned(IA32_PAT));
        assertFalse(MsrFile.engineOwned(IA32_SYSENTER_EIP), "the engine never runs SYSENTER in 64-bit mode");
    }

    @Test
    void eferAcceptsSceLmeNxeAndKeepsTheProcessorsLma() {
        vcpu.engine.put(IA32_EFER, MsrFile.EFER_LME | MsrFile.EFER_LMA);
        vcpu.paging = true;
        write(IA32_EFER, MsrFile.EFER_LME | MsrFile.EFER_SCE | MsrFile.EFER_NX);
        assertEquals(MsrFile.EFER_LME | MsrFile.EFER_LMA | MsrFile.EFER_SCE | MsrFile.EFER_NX, read(IA32_EFER),
                "LMA was not written but stays");
        vcpu.paging = false;
        vcpu.engine.put(IA32_EFER, 0L);
        write(IA32_EFER, MsrFile.EFER_LMA | MsrFile.EFER_LME);
        assertEquals(MsrFile.EFER_LME, read(IA32_EFER), "a written LMA is ignored");
    }

    @Test
    void eferRefusesReservedBitsAndAnLmeChangeWhilePaging() {
        assertWriteGp(IA32_EFER, 1L << 12); // SVME: no SVM offered
        assertWriteGp(IA32_EFER, 1L << 1);
        vcpu.engine.put(IA32_EFER, MsrFile.EFER_LME | MsrFile.EFER_LMA);
        vcpu.paging = true;
        assertWriteGp(IA32_EFER, 0);
        assertEquals(MsrFile.EFER_LME | MsrFile.EFER_LMA, read(IA32_EFER));
    }

    @Test
    void fmaskBits63To32AreReserved() {
        assertWriteGp(IA32_FMASK, 1L << 32);
    }

    @Test
    void theTscIsTheLocalApicsGuestTscAndAWriteSetsItsOffset() {
        apic.clock.set(1_000); // a 1 GHz TSC: 1000 ticks
        assertEquals(1_000, read(IA32_TIME_STAMP_COUNTER));
        write(IA32_TIME_STAMP_COUNTER, 50_000);
        assertEquals(49_000, msrs.tscOffset());
        apic.clock.set(3_000);
        assertEquals(52_000, read(IA32_TIME_STAMP_COUNTER));
        assertEquals(52_000, apic.apic.tsc().read(), "what RDTSC answers");
        msrs.reset();
        assertEquals(3_000, read(IA32_TIME_STAMP_COUNTER), "RESET drops the offset");
    }

    @Test
    void patEntriesMustBeMemoryTypes() {
        write(IA32_PAT, 0x0001_0405_0607_0006L);
        assertWriteGp(IA32_PAT, 0x0000_0000_0000_0002L); // type 2 is reserved
        assertWriteGp(IA32_PAT, 0x0800_0000_0000_0000L);
        assertEquals(0x0001_0405_0607_0006L, read(IA32_PAT));
    }

    @Test
    void patResetsToWbWtUcMinusUc() {
        assertEquals(0x0007_0406_0007_0406L, read(IA32_PAT));
    }

    @Test
    void mtrrCapabilitiesAreKvmsAndReadOnly() {
        assertEquals(0x508, read(IA32_MTRRCAP), "8 variable ranges, fixed ranges, write-combining");
        assertWriteGp(IA32_MTRRCAP, 0x508);
    }

    @Test
    void mtrrDefTypeTakesATypeAndTheEnableBits() {
        write(IA32_MTRR_DEF_TYPE, 0xC06);
        assertEquals(0xC06, read(IA32_MTRR_DEF_TYPE));
        assertWriteGp(IA32_MTRR_DEF_TYPE, 0x1006);
        assertWriteGp(IA32_MTRR_DEF_TYPE, 0xC07); // 7 (UC-) is a PAT type, not an MTRR type
    }

    @Test
    void fixedMtrrsExistAtTheirElevenIndicesWithATypePerByte() {
        int[] fixed = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F};
        int[] types = {0, 1, 4, 5, 6}; // UC, WC, WT, WP, WB
        for (int i = 0; i < fixed.length; i++) {
            write(fixed[i], 0x0606_0606_0606_0600L | types[i % 5]);
        }
        for (int i = 0; i < fixed.length; i++) {
            assertEquals(0x0606_0606_0606_0600L | types[i % 5], read(fixed[i]), "each MSR keeps its own value");
        }
        assertWriteGp(0x250, 0x0000_0000_0003_0000L);
        assertReadGp(0x251);
        assertReadGp(0x267);
    }

    @Test
    void variableMtrrsCheckTypeReservedBitsAndMaxphyaddr() {
        write(0x200, 0xC000_0006L);
        write(0x201, 0xFF_C000_0800L); // mask of a 1 GiB range, valid, within 40 physical bits
        assertEquals(0xFF_C000_0800L, read(0x201));
        assertWriteGp(0x200, 0xC000_0002L); // reserved type
        assertWriteGp(0x200, 0xC000_0106L); // bits 11:8 of a base are reserved
        assertWriteGp(0x202, 1L << 40);      // above MAXPHYADDR
        assertWriteGp(0x203, 0x801L);        // bits 10:0 of a mask are reserved
        write(0x20F, 0);
        assertReadGp(0x210);
    }

    @Test
    void miscEnableHasReadOnlyAndReservedBits() {
        assertEquals(0x1801, read(IA32_MISC_ENABLE), "fast strings; BTS and PEBS unavailable");
        assertWriteGp(IA32_MISC_ENABLE, 0x1);          // clearing BTS/PEBS unavailable
        assertWriteGp(IA32_MISC_ENABLE, 0x1801 | 2);   // reserved bit 1
        write(IA32_MISC_ENABLE, 0x1801 | MsrFile.MISC_ENABLE_EMON);
        assertEquals(0x1801, read(IA32_MISC_ENABLE), "EMON is read-only and the write is dropped");
    }

    @Test
    void machineCheckBanksFollowMcgCap() {
        assertEquals(0x0100_010AL, read(IA32_MCG_CAP), "ten banks, MCG_CTL_P, MCG_SER_P; no CMCI");
        assertWriteGp(IA32_MCG_CAP, 0);
        int banks = (int) (read(IA32_MCG_CAP) & 0xFF);
        for (int i = 0; i < banks; i++) {
            int ctl = IA32_MC0_CTL + 4 * i;
            assertEquals(-1L, read(ctl), "all ones after reset, as QEMU sets it");
            write(ctl, 0);
            write(ctl, -1L);
            assertWriteGp(ctl, NONCANONICAL);
            write(ctl + 1, 0);
            assertWriteGp(ctl + 1, 1);
            write(ctl + 2, NONCANONICAL);
            assertEquals(NONCANONICAL, read(ctl + 2));
            write(ctl + 3, -1L);
        }
        for (int i = banks; i < 32; i++) {
            for (int reg = 0; reg < 4; reg++) {
                assertReadGp(IA32_MC0_CTL + 4 * i + reg);
                assertWriteGp(IA32_MC0_CTL + 4 * i + reg, 0);
            }
        }
        write(IA32_MCG_CTL, 0);
        assertWriteGp(IA32_MCG_CTL, 5);
        write(IA32_MCG_STATUS, 0x7);
        assertEquals(0x7, read(IA32_MCG_STATUS));
    }

    @Test
    void featureControlIsLockedWithVmxOff() {
        assertEquals(1, read(IA32_FEATURE_CONTROL));
        assertWriteGp(IA32_FEATURE_CONTROL, 0x5);
    }

    @Test
    void identificationMsrsReadLikeKvms() {
        assertEquals(0, read(IA32_PLATFORM_ID));
        assertWriteGp(IA32_PLATFORM_ID, 0);
        assertEquals(0x1_0000_0000L, read(IA32_BIOS_SIGN_ID));
        write(IA32_BIOS_SIGN_ID, 0); // Linux's "write 0, CPUID, read" ritual
        assertEquals(0x1_0000_0000L, read(IA32_BIOS_SIGN_ID));
        write(IA32_BIOS_UPDT_TRIG, 0x1234_0000L);
    }

    @Test
    void apicBaseIsTheLocalApics() {
        assertEquals(0xFEE0_0900L, read(IA32_APIC_BASE));
        write(IA32_APIC_BASE, 0xFED0_0900L);
        assertEquals(0xFED0_0000L, apic.apic.apicBase().base());
        assertWriteGp(IA32_APIC_BASE, 0xFED0_0100L | ApicBase.X2APIC_ENABLE);
        write(IA32_APIC_BASE, 0xFED0_0900L | ApicBase.X2APIC_ENABLE);
        assertTrue(apic.apic.x2apicMode());
    }

    @Test
    void debugctlKeepsOnlyValidationAndDropsLbrAndBtfAsKvm() {
        assertEquals(OptionalLong.of(0), MsrFile.acceptedDebugctl(MsrFile.DEBUGCTL_BTF | MsrFile.DEBUGCTL_LBR));
        assertEquals(OptionalLong.empty(), MsrFile.acceptedDebugctl(1L << 6));
        vcpu.debugctl = 0x55;
        write(IA32_DEBUGCTL, MsrFile.DEBUGCTL_BTF);
        assertEquals(0, vcpu.debugctl);
        assertWriteGp(IA32_DEBUGCTL, 1L << 6);
        vcpu.debugctl = 0;
        assertEquals(0, read(IA32_DEBUGCTL));
    }

    @ParameterizedTest
    @ValueSource(ints = {IA32_SPEC_CTRL, IA32_PRED_CMD, IA32_ARCH_CAPABILITIES, IA32_FLUSH_CMD, IA32_TSC_ADJUST,
        0x900, 0xBFF, 0x12345, 0xC000_0104})
    void msrsCpuidDoesNotOfferRaiseGp(int index) {
        assertReadGp(index);
        assertWriteGp(index, 0);
    }

    @ParameterizedTest
    @ValueSource(ints = {IA32_TSC_DEADLINE, 0x802, 0x808, 0x830, 0x83F})
    void withoutX2apicAndTscDeadlineInTheProfileTheirMsrsRaiseGp(int index) {
        CpuidFeatures xapicOnly = CpuidFeatures.UNICORN_QEMU64.withoutX2apic().withoutTscDeadline();
        LocalApicFixture old = new LocalApicFixture(0, true, xapicOnly);
        MsrFile file = new MsrFile(xapicOnly, old.apic, vcpu);
        assertInstanceOf(MsrRead.Gp.class, file.read(index));
        assertInstanceOf(MsrWrite.Gp.class, file.write(index, 0));
    }

    @Test
    void theMsrsAndTheLocalApicMustFollowOneProfile() {
        assertThrows(IllegalArgumentException.class, () -> new MsrFile(CpuidFeatures.UNICORN_QEMU64.withoutX2apic(), apic.apic, vcpu));
    }

    @Test
    void x2apicMsrsGoToTheLocalApicAndRaiseGpOutsideX2apicMode() {
        assertReadGp(0x802);
        assertWriteGp(0x808, 0x20);
        write(IA32_APIC_BASE, read(IA32_APIC_BASE) | ApicBase.X2APIC_ENABLE);
        assertEquals(0, read(0x802), "the x2APIC ID of vCPU 0");
        write(0x808, 0x20);
        assertEquals(2, apic.apic.cr8());
        assertEquals("IA32_X2APIC_TPR", MsrIndex.name(0x808));
        assertEquals("IA32_X2APIC_ISR3", MsrIndex.name(0x813));
    }

    @Test
    void tscDeadlineGoesToTheLocalApic() {
        assertEquals(0, read(IA32_TSC_DEADLINE), "reads 0 outside TSC-deadline mode");
        apic.write(ApicRegister.SVR, 0x1FF);
        apic.write(ApicRegister.LVT_TIMER, (2 << 17) | 0xEF);
        write(IA32_TSC_DEADLINE, 5_000);
        assertEquals(5_000, read(IA32_TSC_DEADLINE));
        assertEquals(5_000, apic.apic.nextDeadline());
    }

    @Test
    void tscAuxIs32BitsWhenRdtscpIsOffered() {
        assertEquals(MsrWrite.DONE, msrs.write(IA32_TSC_AUX, 0xFFFF_FFFFL));
        assertEquals(new MsrRead.Value(0xFFFF_FFFFL), msrs.read(IA32_TSC_AUX));
        assertInstanceOf(MsrWrite.Gp.class, msrs.write(IA32_TSC_AUX, 1L << 32));
    }

    @Test
    void tscAuxRaisesGpWhenNeitherRdtscpNorRdpidIsOffered() {
        CpuidFeatures base = CpuidFeatures.UNICORN_QEMU64;
        CpuidFeatures without = new CpuidFeatures(base.leaf1Edx(), base.leaf1Ecx(), base.leaf6Eax(), base.leaf7Ebx(),
                base.leaf7Ecx() & ~CpuidFeatures.RDPID, base.leaf7Edx(), base.ext1Ecx(), base.ext1Edx() & ~CpuidFeatures.RDTSCP,
                base.physicalAddressBits(), base.linearAddressBits());
        MsrFile m = new MsrFile(without, apic.apic, vcpu);
        assertInstanceOf(MsrRead.Gp.class, m.read(IA32_TSC_AUX));
        assertInstanceOf(MsrWrite.Gp.class, m.write(IA32_TSC_AUX, 0));
    }

    @Test
    void gpReasonsNameTheMsr() {
        MsrRead r = msrs.read(IA32_SPEC_CTRL);
        assertTrue(((MsrRead.Gp) r).reason().startsWith("IA32_SPEC_CTRL"), r.toString());
        MsrWrite w = msrs.write(0x12345, 0);
        assertTrue(((MsrWrite.Gp) w).reason().contains("0x12345"), w.toString());
    }
}
