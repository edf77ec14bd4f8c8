package dev.tdemu.core.tdx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tdemu.core.tdx.TdMsrVirtualization.Treatment;
import dev.tdemu.core.x86.Gpr;
import org.junit.jupiter.api.Test;

class TdMsrVirtualizationTest {
    private final TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
    private final TdVcpu vcpu = new Td(TdParams.of(TdAttributes.NON_DEBUG, 1, 64L << 20)).addVcpu();

    @Test
    void segmentBasesSyscallMsrsPatAndTscAuxAreAccessedNatively() {
        for (long msr : new long[] {0xC000_0080L, 0xC000_0081L, 0xC000_0082L, 0xC000_0084L, 0xC000_0100L, 0xC000_0101L,
                0xC000_0102L, 0xC000_0103L, 0x174, 0x175, 0x176, 0x277, 0x1D9}) {
            assertEquals(Treatment.NATIVE, TdMsrVirtualization.treatment(msr, false), Long.toHexString(msr));
            assertEquals(Treatment.NATIVE, TdMsrVirtualization.treatment(msr, true), Long.toHexString(msr));
        }
    }

    @Test
    void theTscIsReadNativelyButAWriteIsAVirtualizationException() {
        assertEquals(Treatment.NATIVE, TdMsrVirtualization.treatment(0x10, false));
        assertEquals(Treatment.VE, TdMsrVirtualization.treatment(0x10, true));
    }

    @Test
    void anMsrTheTableDoesNotListIsAVirtualizationException() {
        assertEquals(Treatment.VE, TdMsrVirtualization.treatment(0x1B, false), "IA32_APIC_BASE");
        assertEquals(Treatment.VE, TdMsrVirtualization.treatment(0x1B, true));
        assertEquals(Treatment.VE, TdMsrVirtualization.treatment(0x4B56_4D01L, true), "a KVM paravirtual MSR");
    }

    @Test
    void featuresATdDoesNotHaveAreGeneralProtection() {
        assertEquals(Treatment.GP, TdMsrVirtualization.treatment(0x186, true), "IA32_PERFEVTSEL0 without PERFMON");
        assertEquals(Treatment.GP, TdMsrVirtualization.treatment(0x480, false), "IA32_VMX_BASIC: no VMX in a TD");
        assertEquals(Treatment.GP, TdMsrVirtualization.treatment(0x6A2, true), "IA32_S_CET without CET in XFAM");
        assertEquals(Treatment.GP, TdMsrVirtualization.treatment(0x840, false), "a reserved x2APIC MSR");
    }

    @Test
    void theModuleAnswersXapicDisableStatusAndMiscEnableReads() {
        TdEventResult r = module.handleTdEvent(vcpu, new TdEvent.Rdmsr(0x1000, 2, 0xBD, 0));
        TdEventResult.AnsweredByModule a = assertInstanceOf(TdEventResult.AnsweredByModule.class, r);
        assertEquals(TdMsrVirtualization.XAPIC_DISABLE_STATUS_VALUE, a.updates().value(Gpr.RAX));
        assertEquals(0, a.updates().value(Gpr.RDX));
        assertEquals(0x1002, a.nextRip());
        assertEquals(false, a.singleStepTrap());
        TdEventResult misc = module.handleTdEvent(vcpu, new TdEvent.Rdmsr(0x1000, 2, 0x1A0, 0x100));
        assertEquals(true, assertInstanceOf(TdEventResult.AnsweredByModule.class, misc).singleStepTrap(),
                "a read the module completes with RFLAGS.TF set owes the single step");
        assertInstanceOf(TdEventResult.InjectVe.class, module.handleTdEvent(vcpu, new TdEvent.Wrmsr(0x1000, 2, 0x1A0)),
                "a write of IA32_MISC_ENABLE is #VE");
    }

    @Test
    void theModuleHandsNativeAccessesAndGeneralProtectionBackWithoutRecordingVeInformation() {
        assertEquals(new TdEventResult.NativeMsrAccess(0xC000_0101L, true),
                module.handleTdEvent(vcpu, new TdEvent.Wrmsr(0x1000, 2, 0xC000_0101L)));
        assertInstanceOf(TdEventResult.InjectGp.class, module.handleTdEvent(vcpu, new TdEvent.Rdmsr(0x1000, 2, 0x480, 0)));
        assertEquals(false, vcpu.veInfo().isPresent());
    }

    @Test
    void onlyModuleAnsweredMsrsHaveAModuleValue() {
        assertThrows(IllegalArgumentException.class, () -> TdMsrVirtualization.moduleValue(0xC000_0101L));
    }
}
