package dev.tdemu.emulator.vm;

import dev.tdemu.core.pc.CpuidResult;
import dev.tdemu.core.pc.MpInitAction;
import dev.tdemu.core.pc.MsrRead;
import dev.tdemu.core.pc.MsrWrite;

/**
 * The machine as one vCPU's exits reach it: the devices on its buses, its MSRs, CPUID, and its
 * interrupt controller. tdemu's own machine ({@link TdemuVcpuMachine}) has a console, an exit port
 * and a timer that wakes a halted vCPU at once; a PC ({@link PcVcpuMachine}) has the devices of
 * QEMU's {@code pc} machine and a local APIC per vCPU.
 */
interface VcpuMachine {
    long portIn(int port, int size);

    void portOut(int port, int size, long value);

    long mmioRead(long gpa, int size);

    void mmioWrite(long gpa, int size, long value);

    MsrRead readMsr(int index);

    MsrWrite writeMsr(int index, long value);

    CpuidResult cpuid(int leaf, int subleaf);

    /**
     * Whether this vCPU has an interrupt controller whose interrupts wake HLT and are delivered
     * through the IDT. Without one (tdemu's own machine), HLT with interrupts enabled is woken at
     * once by tdemu's timer vector.
     */
    boolean hasInterruptController();

    /** Whether an external interrupt is pending for this vCPU (KVM's kvm_cpu_has_injectable_intr). */
    boolean interruptPending();

    /** The INTA cycle: the vector to deliver, now in service; -1 when the request went away. */
    int acknowledgeInterrupt();

    /**
     * Takes the INIT and start-up requests the vCPU's local APIC received (KVM's
     * kvm_apic_accept_events) and says what they do to the vCPU; tdemu's own machine has none.
     */
    default MpInitAction acceptInitEvents() {
        return MpInitAction.NONE;
    }

    /** Whether the vCPU runs guest code, rather than waiting for a start-up IPI (KVM_MP_STATE_INIT_RECEIVED). */
    default boolean runnable() {
        return true;
    }

    /** Whether an NMI request reached the vCPU (tdemu's own machine has no NMI source). */
    default boolean nmiPending() {
        return false;
    }

    /** EDX after RESET and INIT: the processor signature (CPUID.01H:EAX). */
    default long resetEdx() {
        return Integer.toUnsignedLong(cpuid(1, 0).eax());
    }
}
