package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.invariant.InvariantChecks;
import dev.tdemu.core.invariant.Violation;
import dev.tdemu.core.svm.SevFeatures;
import dev.tdemu.core.svm.SevGuest;
import dev.tdemu.core.svm.Vmsa;
import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.vmx.MovDrDirection;
import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DebugRegisterFile;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs one policy over a {@link ModelScenario} for a number of exits, entirely in the model (no
 * guest code), checking every invariant at every entry and exit. Deterministic: the same policy and
 * scenario always give the same observations.
 *
 * <p>The guest's first run does what the scenario says to its debug registers: a VMX guest's first
 * MOV DR exits (MOV-DR exiting) and KVM switches lazily, so the writes happen on the next run; a TD
 * or SEV-ES guest writes the hardware at once. Every other run ends in an HLT (a TDCALL for a TD)
 * without touching the debug state.
 */
public final class PolicyModelRun {

    private static final long GUEST_RIP = 0x40_1000L;

    private final ModelScenario scenario;
    private final DebugRegisterFile cpu;
    private final HostCpu host = new HostCpu(0);
    private final KvmVcpu vcpu;
    private final ModelFault fault;
    private boolean guestWrote;

    private PolicyModelRun(PolicyProgram program, ModelScenario s, ModelFault fault) {
        this.scenario = s;
        this.fault = fault;
        cpu = s.busLockDetect() ? DebugRegisterFile.withBusLockDetect() : new DebugRegisterFile();
        if (s.clearAllDebugRegs()) {
            host.clearAllDebugRegs(cpu);
        } else {
            host.initializeDebugRegs(cpu);
        }
        host.updateDebugctlmsr(s.hostDebugctl(), cpu);
        for (int n = 0; n < s.hostBreakpoints().size(); n++) {
            host.installBreakpoint(s.hostBreakpoints().get(n), cpu);
            host.amdSetDrAddrMask(n, s.hostDrAddrMasks().get(n), cpu);
        }
        vcpu = switch (s.world()) {
            case VMX -> KvmVcpu.vmx(program);
            case TDX -> KvmVcpu.td(program, new TdxModule(s.tdxDr()), new TdVcpu(TdAttributes.NON_DEBUG));
            case SEV_ES -> {
                SevFeatures kvmView = SevFeatures.NONE;
                if (s.kvmDebugSwap()) {
                    kvmView = kvmView.with(SevFeatures.DEBUG_SWAP);
                }
                if (s.snp()) {
                    kvmView = kvmView.with(SevFeatures.SNP_ACTIVE);
                }
                Vmsa vmsa = new Vmsa(kvmView);
                if (s.apFeatures() != null) {
                    vmsa.apCreate(s.apFeatures());
                }
                yield KvmVcpu.sevEs(program, vmsa, new SevGuest(kvmView, s.snp(), s.cpuDebugSwap()));
            }
        };
        if (s.guestDebugctl() != 0) {
            vcpu.setGuestDebugctl(s.guestDebugctl());
        }
    }

    /** {@code exits} guest runs of {@code program} in {@code scenario}, one observation each. */
    public static List<ExitObservation> run(PolicyProgram program, ModelScenario scenario, int exits) {
        return run(program, scenario, exits, ModelFault.NONE);
    }

    /** As {@link #run(PolicyProgram, ModelScenario, int)} with {@code fault} injected after every exit sequence (tests only). */
    public static List<ExitObservation> run(PolicyProgram program, ModelScenario scenario, int exits, ModelFault fault) {
        if (exits < 1 || exits > 1000) {
            throw new IllegalArgumentException("a model run has 1 to 1000 exits, not " + exits);
        }
        return new PolicyModelRun(program, scenario, fault).runs(exits);
    }

