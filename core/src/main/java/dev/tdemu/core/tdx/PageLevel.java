package dev.tdemu.core.tdx;

import java.util.Optional;

/** A Secure EPT mapping level, as TDG.MEM.PAGE.ACCEPT encodes it in RCX bits 2:0. */
public enum PageLevel {
    /** Level 0: a 4 KiB page. */
    SIZE_4K(0, 1L << 12),
    /** Level 1: a 2 MiB page. */
    SIZE_2M(1, 1L << 21),
    /** Level 2: a 1 GiB page (not acceptable with TDG.MEM.PAGE.ACCEPT). */
    SIZE_1G(2, 1L << 30);

    private final int level;
    private final long bytes;

    PageLevel(int level, long bytes) {
        this.level = level;
        this.bytes = bytes;
    }

    public int level() {
        return level;
    }

    public long bytes() {
        return bytes;
    }

    public static Optional<PageLevel> of(int level) {
        for (PageLevel l : values()) {
            if (l.level == level) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }
}
