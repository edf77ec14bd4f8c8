package dev.tdemu.core.pc;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** x2APIC mode: the IA32_APIC_BASE transitions of the SDM's "x2APIC State Transitions" and the MSR interface. */
class LocalApicX2apicTest {
    private static final long BASE = ApicBase.DEFAULT_BASE;
    private static final long EN = ApicBase.ENABLE;
    private static final long EXTD = ApicBase.X2APIC_ENABLE;
    private static final long BSP = ApicBase.BSP;

    private static final int ID = 0x802, VERSION = 0x803, TPR = 0x808, APR = 0x809, PPR = 0x80A, EOI = 0x80B, RRD = 0x80C,
            LDR = 0x80D, DFR = 0x80E, SVR = 0x80F, ISR0 = 0x810, TMR0 = 0x818, IRR0 = 0x820, ESR = 0x828, CMCI = 0x82F,
            ICR = 0x830, ICR2 = 0x831, LVT_TIMER = 0x832, LVT_LINT0 = 0x835, LVT_ERROR = 0x837, TMICT = 0x838,
            TMCCT = 0x839, TDCR = 0x83E, SELF_IPI = 0x83F;

    private final LocalApicFixture f = new LocalApicFixture(0x13, true);
    private final List<String> baseChanges = new ArrayList<>();

    LocalApicX2apicTest() {
        f.apic.setBaseListener((previous, current) -> baseChanges.add(previous.mode() + "->" + current.mode()));
    }

    private void assertBaseGp(long value) {
        long before = f.apic.readApicBase();
        assertInstanceOf(MsrWrite.Gp.class, f.apic.writeApicBase(value), () -> String.format("IA32_APIC_BASE <- 0x%x", value));
        assertEquals(before, f.apic.readApicBase(), "a refused write changes nothing");
    }

    private void assertReadGp(int index) {
        assertInstanceOf(MsrRead.Gp.class, f.apic.readX2apicMsr(index), () -> MsrIndex.name(index));
    }

    private void assertWriteGp(int index, long value) {
        assertInstanceOf(MsrWrite.Gp.class, f.apic.writeX2apicMsr(index, value),
                () -> String.format("%s <- 0x%x", MsrIndex.name(index), value));
    }

    // ---- IA32_APIC_BASE transitions ----

    @Test
    void settingExtdWithEnMovesFromXapicToX2apicMode() {
        assertEquals(MsrWrite.DONE, f.apic.writeApicBase(BASE | BSP | EN | EXTD));
        assertTrue(f.apic.x2apicMode());
        assertEquals(ApicBase.Mode.X2APIC, f.apic.apicBase().mode());
        assertEquals(List.of("XAPIC->X2APIC"), baseChanges);
    }

    @Test
    void enteringX2apicModeSetsTheX2apicIdAndDerivesTheLdrButKeepsTheOtherRegisters() {
        f.enabled();
        f.write(ApicRegister.ID, 0x4200_0000); // software changed the xAPIC ID
        f.write(ApicRegister.TPR, 0x30);
        f.write(ApicRegister.LVT_LINT1, 0x400);
        f.x2apic();
        assertEquals(0x13, f.rdmsr(ID), "the physical x2APIC ID is the initial APIC ID");
        assertEquals((1 << 16) | (1 << 3), f.rdmsr(LDR), "cluster ID bits 31:4 in 31:16, bit (ID & 15) in 15:0");
        assertEquals(0x30, f.rdmsr(TPR));
        assertEquals(0x400, f.rdmsr(0x836));
        assertEquals(0x1FF, f.rdmsr(SVR));
    }

    @Test
    void x2apicToXapicDirectlyIsGp() {
        f.x2apic();
        assertBaseGp(BASE | BSP | EN);
    }

    @Test
    void x2apicToDisabledIsAllowedAndResetsTheRegisters() {
        f.enabled().x2apic();
        f.wrmsr(TPR, 0x50);
        assertEquals(MsrWrite.DONE, f.apic.writeApicBase(BASE | BSP));
        assertEquals(ApicBase.Mode.DISABLED, f.apic.apicBase().mode());
        assertEquals(MsrWrite.DONE, f.apic.writeApicBase(BASE | BSP | EN));
        assertEquals(0x13, f.apic.apicId(), "the ID survives the way through disabled");
        assertEquals(0, f.read(ApicRegister.TPR));
        assertEquals(0, f.read(ApicRegister.LDR), "the xAPIC LDR is software's again");
        assertEquals(List.of("XAPIC->X2APIC", "X2APIC->DISABLED", "DISABLED->XAPIC"), baseChanges);
    }

