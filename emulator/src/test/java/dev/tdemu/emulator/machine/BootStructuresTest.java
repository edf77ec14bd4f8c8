package dev.tdemu.emulator.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BootStructuresTest {
    @Test
    void identityPageTablesMapAllOfRamAndNothingBeyond() {
        try (GuestMemory mem = new GuestMemory(6L << 20)) {
            BootStructures.build(mem, 1);
            for (long a : new long[] {0, 0x100000, 0x1fffff, 0x200000, 0x5ffff8}) {
                PageWalker.Translation t = PageWalker.translate(mem, BootStructures.PML4_BASE, a);
                assertThat(t).as("0x%x", a).isNotNull();
                assertThat(t.physical()).isEqualTo(a);
                assertThat(t.pageSize()).isEqualTo(2L << 20);
                assertThat(t.user() && t.writable()).isTrue();
            }
            assertThat(PageWalker.translate(mem, BootStructures.PML4_BASE, 0x600000)).isNull();
            assertThat(PageWalker.translate(mem, BootStructures.PML4_BASE, 1L << 39)).isNull();
        }
    }

    @Test
    void pageTablesSpanSeveralPageDirectoriesAboveOneGiB() {
        try (GuestMemory mem = new GuestMemory((1L << 30) + (4L << 20))) {
            BootStructures.build(mem, 1);
            long a = (1L << 30) + 0x2345;
            assertThat(PageWalker.translate(mem, BootStructures.PML4_BASE, a).physical()).isEqualTo(a);
        }
    }

    @Test
    void eachVcpuGetsItsOwnTssWithStacks() {
        try (GuestMemory mem = new GuestMemory(4L << 20)) {
            BootStructures.build(mem, 3);
            long rsp0Cpu0 = mem.read64(BootStructures.tssBase(0) + 4);
            long rsp0Cpu2 = mem.read64(BootStructures.tssBase(2) + 4);
            assertThat(rsp0Cpu0).isNotEqualTo(rsp0Cpu2);
            assertThat(rsp0Cpu2).isLessThan(BootStructures.IST1_STACKS + 1);
            long desc = mem.read64(BootStructures.GDT_BASE + BootStructures.tssSelector(2));
            long base = ((desc >>> 16) & 0xFFFFFF) | (((desc >>> 56) & 0xFF) << 24);
            assertThat(base).isEqualTo(BootStructures.tssBase(2));
            assertThat((desc >>> 40) & 0xFF).as("present 64-bit available TSS").isEqualTo(0x89);
            assertThat(BootStructures.gdtLimit(3)).isEqualTo(0x28 + 48 - 1);
        }
    }

    @Test
    void gdtHoldsFlatLongModeSegments() {
        try (GuestMemory mem = new GuestMemory(2L << 20)) {
            BootStructures.build(mem, 1);
            long code = mem.read64(BootStructures.GDT_BASE + BootStructures.KERNEL_CS);
            assertThat((code >>> 53) & 1).as("L bit").isEqualTo(1);
            assertThat((code >>> 45) & 3).as("DPL").isZero();
            long userCode = mem.read64(BootStructures.GDT_BASE + (BootStructures.USER_CS & ~7));
            assertThat((userCode >>> 45) & 3).as("user DPL").isEqualTo(3);
        }
    }

    @Test
    void refusesUnsupportedShapes() {
        try (GuestMemory mem = new GuestMemory(2L << 20)) {
            assertThrows(IllegalArgumentException.class, () -> BootStructures.build(mem, 0));
            assertThrows(IllegalArgumentException.class, () -> BootStructures.build(mem, 17));
        }
        assertThrows(IllegalArgumentException.class, () -> new GuestMemory(3000));
    }

    @Test
    void guestMemoryRefusesAccessesOutsideRam() {
        try (GuestMemory mem = new GuestMemory(2L << 20)) {
            mem.write64(0x1ffff8, -1L);
            assertThat(mem.read32(0x1ffffc)).isEqualTo(0xffffffffL);
            assertThrows(GuestMemoryException.class, () -> mem.read64(0x1ffff9));
            assertThrows(GuestMemoryException.class, () -> mem.write8(-1, 0));
            assertThrows(GuestMemoryException.class, () -> mem.readBytes(Long.MAX_VALUE - 2, 8));
        }
    }
}
