package dev.tdemu.core.pc;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalApicBaseTest {

    private final LocalApicFixture f = new LocalApicFixture(0, true).enabled();
    private final List<String> moves = new ArrayList<>();

    LocalApicBaseTest() {
        f.apic.setBaseListener((previous, current) -> moves.add(previous.value() + "->" + current.value()));
    }

    @Test
    void atResetTheBspsApicIsEnabledAtTheDefaultBase() {
        assertEquals(0xFEE0_0900L, f.apic.readApicBase());
        assertEquals(0xFEE0_0800L, new LocalApicFixture(1, false).apic.readApicBase());
        assertTrue(f.apic.covers(0xFEE0_0030L));
        assertFalse(f.apic.covers(0xFEE0_1000L));
    }

    @Test
    void relocatingTheBaseTellsTheListenerWhichPageToMap() {
        assertEquals(MsrWrite.DONE, f.apic.writeApicBase(0xFED4_0000L | ApicBase.ENABLE | ApicBase.BSP));
        assertEquals(List.of(0xFEE0_0900L + "->" + 0xFED4_0900L), moves);
        assertTrue(f.apic.covers(0xFED4_0030L));
        assertFalse(f.apic.covers(0xFEE0_0030L));
        assertEquals(0x0005_0014, f.read(ApicRegister.VERSION), "the registers answer at the new base");
    }

    @Test
    void rewritingTheSameValueChangesNothing() {
        assertEquals(MsrWrite.DONE, f.apic.writeApicBase(f.apic.readApicBase()));
        assertTrue(moves.isEmpty());
    }

    @Test
    void aGlobalDisableHidesThePageAndResetsTheRegisters() {
        f.write(ApicRegister.TPR, 0x30);
        f.write(ApicRegister.ID, 0x0700_0000);
        f.apic.acceptInterrupt(0x40, ApicTriggerMode.EDGE);
        f.apic.writeApicBase(ApicBase.DEFAULT_BASE | ApicBase.BSP);
        assertFalse(f.apic.hardwareEnabled());
        assertFalse(f.apic.covers(0xFEE0_0030L));
        assertEquals(0xFFFF_FFFFL, f.apic.read(ApicRegister.VERSION.offset(), 4), "a disabled APIC's page reads all-ones");
        f.apic.write(ApicRegister.TPR.offset(), 4, 0x50); // and ignores writes
        assertEquals(0, f.apic.cr8());
        assertEquals(List.of(0xFEE0_0900L + "->" + 0xFEE0_0100L), moves);

        f.apic.writeApicBase(ApicBase.DEFAULT_BASE | ApicBase.ENABLE);
        assertEquals(0, f.read(ApicRegister.ID), "back to the initial APIC ID");
        assertEquals(0, f.read(ApicRegister.TPR));
        assertEquals(0xFF, f.read(ApicRegister.SVR), "software-disabled again");
        assertFalse(f.irr(0x40));
    }

    @Test
    void cr8KeepsWorkingWhileTheApicIsGloballyDisabled() {
        f.apic.writeApicBase(ApicBase.DEFAULT_BASE);
        f.apic.setCr8(0xF);
        assertEquals(0xF, f.apic.cr8());
    }

    @Test
    void theX2apicEnableBitRaisesGpWhenCpuidDoesNotOfferX2apic() {
        LocalApicFixture xapicOnly = new LocalApicFixture(0, true, CpuidFeatures.UNICORN_QEMU64.withoutX2apic());
        MsrWrite w = xapicOnly.apic.writeApicBase(xapicOnly.apic.readApicBase() | ApicBase.X2APIC_ENABLE);
        assertInstanceOf(MsrWrite.Gp.class, w);
        assertTrue(((MsrWrite.Gp) w).reason().contains("x2APIC"));
        assertEquals(0xFEE0_0900L, xapicOnly.apic.readApicBase());
    }

    @Test
    void reservedLowBitsAndBitsAboveMaxphyaddrRaiseGp() {
        long base = f.apic.readApicBase();
        assertInstanceOf(MsrWrite.Gp.class, f.apic.writeApicBase(base | 1));
        assertInstanceOf(MsrWrite.Gp.class, f.apic.writeApicBase(base | (1L << 9)));
        assertInstanceOf(MsrWrite.Gp.class, f.apic.writeApicBase(base | (1L << CpuidFeatures.PHYSICAL_ADDRESS_BITS)));
        assertEquals(MsrWrite.DONE, f.apic.writeApicBase(base | (1L << (CpuidFeatures.PHYSICAL_ADDRESS_BITS - 1))));
        assertTrue(moves.size() == 1, "only the valid write moved the page");
    }

    @Test
    void theBspFlagIsReadOnly() {
        f.apic.writeApicBase(ApicBase.DEFAULT_BASE | ApicBase.ENABLE);
        assertTrue(f.apic.apicBase().bsp());
        LocalApicFixture ap = new LocalApicFixture(1, false);
        ap.apic.writeApicBase(ApicBase.DEFAULT_BASE | ApicBase.ENABLE | ApicBase.BSP);
        assertFalse(ap.apic.apicBase().bsp());
    }

    @Test
    void apicBaseModesFollowEnAndExtd() {
        assertEquals(ApicBase.Mode.XAPIC, new ApicBase(ApicBase.ENABLE).mode());
        assertEquals(ApicBase.Mode.X2APIC, new ApicBase(ApicBase.ENABLE | ApicBase.X2APIC_ENABLE).mode());
        assertEquals(ApicBase.Mode.DISABLED, new ApicBase(0).mode());
        assertEquals(ApicBase.Mode.INVALID, new ApicBase(ApicBase.X2APIC_ENABLE).mode());
    }
}
