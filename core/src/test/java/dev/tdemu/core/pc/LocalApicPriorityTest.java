package dev.tdemu.core.pc;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalApicPriorityTest {

    @ParameterizedTest(name = "TPR 0x{0}, in service 0x{1} -> PPR 0x{2}")
    @CsvSource({
        "00, none, 00",
        "35, none, 35",
        "35, 41, 40",
        "45, 41, 45",
        "40, 4F, 40",
        "3F, 40, 40",
        "F0, 21, F0",
    })
    void pprIsTheTprUnlessTheInServiceClassIsHigher(String tpr, String inService, String ppr) {
        LocalApicFixture f = new LocalApicFixture().enabled();
        if (!inService.equals("none")) {
            f.apic.acceptInterrupt(Integer.parseInt(inService, 16), ApicTriggerMode.EDGE);
            f.apic.acknowledge();
        }
        f.write(ApicRegister.TPR, Integer.parseInt(tpr, 16));
        assertEquals(Integer.parseInt(ppr, 16), f.read(ApicRegister.PPR));
    }

    @Test
    void aVectorIsPendingOnlyWhenItsClassIsAboveThePprClass() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.apic.acceptInterrupt(0x45, ApicTriggerMode.EDGE);
        f.write(ApicRegister.TPR, 0x44);
        assertEquals(OptionalInt.empty(), f.apic.pendingVector(), "same class as the TPR: held");
        assertFalse(f.apic.hasInterrupt());
        f.write(ApicRegister.TPR, 0x3F);
        assertEquals(OptionalInt.of(0x45), f.apic.pendingVector());
        assertTrue(f.apic.hasInterrupt());
    }

    @Test
    void theHighestIrrVectorIsDeliveredFirst() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.apic.acceptInterrupt(0x31, ApicTriggerMode.EDGE);
        f.apic.acceptInterrupt(0xE0, ApicTriggerMode.EDGE);
        f.apic.acceptInterrupt(0x80, ApicTriggerMode.EDGE);
        assertEquals(new ApicInterrupt.Fixed(0xE0), f.apic.acknowledge());
        assertTrue(f.isr(0xE0));
        assertFalse(f.irr(0xE0));
        assertEquals(0xE0, f.read(ApicRegister.PPR));
    }

    @Test
    void aHigherClassNestsOverTheOneInServiceAndEoiUnwindsInOrder() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.apic.acceptInterrupt(0x51, ApicTriggerMode.EDGE);
        assertEquals(0x51, f.apic.acknowledge().vector());
        f.apic.acceptInterrupt(0x52, ApicTriggerMode.EDGE); // same class: waits for the EOI
        f.apic.acceptInterrupt(0x61, ApicTriggerMode.EDGE); // higher class: nests
        assertEquals(OptionalInt.of(0x61), f.apic.pendingVector());
        assertEquals(0x61, f.apic.acknowledge().vector());
        assertEquals(OptionalInt.empty(), f.apic.pendingVector());
        f.write(ApicRegister.EOI, 0);
        assertFalse(f.isr(0x61));
        assertTrue(f.isr(0x51), "EOI clears only the highest in-service vector");
        assertEquals(OptionalInt.empty(), f.apic.pendingVector(), "0x52 still below the 0x50 class in service");
        f.write(ApicRegister.EOI, 0);
        assertEquals(OptionalInt.of(0x52), f.apic.pendingVector());
    }

    @Test
    void eoiWithNothingInServiceDoesNothing() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.apic.acceptInterrupt(0x70, ApicTriggerMode.EDGE);
        f.write(ApicRegister.EOI, 0);
        assertTrue(f.irr(0x70));
        assertTrue(f.eois.isEmpty());
        assertEquals(0, f.esr());
    }

    @Test
    void eoiOfALevelTriggeredVectorIsBroadcastToTheEoiListener() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.apic.acceptInterrupt(0x91, ApicTriggerMode.LEVEL);
        f.apic.acceptInterrupt(0x81, ApicTriggerMode.EDGE);
        assertTrue(f.tmr(0x91));
        assertFalse(f.tmr(0x81));
        f.acknowledgeAndEoi();
        f.acknowledgeAndEoi();
        assertEquals(List.of(0x91), f.eois, "edge-triggered EOIs are not broadcast");
    }

    @Test
    void acknowledgeWithNothingDeliverableGivesTheSpuriousVectorWithoutAnIsrBit() {
        LocalApicFixture f = new LocalApicFixture();
        f.write(ApicRegister.SVR, 0x1E7);
        f.apic.acceptInterrupt(0x45, ApicTriggerMode.EDGE);
        f.write(ApicRegister.TPR, 0x50); // raised between INTR and INTA
        ApicInterrupt i = f.apic.acknowledge();
        assertEquals(new ApicInterrupt.Spurious(0xE7), i);
        assertEquals(0, f.read(ApicRegister.ISR, 0xE7 >>> 5));
        assertTrue(f.irr(0x45));
    }

    @Test
    void vectors0To15AreIllegalAndNeverReachTheIrr() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        assertFalse(f.apic.acceptInterrupt(0x0E, ApicTriggerMode.EDGE));
        assertEquals(0, f.read(ApicRegister.IRR, 0));
        assertEquals(LocalApic.ESR_RECEIVE_ILLEGAL_VECTOR, f.esr());
    }

    @Test
    void cr8IsTheTprsPriorityClass() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.apic.setCr8(0x9);
        assertEquals(0x90, f.read(ApicRegister.TPR));
        f.write(ApicRegister.TPR, 0x7C);
        assertEquals(7, f.apic.cr8());
    }

    @Test
    void loweringTheTprKicksTheCoreWhenSomethingBecomesDeliverable() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.write(ApicRegister.TPR, 0xF0);
        f.apic.acceptInterrupt(0x45, ApicTriggerMode.EDGE);
        int before = f.kicks;
        f.write(ApicRegister.TPR, 0x10);
        assertTrue(f.kicks > before);
    }

    @Test
    void anIrrBitAlreadySetIsStillOnePendingInterrupt() {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.apic.acceptInterrupt(0x45, ApicTriggerMode.EDGE);
        f.apic.acceptInterrupt(0x45, ApicTriggerMode.EDGE);
        assertEquals(0x45, f.acknowledgeAndEoi());
        assertInstanceOf(ApicInterrupt.Spurious.class, f.apic.acknowledge());
    }
}