    @Test
    void disabledToX2apicDirectlyIsGpAndGoesThroughXapicMode() {
        f.apic.writeApicBase(BASE | BSP);
        assertBaseGp(BASE | BSP | EN | EXTD);
        assertEquals(MsrWrite.DONE, f.apic.writeApicBase(BASE | BSP | EN));
        assertEquals(MsrWrite.DONE, f.apic.writeApicBase(BASE | BSP | EN | EXTD));
        assertTrue(f.apic.x2apicMode());
    }

    @Test
    void extdWithoutEnIsTheInvalidStateFromEveryMode() {
        assertBaseGp(BASE | BSP | EXTD); // from xAPIC
        f.x2apic();
        assertBaseGp(BASE | BSP | EXTD); // from x2APIC
        f.apic.writeApicBase(BASE | BSP);
        assertBaseGp(BASE | BSP | EXTD); // from disabled
    }

    @Test
    void reservedBitsStillRaiseGpInX2apicMode() {
        f.x2apic();
        assertBaseGp(BASE | BSP | EN | EXTD | 1);
        assertBaseGp(BASE | BSP | EN | EXTD | (1L << 9));
        assertBaseGp(BASE | BSP | EN | EXTD | (1L << CpuidFeatures.PHYSICAL_ADDRESS_BITS));
    }

    @Test
    void initKeepsX2apicModeTheIdAndTheDerivedLdrAndResetsTheRest() {
        f.enabled().x2apic();
        f.wrmsr(TPR, 0x40);
        f.apic.init();
        assertTrue(f.apic.x2apicMode());
        assertEquals(0x13, f.rdmsr(ID));
        assertEquals((1 << 16) | (1 << 3), f.rdmsr(LDR));
        assertEquals(0, f.rdmsr(TPR));
        assertEquals(0xFF, f.rdmsr(SVR));
    }

    @Test
    void resetReturnsToXapicMode() {
        f.x2apic();
        f.apic.reset();
        assertEquals(ApicBase.Mode.XAPIC, f.apic.apicBase().mode());
        assertEquals(0x1300_0000, f.read(ApicRegister.ID));
    }

    @Test
    void inX2apicModeTheXapicPageIsNotDecoded() {
        f.enabled().x2apic();
        assertFalse(f.apic.covers(BASE + 0x30));
        assertFalse(f.apic.apicBase().mmioDecoded(), "the base listener unmaps the page");
        assertEquals(0xFFFF_FFFFL, f.apic.read(ApicRegister.VERSION.offset(), 4), "reads all-ones, as a disabled xAPIC's");
        f.apic.write(ApicRegister.TPR.offset(), 4, 0xF0);
        assertEquals(0, f.rdmsr(TPR), "MMIO writes are dropped");
        assertEquals(0, f.apic.cr8());
    }

    // ---- the MSR interface ----

    @ParameterizedTest
    @ValueSource(ints = {ID, VERSION, TPR, LDR, SVR, ICR, SELF_IPI})
    void x2apicMsrsRaiseGpOutsideX2apicMode(int index) {
        assertReadGp(index);
        assertWriteGp(index, 0);
        f.apic.writeApicBase(BASE | BSP);
        assertReadGp(index);
    }

    @ParameterizedTest
    @ValueSource(ints = {0x800, 0x801, 0x804, 0x807, APR, RRD, DFR, ICR2, CMCI, 0x829, 0x82E, 0x83A, 0x83D, 0x840, 0x8FF})
    void addressesTheSdmLeavesReservedRaiseGp(int index) {
        f.x2apic();
        assertReadGp(index);
        assertWriteGp(index, 0);
    }

    @Test
    void theIdIsTheInitialApicIdIn32BitsAndReadOnly() {
        f.x2apic();
        assertEquals(0x13, f.rdmsr(ID));
        assertWriteGp(ID, 0x14);
        assertEquals(0x13, f.apic.apicId());
    }

    @Test
    void theVersionIsTheXapicOne() {
        long xapic = f.read(ApicRegister.VERSION);
        f.x2apic();
        assertEquals(xapic, f.rdmsr(VERSION));
    }

    @ParameterizedTest
    @ValueSource(ints = {ID, VERSION, PPR, LDR, ISR0, ISR0 + 7, TMR0, IRR0 + 3, TMCCT})
    void writingAReadOnlyRegisterIsGp(int index) {
        f.enabled().x2apic();
        assertWriteGp(index, 0);
    }

    @Test
    void eoiAndSelfIpiAreWriteOnly() {
        f.x2apic();
        assertReadGp(EOI);
        assertReadGp(SELF_IPI);
    }

