package dev.tdemu.emulator.vm;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Enum constants as people type them, in command-line options and monitor commands: lower case
 * with dashes after an optional prefix ({@code DR_SWITCH_POLICY_DR7_ONLY} is {@code dr7-only}
 * with the prefix {@code DR_SWITCH_POLICY_}).
 */
public final class EnumSpelling {
    private EnumSpelling() {}

    /** The constant of {@code type} that {@code text} spells, or empty. */
    public static <E extends Enum<E>> Optional<E> parse(Class<E> type, String prefix, String text) {
        String name = prefix + text.toUpperCase(Locale.ROOT).replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(name)) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    /** How each constant of {@code type} with {@code prefix} is typed (protobuf's UNSPECIFIED left out). */
    public static <E extends Enum<E>> List<String> spellings(Class<E> type, String prefix) {
        List<String> known = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            if (e.name().startsWith(prefix) && !e.name().endsWith("UNSPECIFIED")) {
                known.add(e.name().substring(prefix.length()).toLowerCase(Locale.ROOT).replace('_', '-'));
            }
        }
        return known;
    }
}
