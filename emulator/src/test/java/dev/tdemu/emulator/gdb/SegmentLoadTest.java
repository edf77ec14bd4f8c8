package dev.tdemu.emulator.gdb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.core.x86.Sreg;
import org.junit.jupiter.api.Test;

/** The debugger's segment loads, checked as MOV to a segment register (a far JMP for CS) in 64-bit mode. */
class SegmentLoadTest {
    static final long GDT = 0x1000;
    /** tdemu's boot GDT, then a read-only data segment, an execute-only code segment, a 32-bit code segment, a not-present data segment and a TSS. */
    static final long[] DESCRIPTORS = {0, 0x00AF9A000000FFFFL, 0x00CF92000000FFFFL, 0x00CFF2000000FFFFL, 0x00AFFA000000FFFFL,
        0x00CF90000000FFFFL, 0x00AF98000000FFFFL, 0x00CF9A000000FFFFL, 0x00CF12000000FFFFL, 0x00008B0020000067L,
        0x12CF92345678FFFFL};

    static SegmentLoad.Tables tables(int ldtSelector) {
        return new SegmentLoad.Tables() {
            public long gdtBase() { return GDT; }
            public int gdtLimit() { return 8 * DESCRIPTORS.length - 1; }
            public int ldtSelector() { return ldtSelector; }
            public long ldtBase() { return GDT; }
            public int ldtLimit() { return 8 * 3 - 1; }

            public long read64(long linear) {
                return DESCRIPTORS[(int) ((linear - GDT) / 8)];
            }
        };
    }

    static SegmentLoad.Outcome load(Sreg reg, int selector, int cpl) {
        return SegmentLoad.check(reg, selector, cpl, true, tables(0));
    }

    static String refusal(SegmentLoad.Outcome o) {
        assertThat(o).isInstanceOf(SegmentLoad.Outcome.Refused.class);
        return ((SegmentLoad.Outcome.Refused) o).reason();
    }

    @Test
    void dataSegmentsLoadWithTheirDescriptor() {
        SegmentLoad.Outcome o = load(Sreg.FS, 0x50, 0);
        assertThat(o).isInstanceOf(SegmentLoad.Outcome.Load.class);
        var s = ((SegmentLoad.Outcome.Load) o).segment();
        assertThat(s.base()).as("the descriptor's base").isEqualTo(0x12345678L);
        assertThat(s.limit()).isEqualTo(0xFFFFFFFFL);
        assertThat(load(Sreg.DS, 0x10, 0)).isInstanceOf(SegmentLoad.Outcome.Load.class);
        assertThat(load(Sreg.ES, 0x1b, 3)).as("DPL 3 data at CPL 3").isInstanceOf(SegmentLoad.Outcome.Load.class);
        assertThat(load(Sreg.DS, 0x08, 0)).as("readable code").isInstanceOf(SegmentLoad.Outcome.Load.class);
    }

    @Test
    void aNullSelectorLoadsIntoDataSegmentsButNotIntoCsAndIntoSsOnlyBelowCpl3() {
        assertThat(load(Sreg.GS, 0, 0)).isInstanceOf(SegmentLoad.Outcome.Load.class);
        assertThat(load(Sreg.DS, 3, 3)).isInstanceOf(SegmentLoad.Outcome.Load.class);
        assertThat(refusal(load(Sreg.CS, 0, 0))).contains("#GP(0)").contains("cs cannot be null");
        assertThat(load(Sreg.SS, 0, 0)).isInstanceOf(SegmentLoad.Outcome.Load.class);
        assertThat(refusal(load(Sreg.SS, 3, 3))).contains("#GP(0)");
        assertThat(refusal(SegmentLoad.check(Sreg.SS, 0, 0, false, tables(0)))).as("outside 64-bit mode").contains("#GP(0)");
    }

    @Test
    void aSelectorBeyondTheTableOrInAMissingLdtIsGp() {
        assertThat(refusal(load(Sreg.DS, 0x1230, 0))).isEqualTo("#GP(0x1230): selector 0x1230 is beyond the GDT's limit 0x57");
        assertThat(refusal(load(Sreg.DS, 0x14, 0))).contains("#GP(0x14)").contains("no LDT is loaded");
        assertThat(SegmentLoad.check(Sreg.DS, 0x14, 0, true, tables(0x48))).as("with an LDT")
                .isInstanceOf(SegmentLoad.Outcome.Load.class);
        assertThat(refusal(SegmentLoad.check(Sreg.DS, 0x1c, 0, true, tables(0x48)))).contains("beyond the LDT's limit 0x17");
    }

    @Test
    void eachRegisterTakesOnlyItsKindOfSegment() {
        assertThat(refusal(load(Sreg.DS, 0x48, 0))).contains("#GP(0x48)").contains("system descriptor (type 11)");
        assertThat(refusal(load(Sreg.ES, 0x30, 0))).contains("execute-only code");
        assertThat(refusal(load(Sreg.SS, 0x28, 0))).contains("#GP(0x28)").contains("writable data segment")
                .contains("read-only data");
        assertThat(refusal(load(Sreg.SS, 0x08, 0))).contains("a code segment");
        assertThat(refusal(load(Sreg.CS, 0x10, 0))).contains("cs needs a code segment");
        assertThat(load(Sreg.CS, 0x08, 0)).isInstanceOf(SegmentLoad.Outcome.Load.class);
        assertThat(load(Sreg.SS, 0x10, 0)).isInstanceOf(SegmentLoad.Outcome.Load.class);
    }

    @Test
    void privilegeIsCheckedAndNeverChanged() {
        assertThat(refusal(load(Sreg.DS, 0x10, 3))).contains("DPL 0 is below CPL 3");
        assertThat(refusal(load(Sreg.DS, 0x13, 0))).contains("RPL 3");
        assertThat(refusal(load(Sreg.SS, 0x1b, 0))).contains("ss needs RPL = DPL = CPL (0)");
        assertThat(refusal(load(Sreg.CS, 0x23, 0))).contains("would change privilege");
        assertThat(refusal(load(Sreg.CS, 0x0b, 0))).contains("RPL 3");
    }

    @Test
    void csStaysA64BitCodeSegmentAndNotPresentSegmentsAreNp() {
        assertThat(refusal(load(Sreg.CS, 0x38, 0))).contains("32- or 16-bit").contains("compatibility mode");
        assertThat(refusal(load(Sreg.DS, 0x40, 0))).isEqualTo("#NP(0x40): selector 0x40's segment is not present");
    }
}
