package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Gpr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Optional;

import static dev.tdemu.core.tdx.TdFixture.MIB;
import static dev.tdemu.core.tdx.TdFixture.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** TDG.MEM.PAGE.ACCEPT on a TD with 64 MiB of private memory, the first 16 MiB added before it ran. */
class PageAcceptTest {

    private static final long LEVEL_2M = 1;
    private static final long INVALID_RCX = TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RCX);

    private final TdFixture f = TdFixture.standard();
    private final TdVcpu v = f.td.addVcpu();

    private long accept(long rcx) {
        return f.status(v, call(TdcallLeaf.TDG_MEM_PAGE_ACCEPT).with(Gpr.RCX, rcx));
    }

    @Test
    void aPendingPageIsAcceptedOnceThenReportedAsAlreadyAccepted() {
        long gpa = 32 * MIB + 0x5000;
        assertEquals(Optional.empty(), f.td.acceptedAt(gpa));
        assertEquals(TdxStatus.TDX_SUCCESS.code(), accept(gpa));
        assertEquals(Optional.of(PageLevel.SIZE_4K), f.td.acceptedAt(gpa));
        assertEquals(0x0000_0B0A_0000_0000L, accept(gpa), "TDX_PAGE_ALREADY_ACCEPTED, mapped at level 0");
        assertEquals(Optional.empty(), f.td.acceptedAt(gpa + 0x1000), "only that page");
    }

    @Test
    void alreadyAcceptedIsAWarningNotAnError() {
        assertEquals(false, TdxStatus.TDX_PAGE_ALREADY_ACCEPTED.isError());
        assertEquals(true, TdxStatus.TDX_PAGE_SIZE_MISMATCH.isError());
    }

    @Test
    void pagesAddedBeforeTheTdRanAreAlreadyAccepted() {
        assertEquals(TdxStatus.TDX_PAGE_ALREADY_ACCEPTED.withDetail(0), accept(0x10_0000));
    }

    @Test
    void aTwoMegabytePageIsAcceptedWholeAndItsFourKilobytePagesReportLevel1() {
        long gpa = 40 * MIB;
        assertEquals(TdxStatus.TDX_SUCCESS.code(), accept(gpa | LEVEL_2M));
        assertEquals(Optional.of(PageLevel.SIZE_2M), f.td.acceptedAt(gpa + 0x1F_F000));
        assertEquals(TdxStatus.TDX_PAGE_ALREADY_ACCEPTED.withDetail(1), accept(gpa + 0x3000));
        assertEquals(TdxStatus.TDX_PAGE_ALREADY_ACCEPTED.withDetail(1), accept(gpa | LEVEL_2M));
    }

    @Test
    void aTwoMegabyteAcceptOverFourKilobyteMappingsIsASizeMismatch() {
        long region = 48 * MIB;
        assertEquals(TdxStatus.TDX_SUCCESS.code(), accept(region + 0x7000));
        assertEquals(0xC000_0B0B_0000_0001L, accept(region | LEVEL_2M), "TDX_PAGE_SIZE_MISMATCH at level 1");
        assertEquals(Optional.empty(), f.td.acceptedAt(region), "nothing else was accepted");
        assertEquals(TdxStatus.TDX_PAGE_SIZE_MISMATCH.withDetail(1), accept(0 | LEVEL_2M),
                "the added memory is mapped at 4 KiB");
    }

    @ParameterizedTest
    @ValueSource(longs = {1L << 3, 1L << 11, 1L << 52, 1L << 63})
    void reservedBitsOfRcxAreOperandInvalid(long reserved) {
        assertEquals(INVALID_RCX, accept((32 * MIB) | reserved));
    }

    @ParameterizedTest
    @ValueSource(longs = {2, 3, 7})
    void onlyLevels0And1CanBeAccepted(long level) {
        assertEquals(INVALID_RCX, accept(0 | level));
    }

    @Test
    void aTwoMegabytePageMustBeTwoMegabyteAligned() {
        assertEquals(INVALID_RCX, accept((32 * MIB + 0x1000) | LEVEL_2M));
    }

    @Test
    void sharedAndOutOfRangeGpasAreOperandInvalid() {
        assertEquals(INVALID_RCX, accept((1L << 47) | 0x1000), "the SHARED bit (GPAW 48)");
        assertEquals(INVALID_RCX, accept(1L << 48), "above GPAW");
    }

    @Test
    void acceptingMemoryTheHostCannotBackExitsWithAnEptViolation() {
        TdcallResult r = f.module.tdcall(v, call(TdcallLeaf.TDG_MEM_PAGE_ACCEPT).with(Gpr.RCX, 64 * MIB));
        assertEquals(64 * MIB, assertInstanceOf(TdcallResult.EptViolationExit.class, r).gpa());
        TdcallResult straddling = f.module.tdcall(v,
                call(TdcallLeaf.TDG_MEM_PAGE_ACCEPT).with(Gpr.RCX, (63 * MIB - MIB) | LEVEL_2M));
        assertInstanceOf(TdcallResult.Completed.class, straddling, "62-64 MiB is inside");
        TdFixture small = new TdFixture(new TdParams(TdAttributes.NON_DEBUG, 1, TdParams.GPAW_48, 3 * MIB, 0));
        TdcallResult past = small.module.tdcall(small.td.addVcpu(),
                call(TdcallLeaf.TDG_MEM_PAGE_ACCEPT).with(Gpr.RCX, (2 * MIB) | LEVEL_2M));
        assertInstanceOf(TdcallResult.EptViolationExit.class, past, "2-4 MiB reaches past 3 MiB");
    }
}
