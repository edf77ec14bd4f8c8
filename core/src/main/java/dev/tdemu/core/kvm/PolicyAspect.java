package dev.tdemu.core.kvm;

import dev.tdemu.core.invariant.Invariant;

import java.util.Optional;

/**
 * What part of the debug state a policy file models. An invariant about a part a policy does not
 * model says nothing about that kernel: the seed rows describe only the DR0–DR3/DR7 switch.
 */
public enum PolicyAspect {
    DR_SWITCH,
    DEBUGCTL,
    DR6_RESET,
    SEV_HOST_SAVE_AREA;

    /** The aspect a policy must model for {@code invariant} to be judged on it, if any. */
    public static Optional<PolicyAspect> neededFor(Invariant invariant) {
        return switch (invariant) {
            case HOST_DEBUGCTL_INTACT -> Optional.of(DEBUGCTL);
            case DR6_RESET_VALUE -> Optional.of(DR6_RESET);
            case HOST_BREAKPOINTS_INTACT, GUEST_BREAKPOINTS_INTACT, NO_LEAK, DEBUGGER_BREAKPOINTS_EXACT,
                 HOST_BREAKPOINTS_DISABLED_AT_ENTRY -> Optional.of(DR_SWITCH);
        };
    }

    static PolicyAspect fromProto(dev.tdemu.proto.PolicyAspect a) {
        return switch (a) {
            case POLICY_ASPECT_DR_SWITCH -> DR_SWITCH;
            case POLICY_ASPECT_DEBUGCTL -> DEBUGCTL;
            case POLICY_ASPECT_DR6_RESET -> DR6_RESET;
            case POLICY_ASPECT_SEV_HOST_SAVE_AREA -> SEV_HOST_SAVE_AREA;
            case POLICY_ASPECT_UNSPECIFIED, UNRECOGNIZED -> null;
        };
    }
}