    private List<ExitObservation> runs(int exits) {
        VcpuEnterGuest.vcpuLoad(vcpu, host, cpu);
        if (scenario.hostDebugctlInIrq() != 0) {
            host.updateDebugctlmsr(scenario.hostDebugctlInIrq(), cpu); // an IPI before IRQs are disabled
        }
        List<ExitObservation> out = new ArrayList<>();
        for (int k = 1; k <= exits; k++) {
            out.add(oneRun(k));
        }
        return out;
    }

    private ExitObservation oneRun(int k) {
        List<Violation> v = new ArrayList<>();
        VcpuEnterGuest.EntryTrace in = VcpuEnterGuest.enterGuest(vcpu, host, cpu);
        v.addAll(InvariantChecks.hostBreakpointsDisabledAtEntry(host, in.hwAfterSequence()));
        v.addAll(InvariantChecks.hostDebugctlKeptInGuest(host, in.debugctlInGuest()));
        if (vcpu.isTd()) {
            v.addAll(InvariantChecks.noLeakAtEntry(vcpu.tdVcpu(), in.hwInGuest()));
        }
        Optional<MovDrQualification> movDrExit = guestRuns();
        ExitReason reason = movDrExit.isPresent() ? ExitReason.MOV_DR : vcpu.isTd() ? ExitReason.TDCALL : ExitReason.HLT;
        VcpuEnterGuest.ExitTrace outTrace = VcpuEnterGuest.exitGuest(vcpu, host, cpu, reason,
                movDrExit.map(MovDrQualification::bits).orElse(0L));
        injectAfterExit();
        v.addAll(InvariantChecks.hostBreakpointsIntact(host, cpu.snapshot()));
        v.addAll(InvariantChecks.hostDrAddrMasksIntact(host, cpu));
        v.addAll(InvariantChecks.hostDebugctlIntact(host, cpu.debugctl()));
        v.addAll(InvariantChecks.dr6ResetValue(cpu.snapshot()));
        if (vcpu.isTd()) {
            v.addAll(InvariantChecks.noLeakAfterExit(vcpu.tdVcpu(), host, cpu.snapshot()));
        }
        movDrExit.ifPresent(q -> vcpu.handleDr(q, CpuMode.KERNEL_64, scenario.guestDr0(), GUEST_RIP));
        return new ExitObservation(k, reason, in.sequence(), outTrace.sequence(), in.hwInGuest(), outTrace.hwAfterSequence(),
                in.debugctlInGuest(), outTrace.debugctlAfterSequence(), v);
    }

    private void injectAfterExit() {
        switch (fault) {
            case NONE -> { }
            case BREAK_HOST_RESTORE -> {
                if (host.hwBreakpointActive()) {
                    cpu.load(dev.tdemu.core.x86.DebugRegisters.INIT);
                }
            }
            case CLEAR_HOST_DEBUGCTL -> cpu.setDebugctl(0);
            case ZERO_DR6 -> cpu.setDebugreg(6, 0);
        }
    }

    /** The guest's run: its DR writes (once), or the MOV-DR exit its first write causes. */
    private Optional<MovDrQualification> guestRuns() {
        boolean wantsWrites = scenario.guestDr0() != 0 || scenario.guestZeroesDr6();
        if (!wantsWrites || guestWrote) {
            return Optional.empty();
        }
        int first = scenario.guestDr0() != 0 ? 0 : 6;
        Optional<MovDrQualification> exit = vcpu.backing().movDrExit(CpuMode.KERNEL_64, first, MovDrDirection.TO_DR, 0);
        if (exit.isPresent()) {
            return exit;
        }
        if (scenario.guestDr0() != 0) {
            cpu.movToDr(CpuMode.KERNEL_64, 0, scenario.guestDr0());
            cpu.movToDr(CpuMode.KERNEL_64, 7, scenario.guestDr7());
        }
        if (scenario.guestZeroesDr6()) {
            cpu.movToDr(CpuMode.KERNEL_64, 6, 0);
        }
        guestWrote = true;
        return Optional.empty();
    }
}
