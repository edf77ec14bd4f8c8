package dev.tdemu.core.pc;

import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.platform.PortBus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Pic8259PairTest {
    private final RecordingLine intr = new RecordingLine();
    private final Pic8259Pair pic = new Pic8259Pair(intr);
    private final PortBus bus = new PortBus();

    Pic8259PairTest() {
        pic.attachTo(bus);
    }

    private void out(int port, int value) {
        bus.out(port, 1, value);
    }

    private int in(int port) {
        return (int) bus.in(port, 1);
    }

    /** Linux's init_8259A: vectors 0x20 and 0x28, cascade on IR2, 8086 mode. */
    private void initLikeLinux(int masterIcw4, int slaveIcw4) {
        out(0x20, 0x11);
        out(0x21, 0x20);
        out(0x21, 0x04);
        out(0x21, masterIcw4);
        out(0xA0, 0x11);
        out(0xA1, 0x28);
        out(0xA1, 0x02);
        out(0xA1, slaveIcw4);
    }

    private void initLikeLinux() {
        initLikeLinux(0x01, 0x01);
    }

    private void nonSpecificEoi(int port) {
        out(port, 0x20);
    }

    @Test
    void theInitialisationSequenceSetsTheVectorBases() {
        initLikeLinux();
        assertEquals(0x20, pic.masterVectorBase());
        assertEquals(0x28, pic.slaveVectorBase());
        pic.irq(1).raise();
        assertTrue(pic.intr());
        assertEquals(0x21, pic.interruptAcknowledge());
    }

    @Test
    void icw2IgnoresTheLowThreeBits() {
        out(0x20, 0x11);
        out(0x21, 0x27);
        out(0x21, 0x04);
        out(0x21, 0x01);
        assertEquals(0x20, pic.masterVectorBase());
    }

    @Test
    void icw1ClearsTheMaskAndTheInServiceLevels() {
        initLikeLinux();
        out(0x21, 0xFF);
        pic.irq(0).raise();
        out(0x21, 0x00);
        pic.interruptAcknowledge();
        out(0x21, 0xF0);
        initLikeLinux();
        assertEquals(0, pic.imr() & 0xFF);
        assertEquals(0, pic.isr());
    }

    @Test
    void icw1NeedsAFreshEdgeFromALineThatIsAlreadyHigh() {
        initLikeLinux();
        pic.irq(3).raise();
        initLikeLinux();
        assertFalse(pic.intr(), "the edge latch was reset");
        pic.irq(3).lower();
        pic.irq(3).raise();
        assertTrue(pic.intr());
    }

    @Test
    void theDataPortReadsAndWritesTheMask() {
        initLikeLinux();
        out(0x21, 0xA5);
        out(0xA1, 0x5A);
        assertEquals(0xA5, in(0x21));
        assertEquals(0x5A, in(0xA1));
        assertEquals(0x5AA5, pic.imr());
    }

    @Test
    void aMaskedRequestWaitsInIrrUntilUnmasked() {
        initLikeLinux();
        out(0x21, 0x10);
        pic.irq(4).pulse();
        assertFalse(pic.intr());
        assertEquals(0x10, pic.irr() & 0xFF);
        out(0x21, 0x00);
        assertTrue(pic.intr());
        assertEquals(0x24, pic.interruptAcknowledge());
    }

    @Test
    void anEdgeTriggeredRequestIsLatchedOnlyOnTheRisingEdge() {
        initLikeLinux();
        pic.irq(4).raise();
        assertEquals(0x24, pic.interruptAcknowledge());
        nonSpecificEoi(0x20);
        assertFalse(pic.intr(), "a line held high is one request");
        pic.irq(4).lower();
        pic.irq(4).raise();
        assertTrue(pic.intr());
    }

    @Test
    void anEdgeStaysLatchedWhenTheLineFallsBeforeInta() {
        initLikeLinux();
        pic.irq(6).pulse();
        assertTrue(pic.intr());
        assertEquals(0x26, pic.interruptAcknowledge());
        assertEquals(0, pic.irr() & 0x40, "INTA clears an edge request");
    }

    @Test
    void aLevelTriggeredRequestFollowsItsLineAndComesBackAfterEoiWhileHigh() {
        initLikeLinux();
        out(0x4D1, 0x04); // IRQ 10 level-triggered
        pic.irq(10).raise();
        assertEquals(0x2A, pic.interruptAcknowledge());
        assertEquals(0x0400, pic.irr() & 0x0400, "INTA leaves a level request in IRR");
        nonSpecificEoi(0xA0);
        nonSpecificEoi(0x20);
        assertTrue(pic.intr(), "still high: requested again");
        pic.irq(10).lower();
        assertEquals(0, pic.irr() & 0x0400, "the slave's request went with its line");
        assertEquals(0x2F, pic.interruptAcknowledge(), "the master's edge-latched IR2 remains: spurious IRQ 15");
    }

    @Test
    void aLevelTriggeredMasterRequestThatFallsBeforeIntaLeavesNothing() {
        initLikeLinux();
        out(0x4D0, 0x20); // IRQ 5 level
        pic.irq(5).raise();
        assertTrue(pic.intr());
        pic.irq(5).lower();
        assertFalse(pic.intr());
        assertEquals(0, pic.irr() & 0x20);
    }

    @Test
    void elcrKeepsIrq0_1_2_8And13EdgeTriggered() {
        out(0x4D0, 0xFF);
        out(0x4D1, 0xFF);
        assertEquals(0xF8, in(0x4D0));
        assertEquals(0xDE, in(0x4D1));
    }

    @Test
    void ltimInIcw1MakesEveryInputOfThatChipLevelTriggered() {
        out(0x20, 0x19);
        out(0x21, 0x20);
        out(0x21, 0x04);
        out(0x21, 0x01);
        pic.irq(5).raise();
        assertEquals(0x25, pic.interruptAcknowledge());
        nonSpecificEoi(0x20);
        assertTrue(pic.intr());
        pic.irq(5).lower();
        assertFalse(pic.intr());
    }

    @Test
    void theLowestNumberedRequestWinsAndOnlyAHigherPriorityNestsInsideAnInServiceLevel() {
        initLikeLinux();
        pic.irq(3).raise();
        pic.irq(5).raise();
        assertEquals(0x23, pic.interruptAcknowledge());
        assertFalse(pic.intr(), "IRQ 5 waits behind IRQ 3 in service");
        pic.irq(1).raise();
        assertTrue(pic.intr(), "IRQ 1 nests inside IRQ 3");
        assertEquals(0x21, pic.interruptAcknowledge());
        assertEquals(0x0A, pic.isr());
        nonSpecificEoi(0x20); // clears IRQ 1
        nonSpecificEoi(0x20); // clears IRQ 3
        assertEquals(0x25, pic.interruptAcknowledge());
    }

    @Test
    void aSlaveRequestArrivesThroughTheCascadeWithBothInServiceBits() {
        initLikeLinux();
        pic.irq(12).raise();
        assertTrue(pic.intr());
        assertEquals(0x2C, pic.interruptAcknowledge());
        assertEquals(0x1004, pic.isr());
        nonSpecificEoi(0xA0);
        nonSpecificEoi(0x20);
        assertEquals(0, pic.isr());
    }

    @Test
    void aSpecificEoiClearsTheNamedLevel() {
        initLikeLinux();
        pic.irq(3).raise();
        pic.interruptAcknowledge();
        pic.irq(1).raise();
        pic.interruptAcknowledge();
        out(0x20, 0x63); // specific EOI, level 3
        assertEquals(0x02, pic.isr());
    }

    @Test
    void autoEoiLeavesNothingInService() {
        initLikeLinux(0x03, 0x01);
        pic.irq(4).raise();
        assertEquals(0x24, pic.interruptAcknowledge());
        assertEquals(0, pic.isr());
    }

    @Test
    void rotateOnNonSpecificEoiGivesTheServicedLevelTheLowestPriority() {
        initLikeLinux();
        pic.irq(3).raise();
        pic.interruptAcknowledge();
        out(0x20, 0xA0); // rotate on non-specific EOI: IRQ 3 lowest, IRQ 4 highest
        pic.irq(3).lower();
        pic.irq(3).raise();
        pic.irq(5).raise();
        assertEquals(0x25, pic.interruptAcknowledge());
    }

    @Test
    void rotateOnSpecificEoiRotatesAroundTheNamedLevel() {
        initLikeLinux();
        pic.irq(1).raise();
        pic.interruptAcknowledge();
        out(0x20, 0xE1); // rotate on specific EOI level 1: IRQ 1 lowest
        pic.irq(1).lower();
        pic.irq(1).raise();
        pic.irq(7).raise();
        assertEquals(0x27, pic.interruptAcknowledge());
        assertEquals(0x80, pic.isr(), "the EOI cleared level 1");
    }

    @Test
    void setPriorityMakesTheNamedLevelTheLowest() {
        initLikeLinux();
        out(0x20, 0xC4); // IRQ 4 lowest, IRQ 5 highest
        pic.irq(0).raise();
        pic.irq(6).raise();
        assertEquals(0x26, pic.interruptAcknowledge());
    }

    @Test
    void rotateInAutoEoiModeRotatesOnEachAcknowledge() {
        initLikeLinux(0x03, 0x01);
        out(0x20, 0x80); // set rotate in automatic EOI mode
        pic.irq(0).raise();
        pic.irq(1).raise();
        assertEquals(0x20, pic.interruptAcknowledge());
        pic.irq(0).lower();
        pic.irq(0).raise();
        assertEquals(0x21, pic.interruptAcknowledge(), "IRQ 0 became the lowest");
        out(0x20, 0x00); // clear rotate in automatic EOI mode
        pic.irq(4).raise();
        pic.irq(3).raise();
        assertEquals(0x23, pic.interruptAcknowledge(), "priority stays where the last rotation left it: IRQ 2 highest");
    }

    @Test
    void ocw3SelectsIrrOrIsrForCommandPortReads() {
        initLikeLinux();
        out(0x21, 0x01);
        pic.irq(0).raise();
        pic.irq(1).raise();
        pic.interruptAcknowledge(); // IRQ 1 in service, IRQ 0 masked in IRR
        assertEquals(0x01, in(0x20), "IRR after initialisation");
        out(0x20, 0x0B);
        assertEquals(0x02, in(0x20), "ISR");
        out(0x20, 0x08);
        assertEquals(0x02, in(0x20), "a command without RR keeps the selection");
        out(0x20, 0x0A);
        assertEquals(0x01, in(0x20), "IRR");
    }

    @Test
    void pollModeReadsTheHighestRequestAndPutsItInService() {
        initLikeLinux();
        pic.irq(5).raise();
        pic.irq(6).raise();
        out(0x20, 0x0C);
        assertEquals(0x85, in(0x20));
        assertEquals(0x20, pic.isr());
        assertEquals(0x40, in(0x20), "poll is one read only; then IRR again");
    }

    @Test
    void aPollWithNothingToDeliverReadsZero() {
        initLikeLinux();
        out(0x20, 0x0C);
        assertEquals(0x00, in(0x20));
    }

    @Test
    void specialMaskModeLetsLowerLevelsPastAMaskedInServiceLevel() {
        initLikeLinux();
        pic.irq(1).raise();
        pic.interruptAcknowledge();
        out(0x21, 0x02);
        pic.irq(5).raise();
        assertFalse(pic.intr());
        out(0x20, 0x68); // set special mask mode
        assertTrue(pic.intr());
        assertEquals(0x25, pic.interruptAcknowledge());
        out(0x20, 0x48); // reset special mask mode
        pic.irq(6).raise();
        assertFalse(pic.intr());
    }

    @Test
    void aRequestGoneBeforeIntaGivesTheMastersSpuriousIrq7() {
        initLikeLinux();
        pic.irq(4).raise();
        out(0x21, 0x10); // masked between INTR and INTA
        assertEquals(0x27, pic.interruptAcknowledge());
        assertEquals(0, pic.isr(), "a spurious interrupt is not in service");
    }

    @Test
    void aSlaveRequestGoneBeforeIntaGivesTheSlavesSpuriousIrq15WithTheCascadeInService() {
        initLikeLinux();
        out(0x4D1, 0x04); // IRQ 10 level
        pic.irq(10).raise();
        out(0xA1, 0x04); // the slave's request is masked, the master's IR2 edge stays latched
        assertTrue(pic.intr());
        assertEquals(0x2F, pic.interruptAcknowledge());
        assertEquals(0x0004, pic.isr());
    }

    @Test
    void theIntrLineFollowsThePendingState() {
        initLikeLinux();
        pic.irq(3).raise();
        assertTrue(intr.high);
        pic.interruptAcknowledge();
        assertFalse(intr.high);
        pic.irq(0).raise();
        assertTrue(intr.high, "IRQ 0 nests inside IRQ 3");
        assertEquals(2, intr.rises);
    }

    @Test
    void specialFullyNestedModeLetsAHigherSlaveRequestNestInsideTheCascade() {
        initLikeLinux(0x11, 0x01);
        pic.irq(12).raise();
        assertEquals(0x2C, pic.interruptAcknowledge());
        pic.irq(9).raise();
        assertTrue(pic.intr());
        assertEquals(0x29, pic.interruptAcknowledge());
    }

    @Test
    void withoutSpecialFullyNestedModeTheCascadeInServiceBlocksTheSlave() {
        initLikeLinux();
        pic.irq(12).raise();
        pic.interruptAcknowledge();
        pic.irq(9).raise();
        assertFalse(pic.intr());
        nonSpecificEoi(0xA0);
        nonSpecificEoi(0x20);
        assertEquals(0x29, pic.interruptAcknowledge());
    }

    @Test
    void eightyEightyModeFailsLoudly() {
        assertThrows(NotModelledException.class, () -> out(0x20, 0x10));
        out(0x20, 0x11);
        out(0x21, 0x20);
        out(0x21, 0x04);
        NotModelledException e = assertThrows(NotModelledException.class, () -> out(0x21, 0x00));
        assertEquals("8259A master: 8080/8085 mode (ICW4 bit 0 clear) is not modelled", e.getMessage());
    }

    @Test
    void aSlaveIdOtherThanTheCascadeInputFailsLoudly() {
        out(0xA0, 0x11);
        out(0xA1, 0x28);
        NotModelledException e = assertThrows(NotModelledException.class, () -> out(0xA1, 0x03));
        assertEquals("8259A slave: slave ID 3 in ICW3 (a PC cascades the slave on IR2) is not modelled", e.getMessage());
    }

    @Test
    void irq2IsTheCascadeAndNotAnInputLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pic.irq(2));
        assertEquals("8259A: IRQ 2 is not an input line (0-15 without the cascade IRQ 2)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> pic.irq(16));
    }

    @Test
    void resetDropsIntrAndForgetsTheProgramming() {
        initLikeLinux();
        pic.irq(1).raise();
        pic.reset();
        assertFalse(intr.high);
        assertEquals(0, pic.masterVectorBase());
        assertEquals(0, pic.irr() & 0x02);
    }
}
