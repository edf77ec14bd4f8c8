package dev.tdemu.core.kvm;

import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.vmx.Vmcs;
import dev.tdemu.core.vmx.VmxHardware;
import dev.tdemu.core.x86.DebugRegisterFile;

/** What runs a KVM vCPU: a VMCS KVM controls, or a TD vCPU behind the TDX module. */
public sealed interface VcpuBacking {

    /** The hardware step that starts the guest: VM entry, or TDH.VP.ENTER. */
    void enterHardware(DebugRegisterFile cpu);

    /** The hardware step that ends the guest run: VM exit, or the TDX module's TD exit. */
    void exitHardware(DebugRegisterFile cpu, ExitReason reason, long qualification);

    record Vmx(Vmcs vmcs) implements VcpuBacking {
        @Override
        public void enterHardware(DebugRegisterFile cpu) {
            VmxHardware.vmEntry(vmcs, cpu);
        }

        @Override
        public void exitHardware(DebugRegisterFile cpu, ExitReason reason, long qualification) {
            VmxHardware.vmExit(vmcs, cpu, reason, qualification);
        }
    }

    record Td(TdxModule module, TdVcpu tdVcpu) implements VcpuBacking {
        @Override
        public void enterHardware(DebugRegisterFile cpu) {
            module.tdhVpEnter(tdVcpu, cpu);
        }

        @Override
        public void exitHardware(DebugRegisterFile cpu, ExitReason reason, long qualification) {
            module.tdExit(tdVcpu, cpu);
        }
    }
}
