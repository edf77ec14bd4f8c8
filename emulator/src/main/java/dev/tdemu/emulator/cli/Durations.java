package dev.tdemu.emulator.cli;

import java.math.BigInteger;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations written the way people type them: 500ms, 10s, 2m, 1h (a bare number is seconds). */
final class Durations {
    private static final Pattern FORMAT = Pattern.compile("(\\d+)(ms|s|m|h)?");

    private Durations() {}

    /**
     * A duration of at most {@code max}; {@code option} names it in the message when it is not one
     * or is longer (any number of digits is checked, none can overflow).
     */
    static Duration parse(String text, String option, Duration max) {
        Matcher m = FORMAT.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(option + ": '" + text + "' is not a duration like 500ms, 10s or 2m");
        }
        String unit = m.group(2) == null ? "s" : m.group(2);
        long unitMillis = switch (unit) {
            case "ms" -> 1;
            case "s" -> 1_000;
            case "m" -> 60_000;
            default -> 3_600_000;
        };
        BigInteger millis = new BigInteger(m.group(1)).multiply(BigInteger.valueOf(unitMillis));
        if (millis.compareTo(BigInteger.valueOf(max.toMillis())) > 0) {
            throw new IllegalArgumentException(option + " must be at most " + max.toHours() + "h (" + max.toDays()
                    + " days), not '" + text + "'");
        }
        return Duration.ofMillis(millis.longValueExact());
    }
}
