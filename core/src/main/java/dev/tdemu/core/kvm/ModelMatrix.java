package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.core.invariant.Violation;
import dev.tdemu.core.svm.SevFeatures;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.Debugctl;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The matrix beyond the seed, run in the model (no guest code): the columns that judge DEBUGCTL,
 * DR6's reset value, the pre-entry DR7 clear and SEV-ES DebugSwap, each a {@link ModelScenario}
 * per guest kind it applies to. `tdemu check` prints these as tables beside the guest tables; the
 * expected verdict of every cell is in its expected-verdicts file and, for the built-in policies, in
 * core's BeyondTheSeedMatrixTest.
 */
public final class ModelMatrix {

    /** Guest runs per cell: enough for the lazy VMX switch (the guest's DR writes land on run 2) and a quiet run after. */
    public static final int EXITS = 4;

    static final long HOST_DR0 = 0xFFFF_FFFF_8100_0000L;
    static final long HOST_DR1 = 0xFFFF_8880_0000_1000L;
    static final long GUEST_DR0 = 0x7F00_0000_1000L;

    private ModelMatrix() {
    }

    /**
     * One column: a host workload judged by some invariants, in each guest kind it applies to.
     *
     * @param provenBy the fault that makes a passing cell of this column fail (tests show it does)
     */
    public record Column(String name, String description, Map<GuestWorld, ModelScenario> scenarios,
                         Set<Invariant> judged, ModelFault provenBy) {
        public Column {
            scenarios = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(scenarios));
            judged = Set.copyOf(judged);
        }

