package dev.tdemu.core.kvm;

import java.util.List;
import java.util.Optional;

/**
 * Where two policies part: runs them over the same exits and reports the first exit whose entry or
 * exit sequence, hardware, DEBUGCTL or failed invariants differ. {@code tdemu check --diff A B}
 * compares its two runs with {@link #firstDifference}; {@link #compare} does the same in the model.
 */
public final class PolicyDiff {

    private PolicyDiff() {
    }

    /**
     * The first point where two runs differ.
     *
     * @param exit the exit number (1 = first)
     * @param what which observation differs, e.g. "exit DR sequence"
     * @param a    its value in the first run
     * @param b    its value in the second run
     */
    public record Difference(int exit, String what, String a, String b) {
        @Override
        public String toString() {
            return "exit " + exit + ": " + what + " differs: " + a + " vs " + b;
        }
    }

    /** The first exit at which {@code a} and {@code b} differ, or empty when they agree on every exit. */
    public static Optional<Difference> firstDifference(List<ExitObservation> a, List<ExitObservation> b) {
        int n = Math.min(a.size(), b.size());
        for (int i = 0; i < n; i++) {
            ExitObservation x = a.get(i);
            ExitObservation y = b.get(i);
            Optional<Difference> d = first(x.exit(),
                    new Object[] {"exit reason", x.reason(), y.reason()},
                    new Object[] {"entry DR sequence", x.entrySequence().operations(), y.entrySequence().operations()},
                    new Object[] {"entry DEBUGCTL accesses", x.entrySequence().msrOperations(), y.entrySequence().msrOperations()},
                    new Object[] {"hardware in the guest", x.hwInGuest(), y.hwInGuest()},
                    new Object[] {"IA32_DEBUGCTL in the guest", hex(x.debugctlInGuest()), hex(y.debugctlInGuest())},
                    new Object[] {"exit DR sequence", x.exitSequence().operations(), y.exitSequence().operations()},
                    new Object[] {"exit DEBUGCTL accesses", x.exitSequence().msrOperations(), y.exitSequence().msrOperations()},
                    new Object[] {"hardware after the exit", x.hwAfterExit(), y.hwAfterExit()},
                    new Object[] {"IA32_DEBUGCTL after the exit", hex(x.debugctlAfterExit()), hex(y.debugctlAfterExit())},
                    new Object[] {"failed invariants", x.failed(), y.failed()});
            if (d.isPresent()) {
                return d;
            }
        }
        if (a.size() != b.size()) {
            return Optional.of(new Difference(n + 1, "number of exits", String.valueOf(a.size()), String.valueOf(b.size())));
        }
        return Optional.empty();
    }

    /** Runs {@code a} and {@code b} over {@code exits} runs of {@code scenario} in the model and compares them. */
    public static Optional<Difference> compare(PolicyProgram a, PolicyProgram b, ModelScenario scenario, int exits) {
        return firstDifference(PolicyModelRun.run(a, scenario, exits), PolicyModelRun.run(b, scenario, exits));
    }

    private static Optional<Difference> first(int exit, Object[]... pairs) {
        for (Object[] p : pairs) {
            if (!p[1].equals(p[2])) {
                return Optional.of(new Difference(exit, (String) p[0], String.valueOf(p[1]), String.valueOf(p[2])));
            }
        }
        return Optional.empty();
    }

    private static String hex(long v) {
        return String.format("0x%x", v);
    }
}
