package dev.tdemu.emulator.check;

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

    public static String behaviour(TdxDrBehaviour b) {
        return b.name().substring("TDX_DR_BEHAVIOUR_".length());
    }

    public static String mode(GuestMode m) {
        return m == GuestMode.GUEST_MODE_TD ? "TD" : "VMX";
    }

    /** The short name of an invariant in table cells. */
    static String invariant(String name) {
        return switch (name) {
            case "HOST_BREAKPOINTS_INTACT" -> "host";
            case "GUEST_BREAKPOINTS_INTACT" -> "guest";
            case "NO_LEAK" -> "leak";
            case "DEBUGGER_BREAKPOINTS_EXACT" -> "debugger";
            default -> name.toLowerCase(Locale.ROOT);
        };
    }
}
