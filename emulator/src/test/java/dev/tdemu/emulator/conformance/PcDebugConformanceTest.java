package dev.tdemu.emulator.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.proto.DrSwitchPolicy;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The debug rules kvm-unit-tests' x86/debug checks beyond the dr-*.S guests, from the PC kernel
 * pc64-debug (its comment lists the checks; it needs the PC's local APIC for the STI;HLT rule):
 * the single-step #DB after STI, MOV SS with ICEBP, with DR7.GD, with a watchpoint and INT $1,
 * INT3 or ICEBP, a software-set DR6.BS surviving code and data breakpoints, STI;HLT single-stepped
 * and woken by the APIC timer, and split locks. Under several KVM policies, and with host
 * breakpoints of the host's own active.
 */
@Timeout(60)
class PcDebugConformanceTest {
    static final int DEBUG_CHECKS = 84;

    @TempDir
    Path dir;

    static Stream<DrSwitchPolicy> policies() {
        return Arrays.stream(ConformanceTest.POLICIES);
    }

    @ParameterizedTest(name = "under {0}")
    @MethodSource("policies")
    void theDebugRulesOfX86DebugHoldInAPcKernel(DrSwitchPolicy policy) {
        ConformanceRun.runPc("pc64-debug", policy, List.of(), dir).assertAllPassed(DEBUG_CHECKS);
    }

    @Test
    void theyHoldWhileTheHostHasBreakpointsOfItsOwn() {
        ConformanceRun r = ConformanceRun.runPc("pc64-debug", DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM,
                ConformanceRun.HOST_BREAKPOINTS, dir);
        r.assertAllPassed(DEBUG_CHECKS);
        assertThat(r.result().hostBreakpointHits()).as(r.describe()).isPositive();
    }
}
