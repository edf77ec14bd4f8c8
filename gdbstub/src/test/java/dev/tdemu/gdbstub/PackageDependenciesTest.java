package dev.tdemu.gdbstub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The stub's packages depend on each other without cycles, as the JDK's {@code jdeps} sees the
 * compiled classes: the target API knows only the register layout, the scheduling beside a local
 * client knows nothing of the stub, and the session never reaches back to the server.
 */
class PackageDependenciesTest {
    private static final String ROOT = "dev.tdemu.gdbstub";

    /** Package to the stub's packages it uses, from {@code jdeps -verbose:package} on this module's classes. */
    static Map<String, Set<String>> dependencies() throws Exception {
        Optional<ToolProvider> jdeps = ToolProvider.findFirst("jdeps");
        assumeTrue(jdeps.isPresent(), "this JDK has no jdeps");
        Path classes = Path.of(GdbServer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assumeTrue(Files.isDirectory(classes), "the stub's classes are not a directory here: " + classes);
        StringWriter out = new StringWriter();
        int status = jdeps.get().run(new PrintWriter(out), new PrintWriter(new StringWriter()),
                "-verbose:package", "--ignore-missing-deps", classes.toString());
        assertEquals(0, status, out.toString());
        Map<String, Set<String>> deps = new TreeMap<>();
        Matcher m = Pattern.compile("^\\s*(" + Pattern.quote(ROOT) + "[\\w.]*)\\s+->\\s+(" + Pattern.quote(ROOT) + "[\\w.]*)\\s",
                Pattern.MULTILINE).matcher(out.toString());
        while (m.find()) {
            if (!m.group(1).equals(m.group(2))) {
                deps.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(m.group(2));
            }
        }
        assertTrue(deps.containsKey(ROOT + ".session"), "jdeps found the session's dependencies: " + out);
        return deps;
    }

    @Test
    void thePackagesFormNoCycle() throws Exception {
        Map<String, Set<String>> deps = dependencies();
        for (String start : deps.keySet()) {
            List<String> cycle = cycleFrom(start, start, deps, new ArrayList<>(List.of(start)), new TreeSet<>());
            assertTrue(cycle.isEmpty(), "package cycle " + String.join(" -> ", cycle));
        }
    }

    @Test
    void eachLayerUsesOnlyTheOnesBelowIt() throws Exception {
        Map<String, Set<String>> deps = dependencies();
        assertEquals(Set.of(ROOT + ".registers"), deps.getOrDefault(ROOT + ".target", Set.of()), "the target API");
        assertEquals(Set.of(), deps.getOrDefault(ROOT + ".scheduling", Set.of()), "following gdb's CPU");
        assertEquals(Set.of(ROOT + ".rsp", ROOT + ".target"), deps.getOrDefault(ROOT + ".command", Set.of()), "the parser");
        assertTrue(!deps.getOrDefault(ROOT + ".session", Set.of()).contains(ROOT), "the session does not use the server");
    }

    private static List<String> cycleFrom(String start, String at, Map<String, Set<String>> deps, List<String> path, Set<String> seen) {
        for (String next : deps.getOrDefault(at, Set.of())) {
            if (next.equals(start)) {
                List<String> cycle = new ArrayList<>(path);
                cycle.add(next);
                return cycle;
            }
            if (seen.add(next)) {
                path.add(next);
                List<String> found = cycleFrom(start, next, deps, path, seen);
                if (!found.isEmpty()) {
                    return found;
                }
                path.removeLast();
            }
        }
        return List.of();
    }
}
