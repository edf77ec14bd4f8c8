package dev.tdemu.core.pc;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static dev.tdemu.core.pc.CpuidFeatures.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuidModelTest {
    private final CpuidModel pc = CpuidModel.pc(3);

    private CpuidResult cpuid(int vcpu, int leaf, int subleaf) {
        return pc.cpuid(vcpu, leaf, subleaf, true);
    }

    private static String text(int... registers) {
        ByteBuffer b = ByteBuffer.allocate(4 * registers.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int r : registers) {
            b.putInt(r);
        }
        return new String(b.array(), StandardCharsets.US_ASCII);
    }

    @Test
    void leaf0IsGenuineIntelWithMaxBasicLeafD() {
        CpuidResult r = cpuid(0, 0, 0);
        assertEquals(0xD, r.eax());
        assertEquals("GenuineIntel", text(r.ebx(), r.edx(), r.ecx()));
    }

    @Test
    void leaf1IdentifiesASapphireRapidsCoreAndTheVcpusApicId() {
        CpuidResult r = cpuid(2, 1, 0);
        assertEquals(0x806F8, r.eax());
        int family = (r.eax() >> 8) & 0xF;
        int model = ((r.eax() >> 12) & 0xF0) | ((r.eax() >> 4) & 0xF);
        assertEquals(6, family);
        assertEquals(0x8F, model);
        assertEquals(2, r.ebx() >>> 24, "initial APIC ID");
        assertEquals(3, (r.ebx() >> 16) & 0xFF, "logical processors in the package");
        assertEquals(8, (r.ebx() >> 8) & 0xFF, "CLFLUSH line of 64 bytes");
    }

    @Test
    void leaf1AdvertisesWhatTheEngineExecutesTheApicFeaturesAndTheHypervisorBit() {
        CpuidResult r = cpuid(0, 1, 0);
        int mustHave = FPU | DE | PSE | TSC | MSR | PAE | MCE | CX8 | APIC | MTRR | PGE | MCA | CMOV | PAT | CLFLUSH | MMX
                | FXSR | XMM | XMM2 | HT;
        assertEquals(mustHave, r.edx() & mustHave);
        assertEquals(0, r.edx() & (SEP | VME), "SYSENTER is #UD in the engine's 64-bit mode; no VME in TCG");
        assertEquals(XMM3 | CX16 | X2APIC | TSC_DEADLINE_TIMER | HYPERVISOR, r.ecx());
    }

    @Test
    void x2apicAndTheTscDeadlineTimerCanBeLeftOutOfAProfile() {
        CpuidFeatures xapicOnly = CpuidFeatures.UNICORN_QEMU64.withoutX2apic().withoutTscDeadline();
        assertEquals(XMM3 | CX16 | HYPERVISOR, new CpuidModel(1, xapicOnly, CpuidModel.Flavor.PC).cpuid(0, 1, 0, true).ecx());
        assertTrue(CpuidFeatures.UNICORN_QEMU64.x2apic() && CpuidFeatures.UNICORN_QEMU64.tscDeadline());
        assertTrue(!xapicOnly.x2apic() && !xapicOnly.tscDeadline());
        assertTrue(CpuidFeatures.UNICORN_QEMU64.withoutX2apic().tscDeadline(), "each feature goes alone");
    }

    @Test
    void avxXsaveVmxPcidAndWhatTheEngineDoesNotExecuteAreNotAdvertised() {
        int ecx = cpuid(0, 1, 0).ecx();
        for (int bit : new int[] {AVX, XSAVE, OSXSAVE, VMX, PCID, MWAIT, SSSE3, XMM4_1, XMM4_2, POPCNT}) {
            assertEquals(0, ecx & bit, Integer.toHexString(bit));
        }
        assertEquals(CpuidResult.ZERO, cpuid(0, 0xD, 0), "no XSAVE, no leaf 0xD");
        CpuidResult ext = cpuid(0, 0x8000_0001, 0);
        assertEquals(0, ext.ecx() & SVM);
        assertEquals(0, ext.edx() & GBPAGES);
        assertEquals(SYSCALL | NX | RDTSCP | LM, ext.edx(), "RDTSCP: tdemu performs it where the engine raises #UD");
        assertEquals(CpuidFeatures.RDPID, cpuid(0, 7, 0).ecx(), "RDPID likewise");
        assertEquals(LAHF_LM, ext.ecx());
    }

    @Test
    void theApicBitFollowsTheApicsGlobalEnable() {
        assertEquals(APIC, pc.cpuid(0, 1, 0, true).edx() & APIC);
        assertEquals(0, pc.cpuid(0, 1, 0, false).edx() & APIC);
    }

    @Test
    void aSingleVcpuHasNoHtt() {
        assertEquals(0, CpuidModel.pc(1).cpuid(0, 1, 0, true).edx() & HT);
        assertEquals(1, (CpuidModel.pc(1).cpuid(0, 1, 0, true).ebx() >> 16) & 0xFF);
    }

    @Test
    void theHypervisorLeavesAreKvmsWithNoParavirtualFeatures() {
        CpuidResult sig = cpuid(0, 0x4000_0000, 0);
        assertEquals(0x4000_0001, sig.eax());
        assertEquals("KVMKVMKVM\0\0\0", text(sig.ebx(), sig.ecx(), sig.edx()));
        assertEquals(CpuidResult.ZERO, cpuid(0, 0x4000_0001, 0));
    }

    @Test
    void extendedLeavesGiveAddressWidthsAndTheBrand() {
        assertEquals(0x8000_0008, cpuid(0, 0x8000_0000, 0).eax());
        assertEquals(0x3028, cpuid(0, 0x8000_0008, 0).eax(), "48 linear, 40 physical address bits");
        StringBuilder brand = new StringBuilder();
        for (int leaf = 0x8000_0002; leaf <= 0x8000_0004; leaf++) {
            CpuidResult r = cpuid(0, leaf, 0);
            brand.append(text(r.eax(), r.ebx(), r.ecx(), r.edx()));
        }
        assertEquals(CpuidModel.BRAND, brand.toString().replace("\0", ""));
        assertEquals(48, brand.length());
    }

    @Test
    void outOfRangeLeavesAnswerAsTheHighestBasicLeaf() {
        CpuidResult highest = cpuid(1, 0xD, 0);
        assertEquals(highest, cpuid(1, 0xE, 0));
        assertEquals(highest, cpuid(1, 0x21, 0));
        assertEquals(highest, cpuid(1, 0x4000_0002, 0));
        assertEquals(highest, cpuid(1, 0x8000_0009, 0));
        assertEquals(highest, cpuid(1, 0xC000_0000, 0));
    }

    @Test
    void leafBDescribesOneThreadPerCoreAndAllVcpusInOnePackage() {
        CpuidResult smt = cpuid(2, 0xB, 0);
        assertEquals(0, smt.eax());
        assertEquals(1, smt.ebx());
        assertEquals(1 << 8, smt.ecx());
        assertEquals(2, smt.edx(), "x2APIC ID = initial APIC ID");
        CpuidResult core = cpuid(2, 0xB, 1);
        assertEquals(2, core.eax(), "three vCPUs need two bits of core ID");
        assertEquals(3, core.ebx());
        assertEquals(1 | (2 << 8), core.ecx());
        CpuidResult end = cpuid(2, 0xB, 2);
        assertEquals(0, end.ebx());
        assertEquals(2, end.ecx() & 0xFF);
        assertEquals(0, (end.ecx() >> 8) & 0xFF, "level type 0 ends the enumeration");
    }

    @Test
    void leaf4EnumeratesFourCachesAndTheirSharing() {
        int[] kinds = {1, 2, 3, 3};
        int[] levels = {1, 1, 2, 3};
        long[] bytes = {48 << 10, 32 << 10, 2 << 20, 32 << 20};
        for (int i = 0; i < 4; i++) {
            CpuidResult r = cpuid(0, 4, i);
            assertEquals(kinds[i], r.eax() & 0x1F);
            assertEquals(levels[i], (r.eax() >> 5) & 7);
            long ways = ((r.ebx() >>> 22) & 0x3FF) + 1;
            long partitions = ((r.ebx() >>> 12) & 0x3FF) + 1;
            long line = (r.ebx() & 0xFFF) + 1;
            long sets = Integer.toUnsignedLong(r.ecx()) + 1;
            assertEquals(bytes[i], ways * partitions * line * sets);
            assertEquals(4, (r.eax() >>> 26) + 1, "addressable core IDs in the package: 4 for 3 vCPUs");
        }
        assertEquals(3, (cpuid(0, 4, 3).eax() >>> 14) & 0xFFF, "the L3 is shared by the package");
        assertEquals(0, (cpuid(0, 4, 2).eax() >>> 14) & 0xFFF, "the L2 is per core");
        assertEquals(0, cpuid(0, 4, 4).eax() & 0x1F, "type 0 ends the list");
    }

    @Test
    void tdemusOwnGuestsKeepLeaf21AndTheirSignature() {
        CpuidModel td = new CpuidModel(2, CpuidFeatures.UNICORN_QEMU64, CpuidModel.Flavor.TDEMU_TD);
        CpuidResult leaf21 = td.cpuid(0, 0x21, 0, true);
        assertEquals("IntelTDX    ", text(leaf21.ebx(), leaf21.edx(), leaf21.ecx()));
        assertEquals(0x21, td.cpuid(0, 0, 0, true).eax());
        CpuidModel vmx = new CpuidModel(2, CpuidFeatures.UNICORN_QEMU64, CpuidModel.Flavor.TDEMU_VMX);
        assertEquals(CpuidResult.ZERO, vmx.cpuid(0, 0x21, 0, true));
        CpuidResult sig = vmx.cpuid(0, 0x4000_0000, 0, true);
        assertEquals("tdemtdemtdem", text(sig.ebx(), sig.ecx(), sig.edx()));
    }

    @Test
    void aProfileClaimingWhatTdemuCannotBackIsRefused() {
        CpuidFeatures q = CpuidFeatures.UNICORN_QEMU64;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CpuidFeatures(q.leaf1Edx(),
                q.leaf1Ecx() | XSAVE, q.leaf6Eax(), 0, 0, 0, q.ext1Ecx(), q.ext1Edx(), 40, 48));
        assertTrue(e.getMessage().contains("XSAVE"));
        assertThrows(IllegalArgumentException.class, () -> new CpuidFeatures(q.leaf1Edx(), q.leaf1Ecx() | VMX,
                q.leaf6Eax(), 0, 0, 0, q.ext1Ecx(), q.ext1Edx(), 40, 48));
        assertThrows(IllegalArgumentException.class, () -> new CpuidFeatures(q.leaf1Edx(), q.leaf1Ecx(), q.leaf6Eax(), 0, 0,
                ARCH_CAPABILITIES, q.ext1Ecx(), q.ext1Edx(), 40, 48));
    }

    @Test
    void vcpuIndicesAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> pc.cpuid(3, 1, 0, true));
        assertThrows(IllegalArgumentException.class, () -> CpuidModel.pc(0));
    }

    @Test
    void leaf6AdvertisesTheAlwaysRunningApicTimer() {
        assertEquals(ARAT, cpuid(0, 6, 0).eax());
    }

    @Test
    void cr4ReservedBitsAreTheEnablesOfFeaturesCpuidDoesNotOfferAndTheArchitecturallyReservedOnes() {
        long reserved = pc.features().cr4ReservedBits();
        long offered = 0x7FF; // VME..OSXMMEXCPT: the baseline bits, always allowed
        assertEquals(0, reserved & offered);
        // no XSAVE, PCID, SMEP, SMAP, PKU, LA57, UMIP, FSGSBASE, VMX or SMX in the PC profile
        for (int bit : new int[] {18, 17, 20, 21, 22, 12, 11, 16, 13, 14, 15, 63}) {
            assertEquals(1L << bit, reserved & (1L << bit), "CR4 bit " + bit);
        }
        assertTrue((pc.features().leaf1Ecx() & (XSAVE | PCID | VMX)) == 0, "the profile this test assumes");
    }
}
