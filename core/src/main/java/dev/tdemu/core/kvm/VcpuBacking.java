package dev.tdemu.core.kvm;

import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.vmx.MovDrDirection;
import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.vmx.Vmcs;
import dev.tdemu.core.vmx.VmxHardware;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.ExceptionVector;

import java.util.Optional;

/** What runs a KVM vCPU: a VMCS KVM controls, a TD vCPU behind the TDX module, or an SEV-ES VMSA. */
public sealed interface VcpuBacking {

    /** The hardware step that starts the guest: VM entry, or TDH.VP.ENTER. */
    void enterHardware(DebugRegisterFile cpu);

    /** The hardware step that ends the guest run: VM exit, or the TDX module's TD exit. */
    void exitHardware(DebugRegisterFile cpu, ExitReason reason, long qualification);

    /** Whether the guest's exception {@code vector} exits to the host instead of being delivered in the guest. */
    boolean exceptionExits(ExceptionVector vector);

    /**
     * Whether a guest MOV DR exits (with this qualification) instead of executing on the hardware.
     * A TD's MOV DR never exits: the TD owns its DRs while it runs.
     */
    Optional<MovDrQualification> movDrExit(CpuMode guestMode, int dr, MovDrDirection direction, int gpr);

    record Vmx(Vmcs vmcs) implements VcpuBacking {
        @Override
        public boolean exceptionExits(ExceptionVector vector) {
            return VmxHardware.exceptionExits(vmcs, vector);
        }

        @Override
        public Optional<MovDrQualification> movDrExit(CpuMode guestMode, int dr, MovDrDirection direction, int gpr) {
            return VmxHardware.movDrExit(vmcs, guestMode, dr, direction, gpr);
        }

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
        public boolean exceptionExits(ExceptionVector vector) {
            return tdVcpu.exceptionBitmap().intercepts(vector);
        }

        @Override
        public Optional<MovDrQualification> movDrExit(CpuMode guestMode, int dr, MovDrDirection direction, int gpr) {
            return Optional.empty();
        }

        @Override
        public void enterHardware(DebugRegisterFile cpu) {
            module.tdhVpEnter(tdVcpu, cpu);
        }

        @Override
        public void exitHardware(DebugRegisterFile cpu, ExitReason reason, long qualification) {
            module.tdExit(tdVcpu, cpu);
        }
    }

    /**
     * An SEV-ES/SEV-SNP vCPU: its encrypted VMSA, the host save area KVM fills for #VMEXIT, and
     * KVM's view of the VM. KVM intercepts no DR access (DR7 only without DebugSwap, which raises
     * #VC in the guest and is not modelled) and intercepts #DB only without DebugSwap.
     */
    record SevEs(dev.tdemu.core.svm.Vmsa vmsa, dev.tdemu.core.svm.HostSaveArea hostsa,
                 dev.tdemu.core.svm.SevGuest guest) implements VcpuBacking {
        @Override
        public boolean exceptionExits(ExceptionVector vector) {
            return vector == ExceptionVector.DB && !guest.kvmSeesDebugSwap();
        }

        @Override
        public Optional<MovDrQualification> movDrExit(CpuMode guestMode, int dr, MovDrDirection direction, int gpr) {
            if ((dr == 7 || dr == 5) && !guest.kvmSeesDebugSwap()) {
                throw new UnsupportedOperationException(
                        "an SEV-ES guest's DR7 access without DebugSwap raises #VC, which tdemu does not model");
            }
            return Optional.empty();
        }

        @Override
        public void enterHardware(DebugRegisterFile cpu) {
            dev.tdemu.core.svm.SevEsHardware.vmrun(vmsa, cpu);
        }

        @Override
        public void exitHardware(DebugRegisterFile cpu, ExitReason reason, long qualification) {
            dev.tdemu.core.svm.SevEsHardware.vmexit(vmsa, hostsa, cpu);
        }
    }
}
