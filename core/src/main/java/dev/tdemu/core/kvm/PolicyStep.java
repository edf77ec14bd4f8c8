package dev.tdemu.core.kvm;

import java.util.List;

/**
 * One step of a policy phase, with the line of the policy file it came from (0 for steps not read
 * from a file).
 */
public sealed interface PolicyStep {

    int line();

    /** {@code do}, run when {@code when} holds. */
    record Action(PolicyCondition when, PolicyOp op, int line) implements PolicyStep {
        @Override
        public String toString() {
            return (when instanceof PolicyCondition.Always ? "" : "if (" + when + ") ") + op.spelling() + ";";
        }
    }

    /** {@code if (when) { then } else { otherwise }}. */
    record Conditional(PolicyCondition when, List<PolicyStep> then, List<PolicyStep> otherwise, int line)
            implements PolicyStep {
        public Conditional {
            then = List.copyOf(then);
            otherwise = List.copyOf(otherwise);
        }

        @Override
        public String toString() {
            return "if (" + when + ") " + then + (otherwise.isEmpty() ? "" : " else " + otherwise);
        }
    }
}