    @Test
    void eoiTakesOnlyZeroAndEndsTheInterruptInService() {
        f.enabled().x2apic();
        f.apic.acceptInterrupt(0x61, ApicTriggerMode.LEVEL);
        assertEquals(0x61, f.apic.acknowledge().vector());
        assertWriteGp(EOI, 1);
        assertTrue(f.isr(0x61), "a refused EOI ends nothing");
        f.wrmsr(EOI, 0);
        assertFalse(f.isr(0x61));
        assertEquals(List.of(0x61), f.eois, "a level vector's EOI is broadcast");
    }

    @Test
    void esrTakesOnlyZero() {
        f.enabled().x2apic();
        f.wrmsr(SELF_IPI, 0x05); // an illegal vector: send illegal vector
        assertWriteGp(ESR, 0xFF);
        f.wrmsr(ESR, 0);
        assertEquals(LocalApic.ESR_SEND_ILLEGAL_VECTOR, f.rdmsr(ESR));
    }

    @Test
    void bits63To32AreReservedInEveryRegisterButTheIcr() {
        f.enabled().x2apic();
        assertWriteGp(TPR, 1L << 32);
        assertWriteGp(TMICT, 1L << 40);
        assertEquals(MsrWrite.DONE, f.apic.writeX2apicMsr(ICR, (7L << 32) | 0x40F1));
    }

    @Test
    void setReservedBitsRaiseGpAndChangeNothing() {
        f.enabled().x2apic();
        assertWriteGp(TPR, 0x100);
        assertWriteGp(SVR, 0x11FF); // bit 12: EOI-broadcast suppression is not offered
        assertWriteGp(LVT_LINT0, 1 << 17);
        assertWriteGp(LVT_TIMER, 1 << 19);
        assertWriteGp(LVT_ERROR, 0x700); // the error LVT has no delivery mode
        assertWriteGp(TDCR, 0x4);
        assertWriteGp(SELF_IPI, 0x100);
        assertEquals(0, f.rdmsr(TPR));
        assertEquals(0x1FF, f.rdmsr(SVR));
        assertEquals(0x10000, f.rdmsr(LVT_ERROR));
    }

    @Test
    void readOnlyStatusBitsOfAnLvtMayBeWrittenBack() {
        f.enabled().x2apic();
        // A read-modify-write may carry delivery status (12) and remote IRR (14) back: they are not reserved.
        f.wrmsr(LVT_LINT0, 0x1_0000 | (1 << 12) | (1 << 14) | (1 << 15) | 0x31);
        assertEquals(0x1_0000 | (1 << 15) | 0x31, f.rdmsr(LVT_LINT0), "and stay the model's");
    }

    @Test
    void theIcrIsOne64BitRegisterWithA32BitDestination() {
        f.enabled().x2apic();
        long icr = (0x0000_0105L << 32) | (1 << 14) | 0xF1;
        f.wrmsr(ICR, icr);
        assertEquals(icr, f.rdmsr(ICR));
        assertEquals(1, f.sent.size());
        ApicIcr sent = f.sent.get(0);
        assertTrue(sent.x2apic());
        assertEquals(0x105, sent.destination());
        assertEquals(0xF1, sent.vector());
    }

    @Test
    void icrReservedBitsRaiseGpAndTheBusyBitIsIgnored() {
        f.enabled().x2apic();
        for (long bit : new long[] {1L << 13, 1L << 16, 1L << 17, 1L << 20, 1L << 31}) {
            assertWriteGp(ICR, (1L << 32) | (1 << 14) | 0x40 | bit);
        }
        assertTrue(f.sent.isEmpty());
        f.wrmsr(ICR, (1L << 32) | (1 << 12) | (1 << 14) | 0x40);
        assertEquals((1L << 32) | (1 << 14) | 0x40, f.rdmsr(ICR), "delivery status reads idle");
    }

    @Test
    void anIcrToTheOwnX2apicIdIsDeliveredLocally() {
        f.enabled().x2apic();
        f.wrmsr(ICR, (0x13L << 32) | (1 << 14) | 0x77);
        assertTrue(f.irr(0x77));
        assertTrue(f.sent.isEmpty());
    }

    @Test
    void selfIpiSetsTheIrrWithAFixedEdgeInterrupt() {
        f.enabled().x2apic();
        f.wrmsr(SELF_IPI, 0x55);
        assertTrue(f.irr(0x55));
        assertFalse(f.tmr(0x55));
        assertTrue(f.sent.isEmpty());
        assertEquals(0x55, f.acknowledgeAndEoi());
        assertFalse(f.isr(0x55));
    }

    @Test
    void tprIsCr8AndPprFollows() {
        f.enabled().x2apic();
        f.wrmsr(TPR, 0x70);
        assertEquals(7, f.apic.cr8());
        f.apic.setCr8(3);
        assertEquals(0x30, f.rdmsr(TPR));
        assertEquals(0x30, f.rdmsr(PPR));
    }

