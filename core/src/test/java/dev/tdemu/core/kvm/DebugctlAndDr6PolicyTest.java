package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.Debugctl;
import dev.tdemu.core.x86.DrOperation;
import dev.tdemu.core.x86.MsrOperation;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host's DEBUGCTL, DR6 and the pre-entry DR7 clear in the policies after the seed, step by step. */
class DebugctlAndDr6PolicyTest {

    private final DebugRegisterFile cpu = new DebugRegisterFile();
    private final HostCpu host = new HostCpu(0);

    private static PolicyProgram policy(String name) {
        return BuiltinPolicies.named(name).orElseThrow();
    }

    private KvmVcpu td(String policy) {
        return KvmVcpu.td(policy(policy), new TdxModule(TdxDrBehaviour.INIT_ON_EXIT), new TdVcpu(TdAttributes.NON_DEBUG));
    }

    @Test
    void vmExitClearsDebugctlAndVmxVcpuRunWritesTheHostsSnapshotBack() {
        host.updateDebugctlmsr(Debugctl.LBR, cpu);
        KvmVcpu v = KvmVcpu.vmx(policy("UPSTREAM_6_17"));
        VcpuEnterGuest.EntryTrace in = VcpuEnterGuest.enterGuest(v, host, cpu);
        assertEquals(Debugctl.LBR, v.hostDebugctl(), "snapshot after IRQs are disabled");
        assertEquals(0, in.debugctlInGuest(), "the guest runs with its own DEBUGCTL (VM entry loads it)");
        VcpuEnterGuest.ExitTrace out = VcpuEnterGuest.exitGuest(v, host, cpu, ExitReason.HLT, 0);
        assertEquals(0, out.debugctlAtExit(), "VM exit clears IA32_DEBUGCTL");
        assertEquals(List.of(new MsrOperation.Wrmsr(Debugctl.MSR_IA32_DEBUGCTLMSR, Debugctl.LBR)),
                out.sequence().msrOperations());
        assertEquals(Debugctl.LBR, cpu.debugctl());
    }

    @Test
    void aSnapshotTakenAtVcpuLoadWritesAStaleDebugctlBackAfterAnIpiChangedIt() {
        KvmVcpu v = KvmVcpu.vmx(policy("DEBUGCTL_AT_VCPU_LOAD"));
        host.updateDebugctlmsr(Debugctl.BTF, cpu);
        VcpuEnterGuest.vcpuLoad(v, host, cpu);
        host.updateDebugctlmsr(Debugctl.LBR, cpu); // perf, from an SMP function call, IRQs still on
        VcpuEnterGuest.enterGuest(v, host, cpu);
        VcpuEnterGuest.exitGuest(v, host, cpu, ExitReason.HLT, 0);
        assertEquals(Debugctl.BTF, cpu.debugctl(), "the stale snapshot clobbers perf's LBR");
    }

    @Test
    void theMergedTdxCodeRestoresItsOwnPrepareTimeSnapshotNotTheOneTakenWithIrqsOff() {
        KvmVcpu v = td("TDX_MERGED");
        VcpuEnterGuest.vcpuLoad(v, host, cpu);
        host.updateDebugctlmsr(Debugctl.LBR, cpu);
        VcpuEnterGuest.enterGuest(v, host, cpu);
        assertEquals(Debugctl.LBR, v.hostDebugctl(), "common x86 has the right value ...");
        VcpuEnterGuest.exitGuest(v, host, cpu, ExitReason.TDCALL, 0);
        assertEquals(0, cpu.debugctl(), "... but tdx_vcpu_run() tests vt->host_debugctlmsr, taken before the IPI");
    }

    @Test
    void after7d390a9da823TdxRestoresTheBitsTheModuleDoesNotPreserve() {
        KvmVcpu v = td("UPSTREAM_6_17");
        VcpuEnterGuest.vcpuLoad(v, host, cpu);
        host.updateDebugctlmsr(Debugctl.LBR | Debugctl.FREEZE_IN_SMM, cpu);
        VcpuEnterGuest.enterGuest(v, host, cpu);
        VcpuEnterGuest.ExitTrace out = VcpuEnterGuest.exitGuest(v, host, cpu, ExitReason.TDCALL, 0);
        assertEquals(Debugctl.FREEZE_IN_SMM, out.debugctlAtExit(), "the module masks DEBUGCTL to TDX_DEBUGCTL_PRESERVED");
        assertEquals(Debugctl.LBR | Debugctl.FREEZE_IN_SMM, cpu.debugctl());
    }

    @Test
    void tdxLeavesDebugctlAloneWhenTheModulePreservedEveryHostBit() {
        host.updateDebugctlmsr(Debugctl.BTF | Debugctl.FREEZE_IN_SMM, cpu);
        KvmVcpu v = td("UPSTREAM_6_17");
        VcpuEnterGuest.enterGuest(v, host, cpu);
        VcpuEnterGuest.ExitTrace out = VcpuEnterGuest.exitGuest(v, host, cpu, ExitReason.TDCALL, 0);
        assertEquals(List.of(), out.sequence().msrOperations());
        assertEquals(Debugctl.BTF | Debugctl.FREEZE_IN_SMM, cpu.debugctl());
    }

