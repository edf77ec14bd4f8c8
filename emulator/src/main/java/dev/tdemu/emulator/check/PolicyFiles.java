package dev.tdemu.emulator.check;

import dev.tdemu.core.kvm.BuiltinPolicies;
import dev.tdemu.core.kvm.PolicyLoader;
import dev.tdemu.core.kvm.PolicyProgram;
import dev.tdemu.emulator.io.BadInputException;
import dev.tdemu.emulator.io.InputFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Users' policy files (--policy-file, --diff) and the names of the built-in ones. */
public final class PolicyFiles {
    private PolicyFiles() {}

    /**
     * Reads and checks a user's policy file (a tdemu.KvmPolicy in text format). A file that is not
     * one is refused with one line, FILE:LINE[:COLUMN]: reason (core's PolicyFileException).
     */
    public static PolicyProgram load(Path file) throws IOException, BadInputException {
        // A policy file is at most PolicyLoader.MAX_FILE_CHARS characters, of at most 4 bytes each.
        String text = InputFiles.readUtf8(file, "a policy file", 4L * PolicyLoader.MAX_FILE_CHARS);
        return PolicyLoader.parse(text, file.toString());
    }

    /** A built-in policy by name (case-insensitive, '-' for '_'), or else the policy file at that path. */
    public static PolicyProgram resolve(String nameOrFile, String option) throws IOException, BadInputException {
        Optional<PolicyProgram> builtin = BuiltinPolicies.named(nameOrFile);
        if (builtin.isPresent()) {
            return builtin.get();
        }
        Path file = Path.of(nameOrFile);
        if (!Files.exists(file)) {
            throw new IllegalArgumentException(option + ": '" + nameOrFile + "' is neither a built-in policy ("
                    + String.join(", ", BuiltinPolicies.names().stream().map(PolicyFiles::spelling).toList())
                    + ") nor a policy file");
        }
        return load(file);
    }

    /** How a built-in name is typed on the command line: upstream-6-17. */
    public static String spelling(String name) {
        return name.toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
