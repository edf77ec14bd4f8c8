package dev.tdemu.core.kvm;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The policy files that ship with tdemu (core/src/main/resources/policies, listed in index.txt in
 * matrix order), parsed once. This is the only place core reads anything: its own classpath
 * resources, never a path of the machine.
 */
public final class BuiltinPolicies {

    private static final String DIR = "/policies/";

    private BuiltinPolicies() {
    }

    private static final class Holder {
        static final Map<String, PolicyProgram> ALL = load();
    }

    /** Every built-in policy, in the order of index.txt. */
    public static List<PolicyProgram> all() {
        return List.copyOf(Holder.ALL.values());
    }

    /** The built-in policy called {@code name} (case-insensitive, '-' for '_' allowed). */
    public static Optional<PolicyProgram> named(String name) {
        return Optional.ofNullable(Holder.ALL.get(name.toUpperCase(java.util.Locale.ROOT).replace('-', '_')));
    }

    /** The built-in policy called {@code name}; a missing one is a bug in tdemu. */
    static PolicyProgram require(String name) {
        return named(name).orElseThrow(() -> new IllegalStateException("no built-in policy " + name
                + " under " + DIR + " (known: " + Holder.ALL.keySet() + ")"));
    }

    private static Map<String, PolicyProgram> load() {
        Map<String, PolicyProgram> out = new LinkedHashMap<>();
        for (String line : read("index.txt").split("\n")) {
            String file = line.strip();
            if (file.isEmpty() || file.startsWith("#")) {
                continue;
            }
            PolicyProgram p = PolicyLoader.parse(read(file), "builtin:" + file);
            if (out.put(p.name(), p) != null) {
                throw new IllegalStateException("two built-in policies are called " + p.name());
            }
        }
        return Collections.unmodifiableMap(out);
    }

    private static String read(String file) {
        try (InputStream in = BuiltinPolicies.class.getResourceAsStream(DIR + file)) {
            if (in == null) {
                throw new IllegalStateException("built-in policy resource " + DIR + file + " is missing from the core jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading built-in policy resource " + DIR + file, e);
        }
    }

    /** The names, for messages. */
    public static List<String> names() {
        return new ArrayList<>(Holder.ALL.keySet());
    }
}
