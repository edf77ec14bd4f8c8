package dev.tdemu.bench;

import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.VmConfig;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A VM exit's full round trip through the KVM model: the bench-cpuid guest makes 200,000 CPUID
 * exits (VMX guest, policy UPSTREAM); each op is one exit, the VM's setup amortised over them.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 3, time = 2)
public class ExitBenchmark {
    static final int EXITS = 200_000;

    @State(Scope.Benchmark)
    public static class Config {
        @Param({"GUEST_MODE_VMX"})
        public String mode;
    }

    static final int SOAK_EXITS = 10_000_000;

    @Benchmark
    @OperationsPerInvocation(EXITS)
    public VmResult cpuidExitRoundTrip(Config c) throws Exception {
        return run("bench-cpuid", c.mode, EXITS);
    }

    /**
     * The same exit in the steady state: soak-cpuid's 10,000,000 exits in one VM, so that the VM's
     * creation and closing (several milliseconds, 80-130 ns of each of bench-cpuid's exits) vanish.
     */
    @Benchmark
    @OperationsPerInvocation(SOAK_EXITS)
    public VmResult cpuidExitSteadyState(Config c) throws Exception {
        return run("soak-cpuid", c.mode, SOAK_EXITS);
    }

    private static VmResult run(String guest, String mode, int exits) throws Exception {
        VmConfig config = VmConfig.newBuilder().setGuestImage("builtin:" + guest).setMode(GuestMode.valueOf(mode))
                .setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM).setTimeoutMs(600_000).build();
        try (Vm vm = new Vm(VmSpec.from(config), Vm.Options.quiet())) {
            VmResult r = vm.run();
            if (r.exitStatus() != 0 || r.exits() < exits) {
                throw new IllegalStateException(guest + " did not run to completion: " + r.outcome() + " " + r.detail());
            }
            return r;
        }
    }
}
