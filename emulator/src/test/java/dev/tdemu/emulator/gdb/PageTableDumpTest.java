package dev.tdemu.emulator.gdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every mapping of 4-level paging, walked from CR3 as the CPU would, without touching A/D. */
class PageTableDumpTest {
    final Map<Long, Long> memory = new HashMap<>();

    void entry(long table, int index, long value) {
        memory.put(table + 8L * index, value);
    }

    PageTableDump.Dump dump(boolean nxe, int limit) {
        return PageTableDump.of(0x1000, pa -> memory.getOrDefault(pa, 0L), 40, nxe, limit);
    }

    @Test
    void pagesOfEverySizeAreFoundWithTheRightsOfTheWholeWalk() {
        entry(0x1000, 0, 0x2000 | 7);            // PML4[0] -> PDPT, P RW US
        entry(0x1000, 511, 0x5000 | 3);          // PML4[511] -> PDPT, supervisor
        entry(0x2000, 0, 0x3000 | 7);            // PDPT[0] -> PD
        entry(0x2000, 1, 0x4000_0000L | 0x80 | 0x5 | 0x20); // PDPT[1]: 1 GiB page, read-only, user, accessed
        entry(0x3000, 0, 0x200000 | 0x80 | 7 | 0x40 | 0x20);  // PD[0]: 2 MiB page, dirty, accessed
        entry(0x3000, 1, 0x4000 | 7);            // PD[1] -> PT
        entry(0x4000, 3, 0x9000 | 3 | 1L << 63); // PT[3]: 4 KiB, supervisor, XD
        entry(0x5000, 511, 0xC000_0000L | 0x80 | 3 | 0x100); // 1 GiB global at the top
        PageTableDump.Dump d = dump(true, 100);
        assertThat(d.pages()).containsExactly(
                new PageTableDump.Page(0, 0x200000, 2 << 20, true, true, true, false, true, true),
                new PageTableDump.Page(0x200000 + 3 * 4096, 0x9000, 4096, true, false, false, false, false, false),
                new PageTableDump.Page(1L << 30, 0x4000_0000L, 1L << 30, false, true, true, false, true, false),
                new PageTableDump.Page(0xFFFF_FFFF_C000_0000L, 0xC000_0000L, 1L << 30, true, false, true, true, false, false));
        assertThat(d.reserved()).isZero();
        assertThat(d.pages().get(1).flags()).isEqualTo("w-----");
        assertThat(d.pages().get(0).flags()).isEqualTo("wux-ad");
    }

    @Test
    void entriesWithReservedBitsAreSkippedAndCounted() {
        entry(0x1000, 0, 0x2000 | 7);
        entry(0x2000, 0, 0x3000 | 7);
        entry(0x3000, 0, 0x200000 | 0x80 | 3 | 0x4000); // 2 MiB page with bit 14 set
        entry(0x3000, 1, (1L << 45) | 0x400000 | 0x80 | 3); // above MAXPHYADDR
        entry(0x3000, 2, 0x600000 | 0x80 | 3 | 1L << 63);   // XD without NXE
        entry(0x3000, 3, 0x800000 | 0x80 | 3);
        PageTableDump.Dump d = dump(false, 100);
        assertThat(d.reserved()).isEqualTo(3);
        assertThat(d.pages()).extracting(PageTableDump.Page::linear).containsExactly(0x600000L);
    }

    @Test
    void theListStopsAtItsLimit() {
        entry(0x1000, 0, 0x2000 | 7);
        entry(0x2000, 0, 0x3000 | 7);
        for (int i = 0; i < 10; i++) {
            entry(0x3000, i, (0x200000L * i) | 0x80 | 3);
        }
        PageTableDump.Dump d = dump(false, 4);
        assertThat(d.pages()).hasSize(4);
        assertThat(d.truncated()).isTrue();
        assertThat(List.of(dump(false, 100).truncated())).containsExactly(false);
    }
}
