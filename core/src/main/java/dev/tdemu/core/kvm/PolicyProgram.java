package dev.tdemu.core.kvm;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One KVM variant's debug-state handling, parsed and checked from a policy file
 * ({@link PolicyLoader}): the phases of steps {@link PolicyExecutor} runs around each guest run.
 *
 * @param name               the policy's name, e.g. UPSTREAM
 * @param description        what kernel it is and what it gets wrong
 * @param source             where it was read from (a file name or "builtin:NAME")
 * @param worlds             the guests it can run
 * @param aspects            the parts of the debug state it models
 * @param hasAutoSwitchFlag  whether the kernel has KVM_DEBUGREG_AUTO_SWITCH
 * @param hostOwnedDebugctl  kvm_x86_ops.HOST_OWNED_DEBUGCTL (0 before 6b1dd26544d0)
 * @param phases             every phase's steps
 */
public record PolicyProgram(String name, String description, String source, Set<GuestWorld> worlds,
                            Set<PolicyAspect> aspects, boolean hasAutoSwitchFlag, long hostOwnedDebugctl,
                            Map<PolicyPhase, List<PolicyStep>> phases) {

    public PolicyProgram {
        Objects.requireNonNull(name);
        worlds = worlds.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(worlds));
        aspects = aspects.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(aspects));
        EnumMap<PolicyPhase, List<PolicyStep>> copy = new EnumMap<>(PolicyPhase.class);
        for (PolicyPhase p : PolicyPhase.values()) {
            List<PolicyStep> steps = phases.get(p);
            if (steps == null) {
                throw new IllegalArgumentException("policy " + name + " has no phase " + p);
            }
            copy.put(p, List.copyOf(steps));
        }
        phases = java.util.Collections.unmodifiableMap(copy); // an EnumMap: every entry and exit looks phases up
    }

    public List<PolicyStep> steps(PolicyPhase phase) {
        return phases.get(phase);
    }

    public boolean runs(GuestWorld world) {
        return worlds.contains(world);
    }

    public boolean models(PolicyAspect aspect) {
        return aspects.contains(aspect);
    }

    /** Refuses a vCPU of a world this policy does not describe. */
    void requireWorld(GuestWorld world) {
        if (!runs(world)) {
            throw new IllegalArgumentException("policy " + name + " (" + source + ") cannot run a " + world
                    + " vCPU; it describes " + worlds);
        }
    }

    /** The whole program in kernel-like pseudo code, one phase per line. */
    public String listing() {
        StringBuilder b = new StringBuilder(name).append('\n');
        for (PolicyPhase p : PolicyPhase.values()) {
            b.append("  ").append(p).append(": ").append(steps(p)).append('\n');
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return name;
    }
}
