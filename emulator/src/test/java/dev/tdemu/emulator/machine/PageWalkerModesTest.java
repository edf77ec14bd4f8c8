package dev.tdemu.emulator.machine;

import static dev.tdemu.emulator.machine.PageWalker.PF_FETCH;
import static dev.tdemu.emulator.machine.PageWalker.PF_P;
import static dev.tdemu.emulator.machine.PageWalker.PF_PK;
import static dev.tdemu.emulator.machine.PageWalker.PF_RSVD;
import static dev.tdemu.emulator.machine.PageWalker.PF_USER;
import static dev.tdemu.emulator.machine.PageWalker.PF_WRITE;
import static dev.tdemu.emulator.machine.PagingState.CR0_PG;
import static dev.tdemu.emulator.machine.PagingState.CR0_WP;
import static dev.tdemu.emulator.machine.PagingState.CR4_PAE;
import static dev.tdemu.emulator.machine.PagingState.CR4_PKE;
import static dev.tdemu.emulator.machine.PagingState.CR4_PSE;
import static dev.tdemu.emulator.machine.PagingState.CR4_SMAP;
import static dev.tdemu.emulator.machine.PagingState.CR4_SMEP;
import static dev.tdemu.emulator.machine.PagingState.EFER_LMA;
import static dev.tdemu.emulator.machine.PagingState.EFER_LME;
import static dev.tdemu.emulator.machine.PagingState.EFER_NXE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.emulator.machine.PageWalker.AccessType;
import dev.tdemu.emulator.machine.PageWalker.LinearAccess;
import dev.tdemu.emulator.machine.PageWalker.Mapped;
import dev.tdemu.emulator.machine.PageWalker.PageFault;
import dev.tdemu.emulator.machine.PageWalker.Result;
import dev.tdemu.emulator.machine.PageWalker.Unwalkable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link PageWalker#walk} and {@link PageWalker#lookup} in every paging mode, each fault bit, and Accessed/Dirty. */
class PageWalkerModesTest {
    static final long P = 1, W = 2, U = 4, A = 0x20, D = 0x40, PS = 0x80, XD = 1L << 63;
    static final long ROOT = 0x10000, T1 = 0x11000, T2 = 0x12000, T3 = 0x13000;
    static final LinearAccess KREAD = LinearAccess.explicit(AccessType.READ, 0, false, 0);
    static final LinearAccess KWRITE = LinearAccess.explicit(AccessType.WRITE, 0, false, 0);
    static final LinearAccess KFETCH = LinearAccess.explicit(AccessType.FETCH, 0, false, 0);
    static final LinearAccess UREAD = LinearAccess.explicit(AccessType.READ, 3, false, 0);
    static final LinearAccess UWRITE = LinearAccess.explicit(AccessType.WRITE, 3, false, 0);
    static final LinearAccess UFETCH = LinearAccess.explicit(AccessType.FETCH, 3, false, 0);

    final GuestMemory mem = new GuestMemory(16L << 20);

    @AfterEach
    void close() {
        mem.close();
    }

    static PagingState state(long cr0, long cr4, long efer) {
        return new PagingState(cr0, ROOT, cr4, efer, 40);
    }

    static final PagingState BITS32 = state(CR0_PG | CR0_WP, CR4_PSE, 0);
    static final PagingState PAE = state(CR0_PG | CR0_WP, CR4_PAE, EFER_NXE);
    static final PagingState LONG = state(CR0_PG | CR0_WP, CR4_PAE, EFER_LME | EFER_LMA | EFER_NXE);

    Result walk(PagingState s, long linear, LinearAccess a) {
        return PageWalker.walk(mem, s, linear, a);
    }

    static int errorCode(Result r) {
        assertThat(r).isInstanceOf(PageFault.class);
        return ((PageFault) r).errorCode();
    }

    static long physical(Result r) {
        assertThat(r).isInstanceOf(Mapped.class);
        return ((Mapped) r).physical();
    }

    /** 4-level tables: 0-2 MiB through a page table, 2-4 MiB one 2 MiB page at physical 4 MiB. */
    void fourLevelTables(long pteFlags) {
        mem.write64(ROOT, T1 | P | W | U);
        mem.write64(T1, T2 | P | W | U);
        mem.write64(T2, T3 | P | W | U);
        mem.write64(T2 + 8, 0x400000 | P | W | U | PS);
        mem.write64(T3 + 8 * 0x100, 0x100000 | pteFlags);
    }

