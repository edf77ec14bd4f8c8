package dev.tdemu.emulator.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A check that cannot fail proves nothing: these run conformance guests built with a deliberately
 * wrong expectation (conf-mutant-*.S, the dr-*.S source with a build flag) and require exactly the
 * checks concerned to FAIL, with the values the emulator really produced, and the guest to exit 1.
 */
@Timeout(60)
class ConformanceChecksCanFailTest {

    @ParameterizedTest
    @EnumSource(value = GuestMode.class, names = {"GUEST_MODE_VMX", "GUEST_MODE_TD"})
    void expectingTheWrongSlotInDr6ForAnExecuteBreakpointFails(GuestMode mode) {
        ConformanceRun r = ConformanceRun.run("conf-mutant-exec-dr6", mode, DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM);
        assertThat(r.result().outcome()).as(r.describe()).isEqualTo(VmResult.Outcome.EXITED);
        assertThat(r.result().exitStatus()).as(r.describe()).isEqualTo(1);
        assertThat(r.failLines()).as(r.describe()).containsExactly(
                "FAIL exec.dr0.local.dr6-reports-slot: expected 0xffff0ff2 got 0xffff0ff1",
                "FAIL exec.dr0.global.dr6-reports-slot: expected 0xffff0ff2 got 0xffff0ff1");
        assertThat(r.passLines()).as(r.describe()).hasSize(ConformanceTest.EXEC_CHECKS - 2);
        r.assertSummary(ConformanceTest.EXEC_CHECKS - 2, 2);
    }

    @ParameterizedTest
    @EnumSource(value = GuestMode.class, names = {"GUEST_MODE_VMX", "GUEST_MODE_TD"})
    void expectingWriteBreakpointsToBeFaultsFails(GuestMode mode) {
        ConformanceRun r = ConformanceRun.run("conf-mutant-data-fault", mode, DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM);
        assertThat(r.result().outcome()).as(r.describe()).isEqualTo(VmResult.Outcome.EXITED);
        assertThat(r.result().exitStatus()).as(r.describe()).isEqualTo(1);
        assertThat(r.failLines()).as(r.describe()).hasSize(4).allSatisfy(line -> assertThat(line)
                .matches("FAIL data\\.w\\.len[1248]\\.exact-[a-z]+\\.trap-rip-after-access: expected 0x[0-9a-f]+ got 0x[0-9a-f]+"));
        // The RIP the guest got is past the store it expected the fault on: the store's length further on.
        for (String line : r.failLines()) {
            String[] v = line.replaceAll(".*expected 0x([0-9a-f]+) got 0x([0-9a-f]+)", "$1 $2").split(" ");
            long expected = Long.parseLong(v[0], 16), got = Long.parseLong(v[1], 16);
            assertThat(got - expected).as(line).isBetween(3L, 8L);
        }
        assertThat(r.passLines()).as(r.describe()).hasSize(ConformanceTest.DATA_CHECKS - 4);
        r.assertSummary(ConformanceTest.DATA_CHECKS - 4, 4);
    }
}
