package dev.tdemu.core.pc;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LocalApicLintTest {
    private static final int EXTINT = 7 << 8, NMI = 4 << 8, LEVEL = 1 << 15, MASKED = 1 << 16;

    /** A PIC that has one interrupt, vector {@code vector}, until acknowledged. */
    private static final class FakePic implements ApicExtIntSource {
        int vector = -1;
        int acknowledged;

        @Override
        public boolean pending() {
            return vector >= 0;
        }

        @Override
        public int acknowledge() {
            acknowledged++;
            int v = vector < 0 ? 0x27 : vector; // IRQ 7 spurious
            vector = -1;
            return v;
        }
    }

    private final LocalApicFixture f = new LocalApicFixture().enabled();
    private final FakePic pic = new FakePic();

    LocalApicLintTest() {
        f.apic.setExtIntSource(pic);
    }

    @Test
    void extIntOnLint0TakesTheVectorFromThePicAndIgnoresPriorities() {
        f.write(ApicRegister.LVT_LINT0, EXTINT);
        f.write(ApicRegister.TPR, 0xF0);
        pic.vector = 0x20;
        int kicks = f.kicks;
        f.apic.lint0().raise();
        assertTrue(f.kicks > kicks, "the PIC's INT wakes the core");
        assertTrue(f.apic.hasInterrupt());
        assertEquals(new ApicInterrupt.ExtInt(0x20), f.apic.acknowledge());
        assertEquals(0, f.read(ApicRegister.ISR, 1), "ExtINT does not go through ISR");
        assertFalse(f.apic.hasInterrupt());
    }

    @Test
    void extIntComesBeforeAPendingFixedVector() {
        f.write(ApicRegister.LVT_LINT0, EXTINT);
        f.apic.acceptInterrupt(0xF0, ApicTriggerMode.EDGE);
        pic.vector = 0x21;
        assertEquals(new ApicInterrupt.ExtInt(0x21), f.apic.acknowledge());
        assertEquals(new ApicInterrupt.Fixed(0xF0), f.apic.acknowledge());
    }

    @Test
    void aMaskedLint0DoesNotAskThePic() {
        f.write(ApicRegister.LVT_LINT0, EXTINT | MASKED);
        pic.vector = 0x20;
        assertFalse(f.apic.hasInterrupt());
        assertEquals(new ApicInterrupt.Spurious(0xFF), f.apic.acknowledge());
        assertEquals(0, pic.acknowledged);
    }

    @Test
    void aGloballyDisabledApicConnectsThePicStraightToIntr() {
        f.apic.writeApicBase(ApicBase.DEFAULT_BASE | ApicBase.BSP);
        pic.vector = 0x08;
        assertTrue(f.apic.hasInterrupt());
        assertEquals(new ApicInterrupt.ExtInt(0x08), f.apic.acknowledge());
        assertEquals(new ApicInterrupt.ExtInt(0x27), f.apic.acknowledge(), "the PIC answers its own spurious vector");
    }

    @Test
    void lint1InNmiModeRaisesAnNmiOnTheRisingEdge() {
        f.write(ApicRegister.LVT_LINT1, NMI);
        f.apic.lint1().raise();
        f.apic.lint1().raise(); // still high: no new edge
        assertTrue(f.apic.takeNmi());
        assertFalse(f.apic.takeNmi());
        f.apic.lint1().lower();
        f.apic.lint1().pulse();
        assertTrue(f.apic.takeNmi());
    }

    @Test
    void aGloballyDisabledApicTurnsLint1IntoTheNmiPin() {
        f.apic.writeApicBase(ApicBase.DEFAULT_BASE);
        f.apic.lint1().pulse();
        assertTrue(f.apic.nmiPending());
    }

    @Test
    void anEdgeTriggeredFixedLintSetsTheIrrOncePerEdge() {
        f.write(ApicRegister.LVT_LINT1, 0x61);
        f.apic.lint1().pulse();
        assertTrue(f.irr(0x61));
        assertFalse(f.tmr(0x61));
        assertEquals(0x61, f.acknowledgeAndEoi());
        assertEquals(OptionalInt.empty(), f.apic.pendingVector());
    }

    @Test
    void aLevelTriggeredFixedLintHoldsRemoteIrrUntilTheEoiAndRedeliversWhileAsserted() {
        f.write(ApicRegister.LVT_LINT0, LEVEL | 0x62);
        f.apic.lint0().raise();
        assertTrue(f.tmr(0x62));
        assertEquals(new ApicInterrupt.Fixed(0x62), f.apic.acknowledge());
        assertTrue(f.apic.lvt(ApicLvt.LINT0).remoteIrr());
        assertEquals(OptionalInt.empty(), f.apic.pendingVector());
        f.write(ApicRegister.EOI, 0);
        assertFalse(f.apic.lvt(ApicLvt.LINT0).remoteIrr());
        assertEquals(OptionalInt.of(0x62), f.apic.pendingVector(), "the line is still asserted");
        f.apic.acknowledge();
        f.apic.lint0().lower();
        f.write(ApicRegister.EOI, 0);
        assertEquals(OptionalInt.empty(), f.apic.pendingVector());
        assertEquals(List.of(0x62, 0x62), f.eois);
    }

    @Test
    void unmaskingALevelTriggeredLintWhileTheLineIsHighDeliversIt() {
        f.write(ApicRegister.LVT_LINT0, LEVEL | MASKED | 0x63);
        f.apic.lint0().raise();
        assertFalse(f.irr(0x63));
        f.write(ApicRegister.LVT_LINT0, LEVEL | 0x63);
        assertTrue(f.irr(0x63));
    }

    @Test
    void withoutAPicAnExtIntAcknowledgeIsAWiringError() {
        LocalApicFixture bare = new LocalApicFixture();
        bare.apic.writeApicBase(ApicBase.DEFAULT_BASE);
        assertFalse(bare.apic.hasInterrupt());
        assertThrows(IllegalStateException.class, bare.apic::acknowledge);
    }
}