    @Test
    void modeComesFromPgPaeAndLme() {
        assertThat(state(0, CR4_PAE, EFER_LME).mode()).isEqualTo(PagingState.Mode.NONE);
        assertThat(state(CR0_PG, 0, 0).mode()).isEqualTo(PagingState.Mode.BITS_32);
        assertThat(state(CR0_PG, CR4_PAE, 0).mode()).isEqualTo(PagingState.Mode.PAE);
        assertThat(state(CR0_PG, CR4_PAE, EFER_LME | EFER_LMA).mode()).isEqualTo(PagingState.Mode.LEVEL_4);
        assertThatThrownBy(() -> state(CR0_PG, CR4_PAE | PagingState.CR4_LA57, EFER_LMA).mode())
                .isInstanceOf(NotModelledException.class).hasMessageContaining("5-level");
        assertThatThrownBy(() -> state(CR0_PG, 0, EFER_LME).mode()).hasMessageContaining("#GP");
    }

    @Test
    void withPagingOffLinearIsPhysicalTruncatedToThirtyTwoBits() {
        PagingState off = state(0, 0, 0);
        assertThat(physical(walk(off, 0x1_0012_3456L, KWRITE))).isEqualTo(0x0012_3456L);
        assertThat(physical(PageWalker.lookup(mem, off, 0xB8000))).isEqualTo(0xB8000);
    }

    @Test
    void thirtyTwoBitPagingMapsFourKibAndWithPseFourMibPages() {
        mem.write32(ROOT, T1 | P | W | U);                     // 0-4 MiB: page table
        mem.write32(ROOT + 4, 0x800000 | P | W | U | PS);      // 4-8 MiB: a 4 MiB page at 8 MiB
        mem.write32(T1 + 4 * 0x123, 0x456000 | P | W | U);
        Result big = walk(BITS32, 0x412345, UWRITE);
        assertThat(physical(big)).isEqualTo(0x812345);
        assertThat(((Mapped) big).pageSize()).isEqualTo(4L << 20);
        assertThat(mem.read32(ROOT + 4) & (A | D)).isEqualTo(A | D);
        assertThat(mem.read32(ROOT)).as("the neighbouring 4-byte PDE is untouched").isEqualTo(T1 | P | W | U);
        assertThat(physical(walk(BITS32, 0x123ABC, KREAD))).isEqualTo(0x456ABC);
        assertThat(mem.read32(T1 + 4 * 0x123) & (A | D)).isEqualTo(A);
        PagingState noPse = state(CR0_PG, 0, 0);
        mem.write32(0x800000 + 4 * 0x12, 0x300000 | P);
        assertThat(physical(walk(noPse, 0x412345, KREAD))).as("without CR4.PSE the PS bit is ignored").isEqualTo(0x300345);
    }

    @Test
    void thirtyTwoBitPagingHasNoXdAndReservesBitsTwentyOneToThirteenOfALargePage() {
        mem.write32(ROOT + 4, 0x800000 | P | W | 0x2000 | PS);
        assertThat(errorCode(walk(BITS32, 0x400000, KREAD))).isEqualTo(PF_RSVD | PF_P);
        assertThat(errorCode(walk(BITS32, 0xC00000, UFETCH))).as("not present; no I/D without SMEP")
                .isEqualTo(PF_USER);
        assertThat(errorCode(walk(state(CR0_PG, CR4_SMEP, EFER_NXE), 0xC00000, UFETCH)))
                .as("SMEP makes I/D reported").isEqualTo(PF_USER | PF_FETCH);
    }

    @Test
    void paePagingWalksPdptesThenTwoLevels() {
        mem.write64(ROOT + 8, T1 | P);                          // PDPTE 1: 1-2 GiB
        mem.write64(T1, T2 | P | W);
        mem.write64(T1 + 8, 0x600000 | P | W | PS);              // 1 GiB + 2 MiB: a 2 MiB page
        mem.write64(T2 + 8 * 3, 0x7000 | P | W);
        assertThat(physical(walk(PAE, 0x4000_3123L, KWRITE))).isEqualTo(0x7123);
        assertThat(physical(walk(PAE, 0x4020_0010L, KREAD))).isEqualTo(0x600010);
        assertThat(mem.read64(ROOT + 8) & A).as("PAE PDPTEs have no Accessed flag").isZero();
        assertThat(mem.read64(T2 + 8 * 3) & (A | D)).isEqualTo(A | D);
        assertThat(errorCode(walk(PAE, 0x8000_0000L, KWRITE))).as("PDPTE 2 not present").isEqualTo(PF_WRITE);
        mem.write64(ROOT + 24, T1 | P | 2);
        assertThat(walk(PAE, 0xC000_0000L, KREAD)).isInstanceOf(Unwalkable.class);
        mem.write64(T1 + 16, 0x800000 | P | PS | 0x10_0000);   // bit 20 of a 2 MiB PDE
        assertThat(errorCode(walk(PAE, 0x4040_0000L, KREAD))).isEqualTo(PF_RSVD | PF_P);
    }

