package dev.tdemu.emulator.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * Per-subsystem log levels, from {@code --log SUBSYSTEM=LEVEL} options and the {@code TDEMU_LOG}
 * environment variable (comma-separated, same syntax). Logging is quiet (warnings) otherwise.
 */
final class Logging {
    static final Map<String, String> SUBSYSTEMS = Map.of(
            "tdemu", "dev.tdemu",
            "core", "dev.tdemu.core",
            "unicorn", "dev.tdemu.emulator.unicorn",
            "cpu", "dev.tdemu.emulator.cpu",
            "vm", "dev.tdemu.emulator.vm",
            "check", "dev.tdemu.emulator.check",
            "gdbstub", "dev.tdemu.gdbstub",
            "rsp", "dev.tdemu.gdbstub.rsp");

    private Logging() {}

    /** Applies the settings; returns the problems (unknown subsystem or level) to report. */
    static List<String> apply(List<String> options, String env) {
        List<String> settings = new ArrayList<>();
        if (env != null && !env.isBlank()) {
            settings.addAll(List.of(env.split(",")));
        }
        settings.addAll(options);
        List<String> problems = new ArrayList<>();
        for (String s : settings) {
            String setting = s.trim();
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                problems.add("log setting '" + setting + "' is not SUBSYSTEM=LEVEL");
                continue;
            }
            String subsystem = setting.substring(0, eq).trim();
            String logger = SUBSYSTEMS.getOrDefault(subsystem, subsystem.startsWith("dev.tdemu") ? subsystem : null);
            Level level = Level.getLevel(setting.substring(eq + 1).trim().toUpperCase(Locale.ROOT));
            if (logger == null) {
                problems.add("unknown log subsystem '" + subsystem + "' (known: " + String.join(", ", SUBSYSTEMS.keySet().stream().sorted().toList()) + ", or a dev.tdemu logger name)");
            } else if (level == null) {
                problems.add("unknown log level in '" + setting + "' (use off, error, warn, info, debug, trace)");
            } else {
                Configurator.setLevel(logger, level);
            }
        }
        return problems;
    }
}
