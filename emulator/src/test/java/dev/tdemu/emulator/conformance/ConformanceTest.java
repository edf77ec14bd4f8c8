package dev.tdemu.emulator.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The debug-register conformance guests, each run through the real VM as a VMX guest and as a TD
 * under several KVM DR-switch policies. The guests check the SDM's debug rules from inside (see
 * each dr-*.S for its list of checks); a run conforms when the guest exits with status 0, prints
 * no FAIL and exactly the expected number of PASS lines (a guest that skipped checks fails too),
 * and the VM saw no invariant violation and no KVM WARN_ON.
 */
@Timeout(60)
class ConformanceTest {
    /** Checks per guest; where a mode runs different checks, per mode. */
    static final int EXEC_CHECKS = 66, DATA_CHECKS = 105, REP_CHECKS = 22, STACK_CHECKS = 26, IO_CHECKS_VMX = 39, STEP_CHECKS_VMX = 55, STEP_CHECKS_TD = 56,
            MISC_CHECKS = 60, CPL3_CHECKS = 47, LINEAR_CHECKS = 21;

    static final DrSwitchPolicy[] POLICIES = {DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM, DrSwitchPolicy.DR_SWITCH_POLICY_PRE_TDX,
        DrSwitchPolicy.DR_SWITCH_POLICY_V5_AS_POSTED};

    static Stream<Arguments> vmxAndTd() {
        return Stream.of(GuestMode.GUEST_MODE_VMX, GuestMode.GUEST_MODE_TD)
                .flatMap(m -> Arrays.stream(POLICIES).map(p -> Arguments.of(m, p)));
    }

    static Stream<Arguments> vmxOnly() {
        return Arrays.stream(POLICIES).map(p -> Arguments.of(GuestMode.GUEST_MODE_VMX, p));
    }

    static Stream<Arguments> tdOnly() {
        return Arrays.stream(POLICIES).map(p -> Arguments.of(GuestMode.GUEST_MODE_TD, p));
    }

    @ParameterizedTest(name = "{0} under {1}")
    @MethodSource("vmxAndTd")
    void executeBreakpointsFaultBeforeTheInstructionInEverySlotAndReportTheirSlotInDr6(GuestMode mode, DrSwitchPolicy policy) {
        ConformanceRun.run("dr-exec", mode, policy).assertAllPassed(EXEC_CHECKS);
    }

    @ParameterizedTest(name = "{0} under {1}")
    @MethodSource("vmxAndTd")
    void dataBreakpointsTrapAfterAnyAccessOverlappingTheirAlignedRangeAndReadWriteOnesIgnoreFetches(GuestMode mode,
                                                                                                 DrSwitchPolicy policy) {
        ConformanceRun.run("dr-data", mode, policy).assertAllPassed(DATA_CHECKS);
    }

    @ParameterizedTest(name = "{0} under {1}")
    @MethodSource("vmxAndTd")
    void repStringInstructionsReportADataBreakpointAfterTheIterationThatTouchedIt(GuestMode mode, DrSwitchPolicy policy) {
        ConformanceRun.run("dr-rep", mode, policy).assertAllPassed(REP_CHECKS);
    }

    @ParameterizedTest(name = "{0} under {1}")
    @MethodSource("vmxAndTd")
    void stackAccessesHitDataBreakpointsAndPushfNeverShowsTheSteppingTf(GuestMode mode, DrSwitchPolicy policy) {
        ConformanceRun.run("dr-stack", mode, policy).assertAllPassed(STACK_CHECKS);
    }

    @ParameterizedTest(name = "{0} under {1}")
    @MethodSource("vmxOnly")
    void ioBreakpointsOnThePassThroughPortTrapAfterTheIoInstructionOnlyWithCr4De(GuestMode mode, DrSwitchPolicy policy) {
        ConformanceRun.run("dr-io", mode, policy).assertAllPassed(IO_CHECKS_VMX);
    }

    @ParameterizedTest(name = "{0} under {1}")
    @MethodSource("tdOnly")
    void aTdRunsNoIoBreakpointCheckAndSaysWhy(GuestMode mode, DrSwitchPolicy policy) {
        ConformanceRun r = ConformanceRun.run("dr-io", mode, policy);
        r.assertAllPassed(0);
        assertThat(r.result().console()).as(r.describe()).contains("SKIP io: in a TD port I/O raises #VE");
    }

    @ParameterizedTest(name = "{0} under {1}")
    @MethodSource("vmxAndTd")
    void singleStepTrapsAfterEachInstructionFromTheOneAfterPopfIncludingInstructionsTheVmmCompletes(GuestMode mode,
                                                                                                   DrSwitchPolicy policy) {
        ConformanceRun.run("dr-step", mode, policy)
                .assertAllPassed(mode == GuestMode.GUEST_MODE_TD ? STEP_CHECKS_TD : STEP_CHECKS_VMX);
    }

    @ParameterizedTest(name = "{0} under {1}")
    @MethodSource("vmxAndTd")
    void icebpInt3GeneralDetectDrAliasingReservedBitsAndRepeatedExceptionsFollowTheSdm(GuestMode mode, DrSwitchPolicy policy) {
        ConformanceRun.run("dr-misc", mode, policy).assertAllPassed(MISC_CHECKS);
    }

    @ParameterizedTest(name = "{0} under {1}")
    @MethodSource("vmxAndTd")
    void userModeMovDrIsGeneralProtectionThroughRsp0AndUserModeBreakpointsFire(GuestMode mode, DrSwitchPolicy policy) {
        ConformanceRun.run("dr-cpl3", mode, policy).assertAllPassed(CPL3_CHECKS);
    }

    @ParameterizedTest(name = "{0} under {1}")
    @MethodSource("vmxAndTd")
    void breakpointsMatchTheLinearAddressNotAnotherMappingOfTheSameMemory(GuestMode mode, DrSwitchPolicy policy) {
        ConformanceRun.run("dr-linear", mode, policy).assertAllPassed(LINEAR_CHECKS);
    }

    static Stream<Arguments> guestsWithHostBreakpoints() {
        return Stream.of(GuestMode.GUEST_MODE_VMX, GuestMode.GUEST_MODE_TD).flatMap(m -> Stream.of(
                Arguments.of("dr-exec", m, EXEC_CHECKS),
                Arguments.of("dr-data", m, DATA_CHECKS),
                Arguments.of("dr-stack", m, STACK_CHECKS),
                Arguments.of("dr-misc", m, MISC_CHECKS)));
    }

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("guestsWithHostBreakpoints")
    void guestBreakpointsConformWhileTheHostHasBreakpointsOfItsOwnUnderUpstream(String guest, GuestMode mode, int checks) {
        ConformanceRun r = ConformanceRun.run(guest, mode, DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM,
                ConformanceRun.HOST_BREAKPOINTS);
        r.assertAllPassed(checks);
        assertThat(r.result().hostBreakpointHits()).as(r.describe()).isPositive();
    }
}