    @Test
    void isrTmrAndIrrAreEightMsrsEach() {
        f.enabled().x2apic();
        f.apic.acceptInterrupt(0x9C, ApicTriggerMode.LEVEL);
        assertEquals(1L << (0x9C & 31), f.rdmsr(IRR0 + (0x9C >> 5)));
        assertEquals(1L << (0x9C & 31), f.rdmsr(TMR0 + (0x9C >> 5)));
        f.apic.acknowledge();
        assertEquals(1L << (0x9C & 31), f.rdmsr(ISR0 + (0x9C >> 5)));
        assertEquals(0, f.rdmsr(IRR0 + (0x9C >> 5)));
    }

    @Test
    void theTimerRunsThroughItsMsrs() {
        f.enabled().x2apic();
        f.wrmsr(LVT_TIMER, 0xEE);
        f.wrmsr(TDCR, 0xB);
        f.wrmsr(TMICT, 500);
        f.clock.set(200);
        assertEquals(300, f.rdmsr(TMCCT));
        f.clock.set(500);
        f.apic.expire(500);
        assertTrue(f.irr(0xEE));
    }

    // ---- destinations on the bus ----

    /** Four vCPUs on one bus, software-enabled and in x2APIC mode, with APIC IDs 0, 1, 16 and 17 (two clusters). */
    private static List<LocalApic> x2apicMachine(ApicBus bus) {
        dev.tdemu.core.platform.ManualClock clock = new dev.tdemu.core.platform.ManualClock();
        List<LocalApic> apics = new ArrayList<>();
        for (int id : new int[] {0, 1, 16, 17}) {
            LocalApic apic = new LocalApic(id, id == 0, clock, bus);
            apic.write(ApicRegister.SVR.offset(), 4, 0x1FF);
            assertEquals(MsrWrite.DONE, apic.writeApicBase(apic.readApicBase() | EXTD));
            bus.attach(apic);
            apics.add(apic);
        }
        return apics;
    }

    private static List<Boolean> pending(List<LocalApic> apics, int vector) {
        return apics.stream().map(a -> a.pendingVector().equals(java.util.OptionalInt.of(vector))).toList();
    }

    @Test
    void physicalX2apicDestinationsAre32BitIdsAndAllOnesIsTheBroadcast() {
        ApicBus bus = new ApicBus((source, icr, why) -> { });
        List<LocalApic> apics = x2apicMachine(bus);
        assertEquals(MsrWrite.DONE, apics.get(0).writeX2apicMsr(ICR, (16L << 32) | (1 << 14) | 0x41));
        assertEquals(List.of(false, false, true, false), pending(apics, 0x41));
        apics.get(0).writeX2apicMsr(ICR, (0xFFL << 32) | (1 << 14) | 0x42);
        assertEquals(List.of(false, false, false, false), pending(apics, 0x42), "0xFF is no broadcast in x2APIC mode");
        apics.get(0).writeX2apicMsr(ICR, (0xFFFF_FFFFL << 32) | (1 << 14) | 0x43);
        assertEquals(List.of(true, true, true, true), pending(apics, 0x43));
    }

    @Test
    void logicalX2apicDestinationsAreAClusterAndAMemberBitmap() {
        ApicBus bus = new ApicBus((source, icr, why) -> { });
        List<LocalApic> apics = x2apicMachine(bus);
        apics.get(0).writeX2apicMsr(ICR, ((1L << 16 | 0b11) << 32) | (1 << 11) | (1 << 14) | 0x51);
        assertEquals(List.of(false, false, true, true), pending(apics, 0x51), "cluster 1, members 0 and 1: IDs 16 and 17");
        apics.get(0).writeX2apicMsr(ICR, (0b10L << 32) | (1 << 11) | (1 << 14) | 0x52);
        assertEquals(List.of(false, true, false, false), pending(apics, 0x52), "cluster 0, member 1: ID 1");
    }

    @Test
    void anIoApicBroadcastReachesX2apicModeApicsAsTheX2apicBroadcast() {
        ApicBus bus = new ApicBus((source, icr, why) -> { });
        List<LocalApic> apics = x2apicMachine(bus);
        assertEquals(4, bus.deliver(new ApicIcr((0xFFL << 56) | (1 << 14) | 0x61)));
        assertEquals(List.of(true, true, true, true), pending(apics, 0x61));
        assertEquals(1, bus.deliver(new ApicIcr((17L << 56) | (1 << 14) | 0x62)), "an 8-bit physical ID matches the x2APIC ID");
        assertEquals(List.of(false, false, false, true), pending(apics, 0x62));
    }
}
