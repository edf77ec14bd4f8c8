package dev.tdemu.emulator.qemu;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Locale;

/**
 * Sizes as QEMU's command line writes them ({@code -m 128}, {@code -m 2G}, {@code -m 1.5g}): a
 * decimal number, possibly with a fraction, then an optional unit: B, K, M, G, T, P or E (any
 * case; powers of 1024). Without a unit the option's default unit applies (MiB for {@code -m}).
 * The result must be a whole number of bytes that fits in a signed 64-bit value.
 */
public final class QemuSize {
    private QemuSize() {}

    /**
     * @param defaultUnit the unit of a bare number, one of the suffix letters
     * @throws QemuOptionException when {@code text} is not such a size ({@code option} names it)
     */
    public static long parse(String text, char defaultUnit, String option) {
        String t = text.strip();
        if (t.isEmpty()) {
            throw notASize(text, option);
        }
        char last = Character.toUpperCase(t.charAt(t.length() - 1));
        int shift = shift(Character.isLetter(last) ? last : Character.toUpperCase(defaultUnit));
        if (shift < 0) {
            throw notASize(text, option);
        }
        String number = Character.isLetter(last) ? t.substring(0, t.length() - 1) : t;
        if (!number.matches("[0-9]+(\\.[0-9]+)?|\\.[0-9]+")) {
            throw notASize(text, option);
        }
        BigDecimal bytes = new BigDecimal(number).multiply(new BigDecimal(BigInteger.ONE.shiftLeft(shift)));
        try {
            return bytes.longValueExact();
        } catch (ArithmeticException e) {
            throw new QemuOptionException(option + " " + text + ": " + (bytes.signum() > 0 && bytes.scale() > 0
                    && bytes.stripTrailingZeros().scale() > 0 ? "not a whole number of bytes" : "too large"));
        }
    }

    /** log2 of the unit a suffix letter stands for, or -1 for a letter that is not a unit. */
    private static int shift(char unit) {
        return switch (unit) {
            case 'B' -> 0;
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            case 'T' -> 40;
            case 'P' -> 50;
            case 'E' -> 60;
            default -> -1;
        };
    }

    private static QemuOptionException notASize(String text, String option) {
        return new QemuOptionException(option + " " + text + ": not a size (a number of MiB, or with a unit: 512M, 2G, 1.5G)");
    }

    /** How a size reads back: "128 MiB", "2 GiB", "1536 KiB" (the largest unit that divides it). */
    public static String describe(long bytes) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        long v = bytes;
        while (u < units.length - 1 && v != 0 && v % 1024 == 0) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%d %s", v, units[u]);
    }
}
