package dev.tdemu.emulator.check;

import dev.tdemu.core.kvm.ExitObservation;
import dev.tdemu.core.kvm.GuestWorld;
import dev.tdemu.core.kvm.ModelFault;
import dev.tdemu.core.kvm.ModelMatrix;
import dev.tdemu.core.kvm.PolicyProgram;
import dev.tdemu.proto.CellKey;
import dev.tdemu.proto.CellResult;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.Verdict;
import java.util.ArrayList;
import java.util.List;

/**
 * The matrix's model cells: core's {@link ModelMatrix} columns (DEBUGCTL, DR6, the pre-entry DR7
 * clear, SEV-ES DebugSwap) under each policy that runs the column's guest kind. They run in core's
 * model, in microseconds, not as guests: the emulator does not model DEBUGCTL's LBR/BTF hardware,
 * bus-lock #DBs or SEV-ES guests.
 */
public final class ModelCells {
    private ModelCells() {}

    /** One model cell. */
    public record Cell(ModelMatrix.Column column, GuestWorld world, PolicyProgram policy) {
        public CellKey key() {
            return Names.key(column.name(), mode(world), policy,
                    world == GuestWorld.TDX ? TdxDrBehaviour.TDX_DR_BEHAVIOUR_INIT_ON_EXIT : TdxDrBehaviour.TDX_DR_BEHAVIOUR_UNSPECIFIED);
        }

        public List<ExitObservation> observations() {
            return ModelMatrix.observations(policy, column, world, ModelFault.NONE);
        }

        @Override
        public String toString() {
            return column.name() + " " + Names.mode(mode(world)) + " " + policy.name() + " (model)";
        }
    }

    public static GuestMode mode(GuestWorld w) {
        return switch (w) {
            case VMX -> GuestMode.GUEST_MODE_VMX;
            case TDX -> GuestMode.GUEST_MODE_TD;
            case SEV_ES -> GuestMode.GUEST_MODE_SEV_ES;
        };
    }

    /** Every column × guest kind × policy that runs that kind, in table order. */
    public static List<Cell> matrix(List<PolicyProgram> policies) {
        List<Cell> out = new ArrayList<>();
        for (GuestWorld w : GuestWorld.values()) {
            for (ModelMatrix.Column c : ModelMatrix.COLUMNS) {
                if (!c.worlds().contains(w)) {
                    continue;
                }
                for (PolicyProgram p : policies) {
                    if (p.runs(w)) {
                        out.add(new Cell(c, w, p));
                    }
                }
            }
        }
        return out;
    }

    /** Whether {@code name} is a model column. */
    public static boolean isColumn(String name) {
        return ModelMatrix.column(name).isPresent();
    }

    /** Judges one cell (its expected verdict is compared later, as for guest cells). */
    public static CellResult run(Cell cell) {
        long start = System.nanoTime();
        CellResult.Builder r = CellResult.newBuilder().setKey(cell.key()).setInModel(true);
        switch (ModelMatrix.verdict(cell.policy(), cell.column(), cell.world(), ModelFault.NONE)) {
            case ModelMatrix.Verdict.Pass p -> r.setVerdict(Verdict.PASS).setExits(ModelMatrix.EXITS);
            case ModelMatrix.Verdict.Fail f -> r.setVerdict(Verdict.FAIL).setInvariant(f.invariant().name())
                    .setFirstFailingExit(f.exit()).setDetail(f.detail()).setExits(ModelMatrix.EXITS);
            case ModelMatrix.Verdict.NotModelled n -> r.setVerdict(Verdict.NOT_MODELLED).setDetail(n.why());
        }
        return r.setDurationMs((System.nanoTime() - start) / 1_000_000).build();
    }
}
