package dev.tdemu.emulator.check;

import dev.tdemu.core.kvm.BuiltinPolicies;
import dev.tdemu.core.kvm.GuestWorld;
import dev.tdemu.core.kvm.PolicyProgram;
import dev.tdemu.proto.CellKey;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Scenario;
import dev.tdemu.proto.TdxDrBehaviour;
import java.util.ArrayList;
import java.util.List;

/**
 * One cell of the matrix: a scenario in one mode under one policy (and, for a TD, one module
 * behaviour). The policy is a policy program: a built-in file or one the user gave with --policy-file.
 */
public record Cell(Scenario scenario, GuestMode mode, PolicyProgram policy, TdxDrBehaviour tdxDr) {
    public static final List<TdxDrBehaviour> BEHAVIOURS = List.of(TdxDrBehaviour.TDX_DR_BEHAVIOUR_INIT_ON_EXIT,
            TdxDrBehaviour.TDX_DR_BEHAVIOUR_RESTORE_HOST_EXCEPT_DR7, TdxDrBehaviour.TDX_DR_BEHAVIOUR_LEAVE_GUEST_STATE);

    public CellKey key() {
        return Names.key(scenario.getName(), mode, policy, tdxDr);
    }

    /** The policy world a guest mode runs in. */
    public static GuestWorld world(GuestMode mode) {
        return switch (mode) {
            case GUEST_MODE_TD -> GuestWorld.TDX;
            case GUEST_MODE_SEV_ES -> GuestWorld.SEV_ES;
            case GUEST_MODE_VMX, GUEST_MODE_UNSPECIFIED, UNRECOGNIZED -> GuestWorld.VMX;
        };
    }

    /** Every built-in policy file, in index.txt order (the seed's five first). */
    public static List<PolicyProgram> builtinPolicies() {
        return BuiltinPolicies.all();
    }

    /**
     * Every cell of the given scenarios: policies × (for a TD) module behaviours × the scenario's
     * modes. A policy that does not run a mode's guests (an SEV-ES policy, for a VMX guest) has no
     * row in that mode's tables.
     */
    public static List<Cell> matrix(List<Scenario> scenarios, List<PolicyProgram> policies) {
        List<Cell> cells = new ArrayList<>();
        for (Scenario s : scenarios) {
            for (GuestMode mode : s.getModesList()) {
                for (TdxDrBehaviour b : mode == GuestMode.GUEST_MODE_TD ? BEHAVIOURS
                        : List.of(TdxDrBehaviour.TDX_DR_BEHAVIOUR_UNSPECIFIED)) {
                    for (PolicyProgram p : policies) {
                        if (p.runs(world(mode))) {
                            cells.add(new Cell(s, mode, p, b));
                        }
                    }
                }
            }
        }
        return cells;
    }

    @Override
    public String toString() {
        return scenario.getName() + " " + Names.mode(mode) + " " + policy.name()
                + (mode == GuestMode.GUEST_MODE_TD ? " " + Names.behaviour(tdxDr) : "");
    }
}
