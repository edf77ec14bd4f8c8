package dev.tdemu.emulator.vm;

import dev.tdemu.core.kvm.KvmVcpu;
import dev.tdemu.core.pc.ApicInterrupt;
import dev.tdemu.core.pc.CpuidResult;
import dev.tdemu.core.pc.LocalApic;
import dev.tdemu.core.pc.MpInitAction;
import dev.tdemu.core.pc.MpInitState;
import dev.tdemu.core.pc.MsrFile;
import dev.tdemu.core.pc.MsrRead;
import dev.tdemu.core.pc.MsrVcpuContext;
import dev.tdemu.core.pc.MsrWrite;
import dev.tdemu.core.pc.NmiState;
import dev.tdemu.emulator.cpu.GuestEngine;
import dev.tdemu.emulator.platform.DeviceTimer;
import dev.tdemu.emulator.platform.PcMachine;
import dev.tdemu.emulator.unicorn.X86Reg;

/**
 * A PC as one vCPU sees it: the devices of {@link PcMachine} (under its lock), this vCPU's local
 * APIC, its MSRs ({@code core.pc.MsrFile}, with the ones the engine acts on loaded into the
 * engine) and the machine's CPUID. Every access that may move a device's deadline pokes the
 * machine's {@link DeviceTimer}.
 */
final class PcVcpuMachine implements VcpuMachine {
    private static final long CR0_PG = 1L << 31;

    private final PcMachine machine;
    private final DeviceTimer timer;
    private final int index;
    private final LocalApic apic;
    private final MpInitState mp;
    private final MsrFile msrs;
    private final NmiState nmi;
    /** A TD's IA32_DEBUGCTL as it last wrote it (a VMX guest's lives in the VMCS). */
    private long tdDebugctl;

    PcVcpuMachine(PcMachine machine, DeviceTimer timer, int index, GuestEngine engine, KvmVcpu kvm) {
        this.machine = machine;
        this.timer = timer;
        this.index = index;
        this.apic = machine.cpu(index).apic();
        this.nmi = new NmiState(apic);
        this.mp = machine.cpu(index).mp();
        this.msrs = machine.msrFile(index, new MsrVcpuContext() {
            @Override
            public long readEngineMsr(int msr) {
                return engine.readEngineMsr(msr);
            }

            @Override
            public void writeEngineMsr(int msr, long value) {
                engine.writeEngineMsr(msr, value);
            }

            @Override
            public boolean pagingEnabled() {
                return (engine.engine().readReg(X86Reg.CR0) & CR0_PG) != 0;
            }

            // A TD's IA32_DEBUGCTL is its own (no VMCS KVM can reach): kept per vCPU, as TdemuVcpuMachine does.
            @Override
            public long debugctl() {
                return kvm.isTd() ? tdDebugctl : kvm.vmcs().guestDebugctl();
            }

            @Override
            public void setDebugctl(long value) {
                if (kvm.isTd()) {
                    tdDebugctl = value;
                } else {
                    kvm.vmcs().setGuestDebugctl(value);
                }
            }
        });
    }

    LocalApic apic() {
        return apic;
    }

    @Override
    public long portIn(int port, int size) {
        long v = machine.portIn(port, size);
        timer.poke();
        return v;
    }

    @Override
    public void portOut(int port, int size, long value) {
        machine.portOut(port, size, value);
        timer.poke();
    }

    @Override
    public boolean apicAccessPage(long gpa) {
        return apic.covers(gpa);
    }

    @Override
    public long mmioRead(long gpa, int size) {
        if (apic.covers(gpa)) {
            return apic.read(gpa & 0xFFF, size);
        }
        return machine.mmioRead(gpa, size);
    }

    @Override
    public void mmioWrite(long gpa, int size, long value) {
        if (apic.covers(gpa)) {
            apic.write(gpa & 0xFFF, size, value);
        } else {
            machine.mmioWrite(gpa, size, value);
        }
        timer.poke();
    }

    @Override
    public MsrRead readMsr(int index) {
        return msrs.read(index);
    }

    @Override
    public MsrWrite writeMsr(int index, long value) {
        MsrWrite r = msrs.write(index, value);
        timer.poke();
        return r;
    }

    @Override
    public CpuidResult cpuid(int leaf, int subleaf) {
        return machine.cpuid().cpuid(index, leaf, subleaf, apic.hardwareEnabled());
    }

    @Override
    public int cr8() {
        return apic.cr8();
    }

    @Override
    public void setCr8(int value) {
        apic.setCr8(value);
        timer.poke();
    }

    @Override
    public boolean hasInterruptController() {
        return true;
    }

    @Override
    public boolean interruptPending() {
        return apic.hasInterrupt();
    }

    @Override
    public int[] interruptRequests() {
        int[] irr = new int[8];
        int base = dev.tdemu.core.pc.ApicRegister.IRR.offset();
        for (int i = 0; i < irr.length; i++) {
            irr[i] = apic.x2apicMode()
                    ? (int) ((dev.tdemu.core.pc.MsrRead.Value) apic.readX2apicMsr(dev.tdemu.core.pc.ApicRegister.IRR.msr() + i)).value()
                    : (int) apic.read(base + 0x10L * i, 4);
        }
        return irr;
    }

    @Override
    public boolean rdtscp() {
        return machine.cpuid().features().rdtscp();
    }

    @Override
    public long cr4ReservedBits() {
        return machine.cpuid().features().cr4ReservedBits();
    }

    @Override
    public boolean rdpid() {
        return machine.cpuid().features().rdpid() && rdtscp();
    }

    @Override
    public boolean nmiDeliverable() {
        return nmi.deliverable();
    }

    @Override
    public boolean takeNmi() {
        return nmi.takePending();
    }

    @Override
    public void resetNmis() {
        nmi.reset();
    }

    @Override
    public boolean nmiLatched() {
        return nmi.latched() > 0;
    }

    @Override
    public boolean nmiBlocked() {
        return nmi.blocked();
    }

    @Override
    public void nmiUnblocked() {
        nmi.iret();
    }

    @Override
    public MpInitAction acceptInitEvents() {
        return machine.acceptMpEvents(index);
    }

    @Override
    public int armedTimerVector() {
        return apic.armedTimerVector();
    }

    @Override
    public boolean initEventPending() {
        return machine.mpEventPending(index);
    }

    @Override
    public boolean waitsInFirmware() {
        return mp.state() == MpInitState.State.WAIT_FOR_WAKEUP;
    }

    @Override
    public boolean runnable() {
        return mp.runnable();
    }

    @Override
    public int acknowledgeInterrupt() {
        return switch (apic.acknowledge()) {
            case ApicInterrupt.Fixed f -> f.vector();
            case ApicInterrupt.ExtInt e -> e.vector();
            case ApicInterrupt.Spurious s -> s.vector();
        };
    }
}
