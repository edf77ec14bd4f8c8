package dev.tdemu.emulator.check;

import dev.tdemu.core.kvm.PolicyProgram;
import dev.tdemu.proto.CellKey;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.TdxDrBehaviour;
import java.util.Locale;

/** How matrix coordinates are written for people (and typed on the command line). */
public final class Names {
    private Names() {}

    public static String policy(DrSwitchPolicy p) {
        return p.name().substring("DR_SWITCH_POLICY_".length());
    }

    /** A row's name: the seed's DrSwitchPolicy, or the policy file's name. */
    public static String policy(CellKey k) {
        return k.getPolicyName().isEmpty() ? policy(k.getPolicy()) : k.getPolicyName();
    }

    /**
     * The key of a cell. A built-in policy of the seed is keyed by its DrSwitchPolicy value (as the
     * expected-verdicts file always was), every other policy by its name.
     */
    public static CellKey key(String scenario, GuestMode mode, PolicyProgram policy, TdxDrBehaviour tdxDr) {
        CellKey.Builder b = CellKey.newBuilder().setScenario(scenario).setMode(mode).setTdxDr(tdxDr);
        DrSwitchPolicy seed = seedValue(policy);
        return (seed != null ? b.setPolicy(seed) : b.setPolicyName(policy.name())).build();
    }

    /** The seed's enum value of a built-in policy file, or null (a later built-in, or a user's file). */
    private static DrSwitchPolicy seedValue(PolicyProgram p) {
        if (dev.tdemu.core.kvm.BuiltinPolicies.named(p.name()).filter(b -> b == p).isEmpty()) {
            return null;
        }
        for (dev.tdemu.core.kvm.DrSwitchPolicy s : dev.tdemu.core.kvm.DrSwitchPolicy.values()) {
            if (s.name().equals(p.name())) {
                return DrSwitchPolicy.valueOf("DR_SWITCH_POLICY_" + s.name());
            }
        }
        return null;
    }

    public static String behaviour(TdxDrBehaviour b) {
        return b.name().substring("TDX_DR_BEHAVIOUR_".length());
    }

    public static String mode(GuestMode m) {
        return switch (m) {
            case GUEST_MODE_TD -> "TD";
            case GUEST_MODE_SEV_ES -> "SEV-ES";
            default -> "VMX";
        };
    }

    /** The short name of an invariant in table cells. */
    static String invariant(String name) {
        return switch (name) {
            case "HOST_BREAKPOINTS_INTACT" -> "host";
            case "GUEST_BREAKPOINTS_INTACT" -> "guest";
            case "NO_LEAK" -> "leak";
            case "DEBUGGER_BREAKPOINTS_EXACT" -> "debugger";
            case "HOST_DEBUGCTL_INTACT" -> "debugctl";
            case "DR6_RESET_VALUE" -> "dr6";
            case "HOST_BREAKPOINTS_DISABLED_AT_ENTRY" -> "dr7-at-entry";
            default -> name.toLowerCase(Locale.ROOT);
        };
    }
}
