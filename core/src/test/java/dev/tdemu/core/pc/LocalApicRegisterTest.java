package dev.tdemu.core.pc;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalApicRegisterTest {

    @Test
    void resetStateFollowsTheSdmWithTheBspsLint0InVirtualWireMode() {
        LocalApicFixture f = new LocalApicFixture(3, true);
        assertEquals(3 << 24, f.read(ApicRegister.ID));
        assertEquals(0x0005_0014, f.read(ApicRegister.VERSION), "version 0x14, max LVT entry 5, no EOI-broadcast suppression");
        assertEquals(0xFF, f.read(ApicRegister.SVR));
        assertEquals(0xFFFF_FFFF, f.read(ApicRegister.DFR));
        assertEquals(0, f.read(ApicRegister.TPR));
        assertEquals(0, f.read(ApicRegister.LDR));
        assertEquals(0x10000, f.read(ApicRegister.LVT_TIMER));
        assertEquals(0x10000, f.read(ApicRegister.LVT_LINT1));
        assertEquals(0x10000, f.read(ApicRegister.LVT_ERROR));
        assertEquals(0x700, f.read(ApicRegister.LVT_LINT0), "ExtINT, unmasked: KVM's LINT0_REENABLED quirk");
        assertFalse(f.apic.softwareEnabled());
    }

    @Test
    void anApplicationProcessorStartsWithLint0Masked() {
        assertEquals(0x10000, new LocalApicFixture(1, false).read(ApicRegister.LVT_LINT0));
    }

    @Test
    void theXapicIdIsWritableInBits31To24() {
        LocalApicFixture f = new LocalApicFixture();
        f.write(ApicRegister.ID, 0x0712_3456);
        assertEquals(0x0700_0000, f.read(ApicRegister.ID));
        assertEquals(7, f.apic.apicId());
        assertEquals(0, f.apic.initialApicId());
    }

    @Test
    void registersKeepOnlyTheirDefinedBits() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.write(ApicRegister.TPR, 0xFFFF_FFFF);
        assertEquals(0xFF, f.read(ApicRegister.TPR));
        f.write(ApicRegister.LDR, 0xFFFF_FFFF);
        assertEquals(0xFF00_0000, f.read(ApicRegister.LDR));
        f.write(ApicRegister.DFR, 0);
        assertEquals(0x0FFF_FFFF, f.read(ApicRegister.DFR), "cluster model; bits 27:0 read as ones");
        f.write(ApicRegister.SVR, 0xFFFF_FFFF);
        assertEquals(0x3FF, f.read(ApicRegister.SVR), "EOI-broadcast suppression (bit 12) is not offered");
        f.write(ApicRegister.TIMER_DIVIDE_CONFIG, 0xFFFF_FFFF);
        assertEquals(0xB, f.read(ApicRegister.TIMER_DIVIDE_CONFIG));
        f.write(ApicRegister.ICR_HIGH, 0xFFFF_FFFF);
        assertEquals(0xFF00_0000, f.read(ApicRegister.ICR_HIGH));
    }

    @Test
    void lvtEntriesKeepTheirFieldsAndTheReadOnlyBitsStayClear() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.write(ApicRegister.LVT_LINT1, 0xFFFF_FFFF);
        assertEquals(0x1_A7FF, f.read(ApicRegister.LVT_LINT1), "vector, mode, polarity, trigger, mask; no status or remote IRR");
        f.write(ApicRegister.LVT_ERROR, 0xFFFF_FFFF);
        assertEquals(0x1_00FF, f.read(ApicRegister.LVT_ERROR));
        f.write(ApicRegister.LVT_THERMAL, 0xFFFF_FFFF);
        assertEquals(0x1_07FF, f.read(ApicRegister.LVT_THERMAL));
        f.write(ApicRegister.LVT_TIMER, 0xFFFF_FFFF);
        assertEquals(0x7_00FF, f.read(ApicRegister.LVT_TIMER), "vector, mask, timer mode 18:17 (CPUID offers TSC-deadline)");
        LocalApicFixture noTscDeadline = new LocalApicFixture(0, true, CpuidFeatures.UNICORN_QEMU64.withoutTscDeadline()).enabled();
        noTscDeadline.write(ApicRegister.LVT_TIMER, 0xFFFF_FFFF);
        assertEquals(0x3_00FF, noTscDeadline.read(ApicRegister.LVT_TIMER), "TSC-deadline (bit 18) is reserved without CPUID support");
    }

    @Test
    void writesToReadOnlyRegistersAreIgnoredWithoutAnError() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.write(ApicRegister.VERSION, 0);
        f.write(ApicRegister.PPR, 0xF0);
        f.write(ApicRegister.IRR, 0xFFFF_FFFF);
        f.write(ApicRegister.TIMER_CURRENT_COUNT, 5);
        assertEquals(0x0005_0014, f.read(ApicRegister.VERSION));
        assertEquals(0, f.read(ApicRegister.PPR));
        assertEquals(0, f.read(ApicRegister.IRR));
        assertEquals(0, f.read(ApicRegister.TIMER_CURRENT_COUNT));
        assertEquals(0, f.esr());
    }

    @Test
    void aReservedOffsetReadsZeroAndSetsIllegalRegisterAddress() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        assertEquals(0, f.apic.read(0x40, 4));
        assertEquals(LocalApic.ESR_ILLEGAL_REGISTER_ADDRESS, f.esr());
        assertEquals(0, f.esr(), "back-to-back ESR writes clear it");
        f.apic.write(0x3A0, 4, 1);
        assertEquals(LocalApic.ESR_ILLEGAL_REGISTER_ADDRESS, f.esr());
    }

    @Test
    void lvtCmciAndSelfIpiAreReservedInXapicModeWithoutCmci() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.write(ApicRegister.LVT_CMCI, 0x30);
        assertEquals(0, f.read(ApicRegister.LVT_CMCI));
        assertEquals(LocalApic.ESR_ILLEGAL_REGISTER_ADDRESS, f.esr());
        f.write(ApicRegister.SELF_IPI, 0x30);
        assertFalse(f.irr(0x30));
        assertEquals(LocalApic.ESR_ILLEGAL_REGISTER_ADDRESS, f.esr());
    }

    @Test
    void esrReportsOnlyErrorsLatchedByTheLastWrite() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.apic.read(0x10, 4);
        assertEquals(0, f.read(ApicRegister.ESR), "not visible before the write that latches it");
        f.write(ApicRegister.ESR, 0);
        f.apic.read(0x10, 4); // a new error after the latch stays internal until the next write
        assertEquals(LocalApic.ESR_ILLEGAL_REGISTER_ADDRESS, f.read(ApicRegister.ESR));
        f.write(ApicRegister.ESR, 0);
        assertEquals(LocalApic.ESR_ILLEGAL_REGISTER_ADDRESS, f.read(ApicRegister.ESR));
        f.write(ApicRegister.ESR, 0);
        assertEquals(0, f.read(ApicRegister.ESR));
    }

    @Test
    void anUnmaskedLvtErrorRaisesItsVectorOncePerEsrWrite() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.write(ApicRegister.LVT_ERROR, 0xE3);
        f.apic.read(0x10, 4);
        assertTrue(f.irr(0xE3));
        assertEquals(0xE3, f.acknowledgeAndEoi());
        f.apic.read(0x10, 4);
        assertFalse(f.irr(0xE3), "not re-armed until software writes the ESR");
        f.write(ApicRegister.ESR, 0);
        f.apic.read(0x10, 4);
        assertTrue(f.irr(0xE3));
    }

    @Test
    void aMaskedLvtErrorStillRecordsTheError() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.write(ApicRegister.LVT_ERROR, 0x1_00E3);
        f.apic.read(0x10, 4);
        assertFalse(f.irr(0xE3));
        assertEquals(LocalApic.ESR_ILLEGAL_REGISTER_ADDRESS, f.esr());
    }

    @Test
    void narrowReadsSeeTheRegisterFollowedByZeros() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.write(ApicRegister.LDR, 0xAB00_0000);
        int ldr = ApicRegister.LDR.offset();
        assertEquals(0xAB, f.apic.read(ldr + 3, 1));
        assertEquals(0xAB00, f.apic.read(ldr + 2, 2));
        assertEquals(0, f.apic.read(ldr + 4, 4));
        assertEquals(0xAB00_0000L, f.apic.read(ldr, 8), "an 8-byte read: the register, then four zero bytes");
    }

    @Test
    void onlyAlignedDwordWritesReachARegister() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        int tpr = ApicRegister.TPR.offset();
        f.apic.write(tpr, 1, 0x20);
        f.apic.write(tpr, 2, 0x20);
        f.apic.write(tpr + 4, 4, 0x20);
        f.apic.write(tpr, 8, 0x20);
        assertEquals(0, f.read(ApicRegister.TPR));
        f.apic.write(tpr, 4, 0x20);
        assertEquals(0x20, f.read(ApicRegister.TPR));
    }

    @Test
    void softwareDisableMasksEveryLvtAndKeepsThemMasked() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.write(ApicRegister.LVT_TIMER, 0x30);
        f.write(ApicRegister.LVT_LINT1, 0x400);
        f.write(ApicRegister.SVR, 0xFF);
        assertEquals(0x1_0030, f.read(ApicRegister.LVT_TIMER));
        assertEquals(0x1_0400, f.read(ApicRegister.LVT_LINT1));
        assertEquals(0x1_0700, f.read(ApicRegister.LVT_LINT0));
        f.write(ApicRegister.LVT_TIMER, 0x31);
        assertEquals(0x1_0031, f.read(ApicRegister.LVT_TIMER), "the vector changes, the mask stays while disabled");
        f.enabled();
        f.write(ApicRegister.LVT_TIMER, 0x31);
        assertEquals(0x31, f.read(ApicRegister.LVT_TIMER));
    }

    @Test
    void aSoftwareDisabledApicDropsFixedInterrupts() {
        LocalApicFixture f = new LocalApicFixture();
        assertFalse(f.apic.acceptInterrupt(0x40, ApicTriggerMode.EDGE));
        assertFalse(f.irr(0x40));
        f.enabled();
        assertTrue(f.apic.acceptInterrupt(0x40, ApicTriggerMode.EDGE));
        assertTrue(f.irr(0x40));
    }

    @Test
    void initResetsRegistersButKeepsTheApicIdAndBase() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.write(ApicRegister.ID, 0x0500_0000);
        f.write(ApicRegister.TPR, 0x40);
        f.apic.acceptInterrupt(0x50, ApicTriggerMode.EDGE);
        f.apic.writeApicBase(0xFED0_0000L | ApicBase.ENABLE);
        f.apic.init();
        assertEquals(0x0500_0000, f.read(ApicRegister.ID));
        assertEquals(0xFED0_0000L, f.apic.apicBase().base());
        assertEquals(0, f.read(ApicRegister.TPR));
        assertFalse(f.irr(0x50));
        assertEquals(0xFF, f.read(ApicRegister.SVR));
        f.apic.reset();
        assertEquals(0, f.read(ApicRegister.ID));
        assertEquals(ApicBase.DEFAULT_BASE, f.apic.apicBase().base());
    }
}
