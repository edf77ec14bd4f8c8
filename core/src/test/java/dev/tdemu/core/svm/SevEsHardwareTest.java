package dev.tdemu.core.svm;

import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** VMRUN and #VMEXIT of an SEV-ES guest, by the VMSA's own SEV_FEATURES. */
class SevEsHardwareTest {

    private static final DebugRegisters HOST = new DebugRegisters(0x11, 0x22, 0x33, 0x44, Dr6.RESET, new Dr7(0x2 | (1L << 9)));
    private static final DebugRegisters GUEST = new DebugRegisters(0xA0, 0xA1, 0xA2, 0xA3, new Dr6(Dr6.BS), new Dr7(0x1));

    private static DebugRegisterFile hostCpu() {
        DebugRegisterFile cpu = new DebugRegisterFile();
        cpu.load(HOST);
        for (int n = 0; n < 4; n++) {
            cpu.setDrAddrMask(n, 0xF0 + n);
        }
        return cpu;
    }

    private static Vmsa guest(SevFeatures f) {
        Vmsa v = new Vmsa(f);
        v.setDebugRegisters(GUEST);
        v.setDrAddrMask(2, 0x7);
        return v;
    }

    @Test
    void withDebugSwapVmrunLoadsTheGuestsDr0To3Dr6Dr7AndMasksFromTheVmsa() {
        DebugRegisterFile cpu = hostCpu();
        SevEsHardware.vmrun(guest(SevFeatures.of(SevFeatures.DEBUG_SWAP)), cpu);
        assertEquals(GUEST, cpu.snapshot());
        assertEquals(0x7, cpu.drAddrMask(2));
        assertEquals(0, cpu.drAddrMask(0));
    }

    @Test
    void withDebugSwapVmexitSavesTheGuestsStateAndLoadsTheHostsDr0To3AndMasksFromTheHostSaveArea() {
        DebugRegisterFile cpu = hostCpu();
        Vmsa vmsa = guest(SevFeatures.of(SevFeatures.DEBUG_SWAP));
        HostSaveArea hostsa = new HostSaveArea();
        hostsa.setDr(0, 0x11);
        hostsa.setDrAddrMask(1, 0xF1);
        SevEsHardware.vmrun(vmsa, cpu);
        cpu.setDebugreg(1, 0xB1);
        SevEsHardware.vmexit(vmsa, hostsa, cpu);
        assertEquals(0xB1, vmsa.debugRegisters().dr1(), "the guest's DR1 is saved in its VMSA");
        assertEquals(new DebugRegisters(0x11, 0, 0, 0, Dr6.RESET, Dr7.RESET), cpu.snapshot(),
                "Type-B: whatever the host save area holds, 0 where KVM wrote nothing");
        assertEquals(0xF1, cpu.drAddrMask(1));
        assertEquals(0, cpu.drAddrMask(3), "a mask KVM never saved is loaded as 0");
    }

    @Test
    void withoutDebugSwapOnlyDr6AndDr7AreSwappedAndTheGuestsDr0To3StayInHardware() {
        DebugRegisterFile cpu = hostCpu();
        Vmsa vmsa = guest(SevFeatures.NONE);
        SevEsHardware.vmrun(vmsa, cpu);
        assertEquals(HOST.withDr6(GUEST.dr6()).withDr7(GUEST.dr7()), cpu.snapshot(), "the guest runs on the host's DR0-3");
        cpu.setDebugreg(0, 0xC0);
        SevEsHardware.vmexit(vmsa, new HostSaveArea(), cpu);
        assertEquals(0xC0, cpu.dr(0), "#VMEXIT does not load DR0-3 without DebugSwap");
        assertEquals(Dr7.RESET, cpu.dr7());
        assertEquals(0xF3, cpu.drAddrMask(3), "nor the masks");
    }

    @Test
    void apCreationReplacesTheVmsasSevFeaturesWhateverKvmBelieves() {
        Vmsa vmsa = new Vmsa(SevFeatures.of(SevFeatures.SNP_ACTIVE, SevFeatures.DEBUG_SWAP));
        SevGuest kvm = new SevGuest(vmsa.sevFeatures(), true, true);
        vmsa.apCreate(SevFeatures.of(SevFeatures.SNP_ACTIVE));
        assertEquals(false, vmsa.sevFeatures().debugSwap());
        assertEquals(true, kvm.kvmSeesDebugSwap());
    }

    @Test
    void drAddressMaskMsrsAreNotInSlotOrder() {
        assertEquals(0xC0011027, DrAddrMask.msr(0));
        assertEquals(0xC0011019, DrAddrMask.msr(1));
        assertEquals(0xC001101A, DrAddrMask.msr(2));
        assertEquals(0xC001101B, DrAddrMask.msr(3));
        assertThrows(IllegalArgumentException.class, () -> DrAddrMask.msr(4));
    }
}