        public Set<GuestWorld> worlds() {
            return scenarios.keySet();
        }
    }

    /** A model cell's verdict. */
    public sealed interface Verdict {
        /** Every judged invariant held at every entry and exit. */
        record Pass() implements Verdict {
        }

        /** {@code invariant} failed first at exit {@code exit} (1 = first). */
        record Fail(Invariant invariant, int exit, String detail) implements Verdict {
        }

        /** The policy cannot run this guest kind, or does not model what the column judges. */
        record NotModelled(String why) implements Verdict {
        }
    }

    private static ModelScenario.Builder withHostBreakpoints(GuestWorld w, long dr1Mask) {
        return ModelScenario.builder(w)
                .hostBreakpoint(new HostBreakpoint(HOST_DR0, BreakpointType.EXECUTE, BreakpointLength.ONE))
                .hostBreakpoint(new HostBreakpoint(HOST_DR1, BreakpointType.WRITE, BreakpointLength.EIGHT), dr1Mask);
    }

    private static Column intel(String name, String description, Set<Invariant> judged, ModelFault provenBy,
                                Function<GuestWorld, ModelScenario> s) {
        Map<GuestWorld, ModelScenario> m = new LinkedHashMap<>();
        for (GuestWorld w : List.of(GuestWorld.VMX, GuestWorld.TDX)) {
            m.put(w, s.apply(w));
        }
        return new Column(name, description, m, judged, provenBy);
    }

    private static Column sev(String name, String description, ModelScenario s) {
        return new Column(name, description, Map.of(GuestWorld.SEV_ES, s), Set.of(Invariant.HOST_BREAKPOINTS_INTACT),
                ModelFault.BREAK_HOST_RESTORE);
    }

    /** The columns, in table order. */
    public static final List<Column> COLUMNS = List.of(
            intel("host-bp-entry-window", "host breakpoints stay disabled from KVM's entry sequence to VM entry (f85d40160691)",
                    Set.of(Invariant.HOST_BREAKPOINTS_DISABLED_AT_ENTRY, Invariant.HOST_BREAKPOINTS_INTACT),
                    ModelFault.BREAK_HOST_RESTORE, w -> withHostBreakpoints(w, 0).build()),
            intel("host-lbr-survives", "the host's LBR and BTF bits of IA32_DEBUGCTL survive the guest",
                    Set.of(Invariant.HOST_DEBUGCTL_INTACT), ModelFault.CLEAR_HOST_DEBUGCTL,
                    w -> ModelScenario.builder(w).hostDebugctl(Debugctl.LBR | Debugctl.BTF).build()),
            intel("host-debugctl-changed-in-irq", "an IPI sets LBR after vCPU load, before IRQs are disabled (189ecdb3e112)",
                    Set.of(Invariant.HOST_DEBUGCTL_INTACT), ModelFault.CLEAR_HOST_DEBUGCTL,
                    w -> ModelScenario.builder(w).hostDebugctlInIrq(Debugctl.LBR).build()),
            intel("host-freeze-in-smm", "the host's FREEZE_IN_SMM holds in the guest too (6b1dd26544d0)",
                    Set.of(Invariant.HOST_DEBUGCTL_INTACT), ModelFault.CLEAR_HOST_DEBUGCTL,
                    w -> ModelScenario.builder(w).hostDebugctl(Debugctl.FREEZE_IN_SMM).build()),
            intel("bus-lock-detector", "the guest zeroes DR6 on a CPU with DR6.BLD; the host's bus-lock detector must not see BLD clear",
                    Set.of(Invariant.DR6_RESET_VALUE), ModelFault.ZERO_DR6,
                    w -> ModelScenario.builder(w).busLockDetect(false).guestZeroesDr6().build()),
            intel("bus-lock-detector-clear-all-at-boot", "the host zeroed DR6 at boot (clear_all_debug_regs, before 5f465c148c61)",
                    Set.of(Invariant.DR6_RESET_VALUE), ModelFault.ZERO_DR6,
                    w -> ModelScenario.builder(w).busLockDetect(true).build()),
            sev("sev-es-debugswap", "an SEV-ES guest with DebugSwap sets DR0; the host's breakpoints and DR masks come back",
                    withHostBreakpoints(GuestWorld.SEV_ES, 0xFF).sev(true, false, true).guestBreakpoint(GUEST_DR0, 0x1).build()),
            sev("sev-snp-ap-enables-debugswap", "an SNP guest turns DebugSwap on through AP Creation behind KVM (b2653cd3b75f)",
                    withHostBreakpoints(GuestWorld.SEV_ES, 0xFF).sev(false, true, true)
                            .apCreate(SevFeatures.of(SevFeatures.SNP_ACTIVE, SevFeatures.DEBUG_SWAP)).build()),
            sev("sev-snp-ap-disables-debugswap", "an SNP guest turns DebugSwap off through AP Creation (807cb9ce2ed9)",
                    withHostBreakpoints(GuestWorld.SEV_ES, 0xFF).sev(true, true, true)
                            .apCreate(SevFeatures.of(SevFeatures.SNP_ACTIVE)).guestBreakpoint(GUEST_DR0, 0x1).build()));

    /** The column called {@code name}. */
    public static Optional<Column> column(String name) {
        return COLUMNS.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    /** Why {@code p} has no verdict in this cell, if it has none. */
    public static Optional<String> notModelled(PolicyProgram p, Column c, GuestWorld w) {
        if (!c.worlds().contains(w)) {
            throw new IllegalArgumentException("column " + c.name() + " has no " + w + " guest");
        }
        if (!p.runs(w)) {
            return Optional.of("policy " + p.name() + " does not run " + w + " guests");
        }
        for (Invariant i : c.judged()) {
            Optional<PolicyAspect> a = PolicyAspect.neededFor(i).filter(x -> !p.models(x));
            if (a.isPresent()) {
                return Optional.of("policy " + p.name() + " does not model " + a.get() + ", which " + i + " needs");
            }
        }
        return Optional.empty();
    }

    /** The observations of one cell ({@link #EXITS} runs); the policy must run the world. */
    public static List<ExitObservation> observations(PolicyProgram p, Column c, GuestWorld w, ModelFault fault) {
        return PolicyModelRun.run(p, c.scenarios().get(w), EXITS, fault);
    }

    /** The verdict of one cell: the first judged invariant to fail, at the first exit it fails. */
    public static Verdict verdict(PolicyProgram p, Column c, GuestWorld w, ModelFault fault) {
        Optional<String> why = notModelled(p, c, w);
        if (why.isPresent()) {
            return new Verdict.NotModelled(why.get());
        }
        for (ExitObservation o : observations(p, c, w, fault)) {
            for (Violation v : o.violations()) {
                if (c.judged().contains(v.invariant())) {
                    return new Verdict.Fail(v.invariant(), o.exit(), v.detail());
                }
            }
        }
        return new Verdict.Pass();
    }
}
