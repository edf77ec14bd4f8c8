package dev.tdemu.emulator.cli;

import java.util.Locale;

/** Sizes (64M, 1G, 4096) and addresses (0x300100, 3145984) as people type them. */
final class Sizes {
    private Sizes() {}

    /** A size in bytes, at least 0; {@code option} names it in the message. */
    static long parse(String text, String option) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        long unit = 1;
        if (t.endsWith("K")) {
            unit = 1L << 10;
        } else if (t.endsWith("M")) {
            unit = 1L << 20;
        } else if (t.endsWith("G")) {
            unit = 1L << 30;
        }
        if (unit != 1) {
            t = t.substring(0, t.length() - 1);
        }
        try {
            long n = Long.parseLong(t);
            if (n >= 0) {
                return Math.multiplyExact(n, unit);
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // said below
        }
        throw new IllegalArgumentException(option + ": '" + text + "' is not a size like 64M or 1G");
    }

    static long parseAddress(String text, String option) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            return t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseUnsignedLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + text + "' is not an address like 0x300100");
        }
    }
}
