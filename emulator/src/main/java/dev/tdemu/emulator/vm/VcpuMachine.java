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

    /** Whether {@code gpa} is on this vCPU's xAPIC page as it decodes it now (the APIC-access page of a VMX guest). */
    default boolean apicAccessPage(long gpa) {
        return false;
    }

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

    /**
     * The interrupt controller's requested vectors, IRR bit 32 * i + b in word i bit b (eight
     * words); all clear without one.
     */
    default int[] interruptRequests() {
        return new int[8];
    }

    /** The INTA cycle: the vector to deliver, now in service; -1 when the request went away. */
    int acknowledgeInterrupt();

    /** Whether CPUID offers RDTSCP (and IA32_TSC_AUX): KVM then enables RDTSCP for the guest. */
    default boolean rdtscp() {
        return false;
    }

    /** Whether CPUID offers RDPID (with RDTSCP, which VMX requires for it). */
    default boolean rdpid() {
        return false;
    }

    /** The CR4 bits the guest's CPUID does not allow (none checked by default). */
    default long cr4ReservedBits() {
        return 0;
    }

    /** Whether an NMI is latched and NMIs are not blocked (KVM's kvm_cpu_has_nmi... with nmi_allowed). */
    default boolean nmiDeliverable() {
        return false;
    }

    /** Takes the latched NMI for delivery now; NMIs stay blocked until the guest's next IRET. False when none is deliverable. */
    default boolean takeNmi() {
        return false;
    }

    /** Whether NMIs are blocked (an NMI was delivered and no IRET has completed since). */
    default boolean nmiBlocked() {
        return false;
    }

    /** INIT or RESET: no NMI latched, NMIs not blocked (KVM's kvm_vcpu_reset). */
    default void resetNmis() {
    }

    /** Whether an NMI is latched, blocked or not (KVM's nmi_pending). */
    default boolean nmiLatched() {
        return false;
    }

    /** The guest completed the IRET that ends NMI blocking. */
    default void nmiUnblocked() {
        throw new IllegalStateException("this machine delivers no NMIs");
    }

    /** MOV from CR8: the local APIC's TPR[7:4] (only a machine whose VMCB intercepts CR8 is asked). */
    default int cr8() {
        throw new IllegalStateException("this machine has no local APIC behind CR8");
    }

    /** MOV to CR8 of 0-15: TPR = value << 4. */
    default void setCr8(int value) {
        throw new IllegalStateException("this machine has no local APIC behind CR8");
    }

    /**
     * Takes the INIT and start-up requests the vCPU's local APIC received (KVM's
     * kvm_apic_accept_events) and says what they do to the vCPU; tdemu's own machine has none.
     */
    default MpInitAction acceptInitEvents() {
        return MpInitAction.NONE;
    }

    /**
     * Whether an INIT, or a start-up IPI the vCPU waits for, is pending (KVM's kvm_apic_has_events):
     * these wake a halted vCPU whatever RFLAGS.IF says. Any thread may ask.
     */
    default boolean initEventPending() {
        return false;
    }

    /**
     * The vector this vCPU's own local APIC timer will request at its next expiry, or -1 when it
     * will request none (no local APIC, masked, stopped). Any thread may ask.
     */
    default int armedTimerVector() {
        return -1;
    }

    /** Whether the vCPU runs guest code, rather than waiting for a start-up IPI (KVM_MP_STATE_INIT_RECEIVED). */
    default boolean runnable() {
        return true;
    }

    /**
     * Whether the vCPU is a TD's application processor held by the firmware, polling the ACPI
     * Multiprocessor Wakeup mailbox: nothing kicks it when the OS writes the mailbox (a plain
     * store), so its thread looks again now and then, as the firmware's loop polls.
     */
    default boolean waitsInFirmware() {
        return false;
    }

    /** EDX after RESET and INIT: the processor signature (CPUID.01H:EAX). */
    default long resetEdx() {
        return Integer.toUnsignedLong(cpuid(1, 0).eax());
    }
}