    @Test
    void xdIsExecuteDisableWithNxeAndReservedWithout() {
        fourLevelTables(P | W | XD);
        assertThat(errorCode(walk(LONG, 0x100000, KFETCH))).isEqualTo(PF_P | PF_FETCH);
        assertThat(physical(walk(LONG, 0x100000, KREAD))).isEqualTo(0x100000);
        PagingState noNxe = state(CR0_PG, CR4_PAE, EFER_LMA);
        assertThat(errorCode(walk(noNxe, 0x100000, KREAD))).isEqualTo(PF_RSVD | PF_P);
        assertThat(errorCode(walk(noNxe, 0x100000, KFETCH))).as("no NXE, no SMEP: I/D not reported")
                .isEqualTo(PF_RSVD | PF_P);
    }

    @Test
    void reservedBitsAboveMaxPhysAddrAndPsInPml4eOrPdpteFaultWithRsvd() {
        fourLevelTables(P | W | (1L << 45));                    // MAXPHYADDR 40: bit 45 reserved
        assertThat(errorCode(walk(LONG, 0x100000, KREAD))).isEqualTo(PF_RSVD | PF_P);
        mem.write64(T1 + 8, 0x4000_0000L | P | W | PS);          // a 1 GiB page: not in the CPU model
        assertThat(errorCode(walk(LONG, 0x4000_0000L, UWRITE))).isEqualTo(PF_RSVD | PF_P | PF_WRITE | PF_USER);
        mem.write64(ROOT + 8, T1 | P | PS);
        assertThat(errorCode(walk(LONG, 1L << 39, KREAD))).isEqualTo(PF_RSVD | PF_P);
        assertThat(walk(LONG, 0x0000_8000_0000_0000L, KREAD)).as("non-canonical: #GP, not #PF").isInstanceOf(Unwalkable.class);
    }

    @Test
    void userModeNeedsUserPagesAndWritableOnesForWrites() {
        fourLevelTables(P);                                     // supervisor, read-only
        assertThat(errorCode(walk(LONG, 0x100000, UREAD))).isEqualTo(PF_P | PF_USER);
        mem.write64(T3 + 8 * 0x100, 0x100000 | P | U);          // user, read-only
        assertThat(physical(walk(LONG, 0x100000, UREAD))).isEqualTo(0x100000);
        assertThat(errorCode(walk(LONG, 0x100000, UWRITE))).isEqualTo(PF_P | PF_WRITE | PF_USER);
        assertThat(errorCode(walk(LONG, 0x103000, UWRITE))).as("not present").isEqualTo(PF_WRITE | PF_USER);
    }

    @Test
    void writeProtectDecidesSupervisorWritesToReadOnlyPages() {
        fourLevelTables(P);
        assertThat(errorCode(walk(LONG, 0x100000, KWRITE))).isEqualTo(PF_P | PF_WRITE);
        assertThat(mem.read64(ROOT) & A).as("a faulting walk sets nothing").isZero();
        PagingState noWp = state(CR0_PG, CR4_PAE, EFER_LMA | EFER_NXE);
        assertThat(physical(walk(noWp, 0x100000, KWRITE))).isEqualTo(0x100000);
        assertThat(mem.read64(T3 + 8 * 0x100) & (A | D)).isEqualTo(A | D);
    }

    @Test
    void smepRefusesSupervisorFetchesFromUserPages() {
        fourLevelTables(P | U);
        PagingState smep = state(CR0_PG, CR4_PAE | CR4_SMEP, EFER_LMA);
        assertThat(errorCode(walk(smep, 0x100000, KFETCH))).isEqualTo(PF_P | PF_FETCH);
        assertThat(physical(walk(LONG, 0x100000, KFETCH))).isEqualTo(0x100000);
        assertThat(physical(walk(smep, 0x100000, UFETCH))).isEqualTo(0x100000);
    }