    @Test
    void after6b1dd26544d0AVmxGuestRunsWithTheHostsFreezeInSmmAndCannotSeeIt() {
        host.updateDebugctlmsr(Debugctl.FREEZE_IN_SMM, cpu);
        KvmVcpu v = KvmVcpu.vmx(policy("UPSTREAM_6_17"));
        v.setGuestDebugctl(Debugctl.LBR);
        VcpuEnterGuest.EntryTrace in = VcpuEnterGuest.enterGuest(v, host, cpu);
        assertEquals(Debugctl.LBR | Debugctl.FREEZE_IN_SMM, in.debugctlInGuest());
        assertEquals(Debugctl.LBR, v.guestDebugctl(), "vmx_guest_debugctl_read() hides the host-owned bit");
        VcpuEnterGuest.exitGuest(v, host, cpu, ExitReason.HLT, 0);
        host.updateDebugctlmsr(0, cpu); // echo 0 > /sys/devices/cpu/freeze_on_smi, between two runs
        assertEquals(Debugctl.LBR, VcpuEnterGuest.enterGuest(v, host, cpu).debugctlInGuest(),
                "KVM_RUN_LOAD_DEBUGCTL reloads GUEST_IA32_DEBUGCTL when the host turns it off");
    }

    @Test
    void beforeThatFixTheGuestRunsWithItsOwnDebugctlOnly() {
        host.updateDebugctlmsr(Debugctl.FREEZE_IN_SMM, cpu);
        KvmVcpu v = KvmVcpu.vmx(policy("TDX_MERGED"));
        v.setGuestDebugctl(Debugctl.LBR);
        assertEquals(Debugctl.LBR, VcpuEnterGuest.enterGuest(v, host, cpu).debugctlInGuest());
    }

    @Test
    void underWontExitVmxLoadsTheGuestsDr6ThroughKvmRunLoadGuestDr6AfterDebugctl() {
        KvmVcpu v = KvmVcpu.vmx(policy("UPSTREAM_6_17"));
        v.kvmSetDr(6, 0x1);
        v.kvmSetDr(0, 0xA0);
        v.kvmUpdateDr0123();
        v.forceSwitchDbRegs(v.switchDbRegs().with(SwitchDbRegs.WONT_EXIT));
        DrSequence seq = VcpuEnterGuest.beforeEntry(v, host, cpu);
        assertEquals(List.of(DrOperation.set(7, 0x400), DrOperation.set(0, 0xA0), DrOperation.set(1, 0),
                DrOperation.set(2, 0), DrOperation.set(3, 0), DrOperation.set(6, 0xFFFF_0FF1L)), seq.operations());
        assertEquals(List.of(new MsrOperation.Rdmsr(Debugctl.MSR_IA32_DEBUGCTLMSR, 0)), seq.msrOperations());
    }

    @Test
    void aTdVcpuNeverGetsItsDr6LoadedAndTdxVcpuRunWarnsOnceOnTheRunFlag() {
        for (String name : List.of("TDX_MERGED", "UPSTREAM_6_17")) {
            KvmVcpu v = td(name);
            v.forceSwitchDbRegs(SwitchDbRegs.of(SwitchDbRegs.WONT_EXIT, SwitchDbRegs.BP_ENABLED));
            DrSequence seq = VcpuEnterGuest.beforeEntry(v, host, cpu);
            assertFalse(seq.writes().stream().anyMatch(o -> o.reg() == 6), name + ": " + seq);
        }
        KvmVcpu v = td("UPSTREAM_6_17");
        v.forceSwitchDbRegs(SwitchDbRegs.of(SwitchDbRegs.WONT_EXIT, SwitchDbRegs.BP_ENABLED));
        VcpuEnterGuest.beforeEntry(v, host, cpu);
        v.forceSwitchDbRegs(SwitchDbRegs.of(SwitchDbRegs.WONT_EXIT, SwitchDbRegs.BP_ENABLED));
        VcpuEnterGuest.beforeEntry(v, host, cpu);
        assertEquals(List.of(new KvmWarning("tdx_vcpu_run", "run_flags")), v.warnings());
        assertTrue(td("TDX_MERGED").warnings().isEmpty());
    }

    @Test
    void vmxSyncDirtyDebugRegsResetsDr6AfterReadingTheGuests() {
        KvmVcpu v = KvmVcpu.vmx(policy("UPSTREAM_6_17"));
        v.forceSwitchDbRegs(SwitchDbRegs.of(SwitchDbRegs.WONT_EXIT));
        cpu.setDebugreg(6, 0x1);
        DrSequence seq = VcpuEnterGuest.afterExit(v, host, cpu);
        assertEquals(DrOperation.set(6, 0xFFFF_0FF0L), seq.writes().getFirst());
        assertEquals(0xFFFF_0FF1L, v.dr6().value(), "the guest's DR6 was read first");
    }

    @Test
    void withoutF85d40160691TheHostsDr7StaysArmedUntilTheHardwareEntry() {
        host.installBreakpoint(new HostBreakpoint(0xFFFF_FFFF_8100_0000L, BreakpointType.EXECUTE, BreakpointLength.ONE), cpu);
        KvmVcpu before = KvmVcpu.vmx(policy("PRE_TDX_NO_DR7_CLEAR"));
        VcpuEnterGuest.EntryTrace in = VcpuEnterGuest.enterGuest(before, host, cpu);
        assertTrue(in.sequence().isEmpty());
        assertEquals(host.cpuDr7(), in.hwAfterSequence().dr7());
        VcpuEnterGuest.exitGuest(before, host, cpu, ExitReason.HLT, 0);
        KvmVcpu after = KvmVcpu.vmx(DrSwitchPolicy.PRE_TDX);
        assertEquals(List.of(DrOperation.set(7, 0x400)), VcpuEnterGuest.enterGuest(after, host, cpu).sequence().operations());
    }
}
