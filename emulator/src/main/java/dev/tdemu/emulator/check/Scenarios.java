package dev.tdemu.emulator.check;

import com.google.protobuf.TextFormat;
import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.proto.ExpectedVerdicts;
import dev.tdemu.proto.Scenario;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The built-in scenarios and expected verdicts (testguests' scenarios/), and users' scenario files. */
public final class Scenarios {
    private Scenarios() {}

    private static String resource(String name) {
        try (InputStream in = Scenarios.class.getResourceAsStream("/scenarios/" + name)) {
            if (in == null) {
                throw new IllegalStateException("the bundled scenario file " + name + " is missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read bundled scenario file " + name, e);
        }
    }

    /** Every built-in scenario, in the order of the matrix's columns. */
    public static List<Scenario> builtin() {
        List<Scenario> out = new ArrayList<>();
        for (String line : resource("index.txt").lines().toList()) {
            if (!line.isBlank()) {
                out.add(parse(line + ".textproto", resource(line.trim() + ".textproto")));
            }
        }
        return out;
    }

    public static Scenario builtin(String name) {
        return builtin().stream().filter(s -> s.getName().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no built-in scenario '" + name + "' (known: "
                        + String.join(", ", builtin().stream().map(Scenario::getName).toList()) + ")"));
    }

    public static ExpectedVerdicts expected() {
        try {
            return TextFormat.parse(resource("expected-verdicts.textproto"), ExpectedVerdicts.class);
        } catch (TextFormat.ParseException e) {
            throw new IllegalStateException("the bundled expected-verdicts.textproto is malformed: " + e.getMessage(), e);
        }
    }

    public static Scenario load(Path file) throws IOException {
        return parse(file.toString(), Files.readString(file));
    }

    /** Parses and checks a scenario; the message names the file and the problem. */
    public static Scenario parse(String where, String text) {
        Scenario s;
        try {
            s = TextFormat.parse(text, Scenario.class);
        } catch (TextFormat.ParseException e) {
            throw new IllegalArgumentException(where + ": not a valid Scenario textproto: " + e.getMessage());
        }
        if (s.getName().isEmpty()) {
            throw new IllegalArgumentException(where + ": the scenario needs a name");
        }
        if (s.getModesCount() == 0) {
            throw new IllegalArgumentException(where + ": list at least one mode (GUEST_MODE_VMX or GUEST_MODE_TD)");
        }
        if (s.getChecksCount() == 0) {
            throw new IllegalArgumentException(where + ": list the invariants the scenario judges (checks: ...)");
        }
        for (String c : s.getChecksList()) {
            invariant(where, c);
        }
        if (!s.getGuestFailure().isEmpty()) {
            invariant(where, s.getGuestFailure());
        }
        return s;
    }

    private static void invariant(String where, String name) {
        try {
            Invariant.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": unknown invariant '" + name + "' (known: "
                    + java.util.Arrays.toString(Invariant.values()) + ")");
        }
    }
}
