package dev.tdemu.emulator.check;

import dev.tdemu.proto.CellKey;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Scenario;
import dev.tdemu.proto.TdxDrBehaviour;
import java.util.ArrayList;
import java.util.List;

/** One cell of the matrix: a scenario in one mode under one policy (and, for a TD, one module behaviour). */
public record Cell(Scenario scenario, GuestMode mode, DrSwitchPolicy policy, TdxDrBehaviour tdxDr) {
    public static final List<DrSwitchPolicy> POLICIES = List.of(DrSwitchPolicy.DR_SWITCH_POLICY_PRE_TDX,
            DrSwitchPolicy.DR_SWITCH_POLICY_V1_SKIP_RESTORE, DrSwitchPolicy.DR_SWITCH_POLICY_V5_AS_POSTED,
            DrSwitchPolicy.DR_SWITCH_POLICY_DR7_ONLY, DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM);
    public static final List<TdxDrBehaviour> BEHAVIOURS = List.of(TdxDrBehaviour.TDX_DR_BEHAVIOUR_INIT_ON_EXIT,
            TdxDrBehaviour.TDX_DR_BEHAVIOUR_RESTORE_HOST_EXCEPT_DR7, TdxDrBehaviour.TDX_DR_BEHAVIOUR_LEAVE_GUEST_STATE);

    public CellKey key() {
        return CellKey.newBuilder().setScenario(scenario.getName()).setMode(mode).setPolicy(policy).setTdxDr(tdxDr).build();
    }

    /** Every cell of the given scenarios: policies × (for a TD) module behaviours × the scenario's modes. */
    public static List<Cell> matrix(List<Scenario> scenarios) {
        List<Cell> cells = new ArrayList<>();
        for (Scenario s : scenarios) {
            for (GuestMode mode : s.getModesList()) {
                for (TdxDrBehaviour b : mode == GuestMode.GUEST_MODE_TD ? BEHAVIOURS
                        : List.of(TdxDrBehaviour.TDX_DR_BEHAVIOUR_UNSPECIFIED)) {
                    for (DrSwitchPolicy p : POLICIES) {
                        cells.add(new Cell(s, mode, p, b));
                    }
                }
            }
        }
        return cells;
    }

    @Override
    public String toString() {
        return scenario.getName() + " " + Names.mode(mode) + " " + Names.policy(policy)
                + (mode == GuestMode.GUEST_MODE_TD ? " " + Names.behaviour(tdxDr) : "");
    }
}
