package dev.tdemu.emulator.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.machine.PageWalker.AccessContext;
import dev.tdemu.emulator.machine.PageWalker.AccessType;
import dev.tdemu.emulator.machine.PageWalker.Grant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link PageWalker#walkForAccess}: the permission rules and Accessed/Dirty updates of a TLB fill. */
class PageWalkerTest {
    static final long PML4 = 0x10000, PDPT = 0x11000, PD = 0x12000, PT = 0x13000;
    static final long P = 1, W = 2, U = 4, A = 0x20, D = 0x40, PS = 0x80, XD = 1L << 63;
    static final AccessContext KERNEL = new AccessContext(0, true, false);
    static final AccessContext KERNEL_NO_WP = new AccessContext(0, false, false);
    static final AccessContext USER = new AccessContext(3, true, false);
    GuestMemory mem;

    @BeforeEach
    void tables() {
        mem = new GuestMemory(8L << 20);
        mem.write64(PML4, PDPT | P | W | U);
        mem.write64(PDPT, PD | P | W | U);
        mem.write64(PD, PT | P | W | U);                      // linear 0-2 MiB: 4 KiB pages
        mem.write64(PD + 8, 0x400000 | P | W | U | PS);        // linear 2-4 MiB -> physical 4 MiB (2 MiB page)
        mem.write64(PT + 8 * 0x100, 0x100000 | P);             // 0x100000: supervisor, read-only
        mem.write64(PT + 8 * 0x101, 0x101000 | P | W | U);     // 0x101000: user, writable
        mem.write64(PT + 8 * 0x102, 0x102000 | P | W | XD);    // XD without EFER.NXE: reserved
        mem.write64(PT + 8 * 0x104, 0x7FF000000L | P | W);     // beyond guest RAM
    }

    @AfterEach
    void close() {
        mem.close();
    }

    Grant walk(long linear, AccessType type, AccessContext ctx) {
        return PageWalker.walkForAccess(mem, PML4, linear, type, ctx);
    }

    @Test
    void aReadSetsAccessedAtEveryLevelButNotDirty() {
        assertThat(walk(0x100123, AccessType.READ, KERNEL)).isEqualTo(new Grant(0x100000, false));
        assertThat(mem.read64(PML4) & A).isNotZero();
        assertThat(mem.read64(PDPT) & A).isNotZero();
        assertThat(mem.read64(PD) & A).isNotZero();
        assertThat(mem.read64(PT + 8 * 0x100) & (A | D)).isEqualTo(A);
    }

    @Test
    void writeProtectDecidesSupervisorWritesToReadOnlyPages() {
        assertThat(walk(0x100000, AccessType.WRITE, KERNEL)).isNull();
        assertThat(mem.read64(PML4) & A).as("a faulting walk sets nothing").isZero();
        assertThat(walk(0x100000, AccessType.WRITE, KERNEL_NO_WP)).isEqualTo(new Grant(0x100000, true));
        assertThat(mem.read64(PT + 8 * 0x100) & (A | D)).isEqualTo(A | D);
    }

    @Test
    void userModeNeedsUserPagesAndWritableOnesForWrites() {
        assertThat(walk(0x100000, AccessType.READ, USER)).isNull();
        assertThat(walk(0x100000, AccessType.FETCH, USER)).isNull();
        assertThat(walk(0x101000, AccessType.FETCH, USER)).isEqualTo(new Grant(0x101000, false));
        assertThat(walk(0x101000, AccessType.WRITE, USER)).isEqualTo(new Grant(0x101000, true));
    }

    @Test
    void writesAreGrantedOnlyOnceDirtyIsSet() {
        assertThat(walk(0x101000, AccessType.READ, KERNEL).writable()).as("clean page: a write must come back").isFalse();
        assertThat(walk(0x101000, AccessType.WRITE, KERNEL).writable()).isTrue();
        assertThat(mem.read64(PT + 8 * 0x101) & D).isNotZero();
        assertThat(walk(0x101000, AccessType.READ, KERNEL).writable()).as("dirty page").isTrue();
    }

    @Test
    void largePagesGiveTheFourKibPageAndTheirDirtyBitIsInThePde() {
        assertThat(walk(0x3FF000, AccessType.WRITE, KERNEL)).isEqualTo(new Grant(0x5FF000, true));
        assertThat(mem.read64(PD + 8) & (A | D)).isEqualTo(A | D);
        assertThat(mem.read64(PD) & A).as("the other PDE").isZero();
    }

    @Test
    void faultsAndUnmodelledCasesAreLeftToTheCaller() {
        assertThat(walk(0x103000, AccessType.READ, KERNEL)).as("not present").isNull();
        assertThat(walk(0x102000, AccessType.READ, KERNEL)).as("XD is reserved without NXE").isNull();
        assertThat(walk(0x104000, AccessType.READ, KERNEL)).as("page outside RAM").isNull();
        assertThat(walk(0x0000_8000_0000_0000L, AccessType.READ, KERNEL)).as("non-canonical").isNull();
        assertThat(walk(0x101000, AccessType.READ, new AccessContext(0, true, true))).as("SMEP/SMAP/PKE and a user page").isNull();
        mem.write64(PDPT + 8, 0x40000000L | P | W | PS);
        assertThat(walk(0x40000000L, AccessType.READ, KERNEL)).as("1 GiB pages are not in the CPU model").isNull();
    }
}
