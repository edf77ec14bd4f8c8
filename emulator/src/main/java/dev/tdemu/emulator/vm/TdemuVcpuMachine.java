package dev.tdemu.emulator.vm;

import dev.tdemu.core.kvm.KvmVcpu;
import dev.tdemu.core.pc.CpuidResult;
import dev.tdemu.core.pc.MsrRead;
import dev.tdemu.core.pc.MsrWrite;
import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.emulator.platform.Platform;

/**
 * tdemu's own machine as one vCPU sees it (docs/guest-abi.md): the console and exit ports on the
 * VM's buses, the MSRs a tdemu guest may use, CPUID as {@link CpuidTable} presents it, and no
 * interrupt controller.
 */
final class TdemuVcpuMachine implements VcpuMachine {
    static final int MSR_TSC = 0x10, MSR_APIC_BASE = 0x1B, MSR_DEBUGCTL = 0x1D9, MSR_EFER = 0xC0000080;

    private final Platform platform;
    private final KvmVcpu kvm;
    private final int index;
    private final int vcpus;
    /** A TD's IA32_DEBUGCTL as its TDG.VP.VMCALL&lt;WRMSR&gt; left it (a VMX guest's lives in the VMCS). */
    private long tdDebugctl;

    TdemuVcpuMachine(Platform platform, KvmVcpu kvm, int index, int vcpus) {
        this.platform = platform;
        this.kvm = kvm;
        this.index = index;
        this.vcpus = vcpus;
    }

    @Override
    public long portIn(int port, int size) {
        return platform.ports().in(port, size);
    }

    @Override
    public void portOut(int port, int size, long value) {
        platform.ports().out(port, size, value);
    }

    @Override
    public long mmioRead(long gpa, int size) {
        return platform.mmio().read(gpa, size);
    }

    @Override
    public void mmioWrite(long gpa, int size, long value) {
        platform.mmio().write(gpa, size, value);
    }

    /**
     * EFER (the boot value; guests stay in long mode), DEBUGCTL (after the exit the CPU's is the
     * host's, since VM exit cleared it; the guest's is in the VMCS, as KVM reads it with
     * vmcs_read64(GUEST_IA32_DEBUGCTL), and a TD's is kept per vCPU), TSC and APIC_BASE. Anything
     * else is #GP, as KVM with ignore_msrs=0.
     */
    @Override
    public MsrRead readMsr(int index) {
        return switch (index) {
            case MSR_EFER -> new MsrRead.Value(BootStructures.EFER);
            case MSR_DEBUGCTL -> new MsrRead.Value(kvm.isTd() ? tdDebugctl : kvm.vmcs().guestDebugctl());
            case MSR_TSC -> new MsrRead.Value(System.nanoTime());
            case MSR_APIC_BASE -> new MsrRead.Value(0xFEE00900L);
            default -> new MsrRead.Gp(String.format("MSR 0x%x is not modelled", index));
        };
    }

    @Override
    public MsrWrite writeMsr(int index, long value) {
        return switch (index) {
            case MSR_DEBUGCTL -> {
                if (kvm.isTd()) {
                    tdDebugctl = value;
                } else {
                    kvm.vmcs().setGuestDebugctl(value);
                }
                yield MsrWrite.DONE;
            }
            case MSR_EFER -> value == BootStructures.EFER ? MsrWrite.DONE
                    : MsrWrite.gp("EFER 0x%x: tdemu's guests stay in long mode with the boot EFER 0x%x", value, BootStructures.EFER);
            default -> MsrWrite.gp("MSR 0x%x is not modelled", index);
        };
    }

    @Override
    public CpuidResult cpuid(int leaf, int subleaf) {
        return CpuidTable.lookup(Integer.toUnsignedLong(leaf), Integer.toUnsignedLong(subleaf), kvm.isTd() ? Mode.TD : Mode.VMX,
                index, vcpus);
    }

    @Override
    public boolean hasInterruptController() {
        return false;
    }

    @Override
    public boolean interruptPending() {
        return false;
    }

    @Override
    public int acknowledgeInterrupt() {
        return -1;
    }
}
