package dev.tdemu.emulator.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.proto.CellKey;
import dev.tdemu.proto.CellResult;
import dev.tdemu.proto.CheckReport;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.ExpectedCell;
import dev.tdemu.proto.FaultInjection;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Scenario;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.Verdict;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The validation matrix: every cell against the expected-verdict table, and every check proven able to fail. */
class CheckMatrixTest {
    static final List<Scenario> SCENARIOS = Scenarios.builtin();

    /** Runs the whole default matrix once and asserts each cell as its own test. */
    @TestFactory
    Stream<DynamicTest> everyCellOfTheDefaultMatrixHasItsExpectedVerdict() {
        List<Cell> cells = Cell.matrix(SCENARIOS, Cell.builtinPolicies());
        List<ModelCells.Cell> model = ModelCells.matrix(Cell.builtinPolicies());
        CheckReport report = CheckRun.run(cells, model, Set.of(), Runtime.getRuntime().availableProcessors(),
                FaultInjection.FAULT_INJECTION_NONE, Scenarios.expected(), n -> { });
        assertThat(report.getCellsCount()).isEqualTo(cells.size() + model.size());
        return report.getCellsList().stream().map(r -> DynamicTest.dynamicTest(name(r), () -> {
            assertThat(r.getVerdict()).as("%s (%s)", name(r), r.getDetail()).isEqualTo(r.getExpected());
            if (r.getExpected() == Verdict.FAIL) {
                assertThat(r.getInvariant()).isEqualTo(r.getExpectedInvariant());
                assertThat(r.getFirstFailingExit()).as("names the exit where it first failed").isPositive();
            }
            assertThat(r.getMatchesExpected()).isTrue();
        }));
    }

    static String name(CellResult r) {
        return MatrixPrinter.where(r);
    }

    @Test
    void theExpectedTableNamesOnlyCellsThatExistAndTheSeedStory() {
        Set<CellKey> keys = new HashSet<>();
        Cell.matrix(SCENARIOS, Cell.builtinPolicies()).forEach(c -> keys.add(c.key()));
        ModelCells.matrix(Cell.builtinPolicies()).forEach(c -> keys.add(c.key()));
        for (ExpectedCell e : Scenarios.expected().getCellsList()) {
            assertThat(keys).as("expected-verdicts.textproto lists a cell of the matrix").contains(e.getKey());
        }
        // The seed review in the table: V1 loses host breakpoints under both real module behaviours.
        assertThat(Scenarios.expected().getCellsList()).anyMatch(e -> e.getKey().getScenario().equals("host-bp-survives")
                && e.getKey().getPolicy() == DrSwitchPolicy.DR_SWITCH_POLICY_V1_SKIP_RESTORE
                && e.getKey().getTdxDr() == TdxDrBehaviour.TDX_DR_BEHAVIOUR_RESTORE_HOST_EXCEPT_DR7
                && e.getVerdict() == Verdict.FAIL);
    }

    static Stream<Scenario> scenarios() {
        return SCENARIOS.stream();
    }

    /** Each scenario's check can fail: its injected fault (not a policy) turns a passing cell into a FAIL. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void eachScenarioFailsWhenItsFaultIsInjected(Scenario s) {
        assertThat(s.getProvenBy()).as("every scenario names the fault that proves it").isNotEqualTo(FaultInjection.FAULT_INJECTION_NONE);
        GuestMode mode = s.getModesList().getLast();
        Cell cell = new Cell(s, mode, dev.tdemu.core.kvm.DrSwitchPolicy.UPSTREAM.program(),
                mode == GuestMode.GUEST_MODE_TD ? TdxDrBehaviour.TDX_DR_BEHAVIOUR_INIT_ON_EXIT : TdxDrBehaviour.TDX_DR_BEHAVIOUR_UNSPECIFIED);
        CellResult clean = CellRunner.run(cell, FaultInjection.FAULT_INJECTION_NONE).result();
        assertThat(clean.getVerdict()).as("without the fault: %s", clean.getDetail()).isEqualTo(Verdict.PASS);
        CellResult broken = CellRunner.run(cell, s.getProvenBy()).result();
        assertThat(broken.getVerdict()).as("with %s: %s", s.getProvenBy(), broken.getDetail()).isEqualTo(Verdict.FAIL);
        assertThat(s.getChecksList()).as("the failure is one the scenario judges").contains(broken.getInvariant());
    }
}