    @Test
    void smapRefusesSupervisorDataAccessesToUserPagesUnlessAcAndNeverForImplicitOnes() {
        fourLevelTables(P | W | U);
        PagingState smap = state(CR0_PG | CR0_WP, CR4_PAE | CR4_SMAP, EFER_LMA);
        assertThat(errorCode(walk(smap, 0x100000, KREAD))).isEqualTo(PF_P);
        assertThat(errorCode(walk(smap, 0x100000, KWRITE))).isEqualTo(PF_P | PF_WRITE);
        assertThat(physical(walk(smap, 0x100000, LinearAccess.explicit(AccessType.WRITE, 0, true, 0)))).isEqualTo(0x100000);
        assertThat(errorCode(walk(smap, 0x100000, LinearAccess.implicitSupervisor(AccessType.WRITE))))
                .as("event delivery pushing onto a user page at CPL 3 (U/S clear: supervisor access)").isEqualTo(PF_P | PF_WRITE);
        assertThat(physical(walk(smap, 0x100000, UREAD))).isEqualTo(0x100000);
    }

    @Test
    void protectionKeysApplyToUserPagesThroughPkru() {
        fourLevelTables(P | W | U | (5L << 59));                // key 5
        PagingState pke = state(CR0_PG | CR0_WP, CR4_PAE | CR4_PKE, EFER_LMA);
        int accessDisable = 1 << 10, writeDisable = 1 << 11;
        assertThat(errorCode(walk(pke, 0x100000, LinearAccess.explicit(AccessType.READ, 3, false, accessDisable))))
                .isEqualTo(PF_P | PF_USER | PF_PK);
        assertThat(errorCode(walk(pke, 0x100000, LinearAccess.explicit(AccessType.WRITE, 3, false, writeDisable))))
                .isEqualTo(PF_P | PF_WRITE | PF_USER | PF_PK);
        assertThat(physical(walk(pke, 0x100000, LinearAccess.explicit(AccessType.READ, 3, false, writeDisable)))).isEqualTo(0x100000);
        assertThat(physical(walk(pke, 0x100000, LinearAccess.explicit(AccessType.FETCH, 3, false, accessDisable))))
                .as("keys do not apply to fetches").isEqualTo(0x100000);
        PagingState pkeNoWp = state(CR0_PG, CR4_PAE | CR4_PKE, EFER_LMA);
        assertThat(physical(walk(pkeNoWp, 0x100000, LinearAccess.explicit(AccessType.WRITE, 0, false, writeDisable))))
                .as("WD binds supervisor writes only with CR0.WP").isEqualTo(0x100000);
        assertThat(errorCode(walk(pke, 0x100000, LinearAccess.explicit(AccessType.WRITE, 0, false, writeDisable))))
                .isEqualTo(PF_P | PF_WRITE | PF_PK);
        assertThat(physical(walk(LONG, 0x100000, LinearAccess.explicit(AccessType.READ, 3, false, accessDisable))))
                .as("without CR4.PKE the key is ignored").isEqualTo(0x100000);
    }

    @Test
    void aReadSetsAccessedAtEveryLevelAndAWriteSetsDirtyInTheLeaf() {
        fourLevelTables(P | W);
        Mapped read = (Mapped) walk(LONG, 0x100123, KREAD);
        assertThat(read.dirty()).isFalse();
        assertThat(mem.read64(ROOT) & mem.read64(T1) & mem.read64(T2) & A).isNotZero();
        assertThat(mem.read64(T3 + 8 * 0x100) & (A | D)).isEqualTo(A);
        assertThat(((Mapped) walk(LONG, 0x100123, KWRITE)).dirty()).isTrue();
        assertThat(mem.read64(T3 + 8 * 0x100) & D).isNotZero();
        walk(LONG, 0x3FF000, KWRITE);
        assertThat(mem.read64(T2 + 8) & (A | D)).as("2 MiB page: Dirty in the PDE").isEqualTo(A | D);
    }

    @Test
    void lookupNeitherChecksRightsNorSetsFlags() {
        fourLevelTables(P);
        Result r = PageWalker.lookup(mem, LONG, 0x100010);
        assertThat(r).isEqualTo(new Mapped(0x100010, 4096, false, false, true, false));
        assertThat(mem.read64(ROOT) & A).isZero();
        assertThat(PageWalker.lookup(mem, LONG, 0x101000)).isInstanceOf(PageFault.class);
    }

    @Test
    void aPageFaultBecomesTheEventToDeliverWithCr2() {
        fourLevelTables(P);
        PageFault f = (PageFault) walk(LONG, 0x100000, UWRITE);
        assertThat(f.at(0x401000).toString()).isEqualTo("#PF(0x7) CR2=0x100000 at RIP 0x401000 RF");
    }

    @Test
    void tablesOutsideGuestRamAreUnwalkableNotAPageFault() {
        mem.write64(ROOT, 0x7_0000_0000L | P | W);
        assertThat(walk(LONG, 0x1000, KREAD)).isInstanceOf(Unwalkable.class);
    }
}
