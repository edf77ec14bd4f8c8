package dev.tdemu.emulator.vm;

import dev.tdemu.core.kvm.Vmm;
import dev.tdemu.core.pc.CpuidResult;
import dev.tdemu.core.pc.MsrRead;
import dev.tdemu.core.pc.MsrWrite;
import dev.tdemu.core.x86.DebugRegisters;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What sits behind one vCPU's exits: the machine's devices, MSRs and CPUID ({@link VcpuMachine})
 * and tdemu's hypercalls. KVM's exit handlers in {@code core} ({@code TdxVmcall},
 * {@code KvmHypercall}) and in {@link VmxExitHandlers} reach the machine only through this.
 */
final class VcpuVmm implements Vmm {
    private final Vcpu vcpu;
    private final VcpuMachine machine;
    private final Console console;

    VcpuVmm(Vcpu vcpu, VcpuMachine machine, Console console) {
        this.vcpu = vcpu;
        this.machine = machine;
        this.console = console;
    }

    @Override
    public long portIn(int port, int size) {
        return machine.portIn(port, size);
    }

    @Override
    public void portOut(int port, int size, long value) {
        machine.portOut(port, size, value);
    }

    @Override
    public long mmioRead(long gpa, int size) {
        return machine.mmioRead(gpa, size);
    }

    @Override
    public void mmioWrite(long gpa, int size, long value) {
        machine.mmioWrite(gpa, size, value);
    }

    @Override
    public MsrRead readMsr(int index) {
        return machine.readMsr(index);
    }

    @Override
    public MsrWrite writeMsr(int index, long value) {
        return machine.writeMsr(index, value);
    }

    @Override
    public CpuidResult cpuid(int leaf, int subleaf) {
        return machine.cpuid(leaf, subleaf);
    }

    @Override
    public boolean consoleWrite(long address, int length) {
        byte[] bytes;
        try {
            bytes = vcpu.readGuest(address, length);
        } catch (Vcpu.GuestAccessException e) {
            return false;
        }
        for (byte b : bytes) {
            console.write(b);
        }
        return true;
    }

    @Override
    public long hostWorkload() {
        return vcpu.runHostWorkloadNow();
    }

    @Override
    public boolean storeHostDebugRegisters(long address) {
        ByteBuffer b = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
        DebugRegisters h = vcpu.lastHostView();
        b.putLong(h.dr0()).putLong(h.dr1()).putLong(h.dr2()).putLong(h.dr3()).putLong(h.dr6().value()).putLong(h.dr7().value());
        try {
            vcpu.writeGuest(address, b.array());
            return true;
        } catch (Vcpu.GuestAccessException e) {
            return false;
        }
    }
}
