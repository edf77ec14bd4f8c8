package dev.tdemu.core.pc;

import java.util.OptionalInt;

/**
 * The local APIC as its processor core sees it: the INTR/INTA pair, the NMI/SMI/INIT/SIPI
 * requests, CR8, and interrupts arriving from any source. KVM's counterparts are named on each
 * method. The core decides what to take (IF, interrupt shadows, NMI blocking); the APIC decides
 * what is pending.
 */
public interface ApicCpuInterface {

    /**
     * A fixed interrupt arrives from a device, an I/O APIC or an IPI (KVM's __apic_accept_irq for
     * APIC_DM_FIXED): sets its IRR bit and its TMR bit per {@code trigger}. Vectors 0-15 are
     * illegal: ESR "receive illegal vector", nothing set. Dropped while the APIC is disabled.
     *
     * @return whether the interrupt was accepted into the IRR
     */
    boolean acceptInterrupt(int vector, ApicTriggerMode trigger);

    /** The highest IRR vector whose priority class is above the PPR's (kvm_apic_has_interrupt), if any. */
    OptionalInt pendingVector();

    /**
     * Whether INTR is asserted (kvm_cpu_has_interrupt): an ExtINT from the PIC is pending, or
     * {@link #pendingVector()} has one. The core still checks RFLAGS.IF and interrupt shadows.
     */
    boolean hasInterrupt();

    /**
     * The interrupt-acknowledge cycle (kvm_cpu_get_interrupt): an ExtINT from the PIC first
     * (ExtINT ignores priorities), else the pending fixed vector moves from IRR to ISR, else the
     * spurious vector.
     */
    ApicInterrupt acknowledge();

    /** Whether an NMI request (LINT1 in NMI mode, an NMI IPI, an I/O APIC NMI entry) waits; {@link NmiState} takes them. */
    boolean nmiPending();

    /** Takes one NMI request; at most two are kept, like KVM's nmi_pending. */
    boolean takeNmi();

    /** Takes an SMI request (tdemu has no SMM: the emulator reports an SMI as not modelled). */
    boolean takeSmi();

    /** Takes an INIT request (KVM's KVM_APIC_INIT pending event); {@link MpInitState} takes them. */
    boolean takeInit();

    /** Takes a start-up IPI's vector (KVM's KVM_APIC_SIPI pending event). */
    OptionalInt takeStartup();

    /** MOV from CR8: TPR bits 7:4. Works whatever the APIC's enable state (as KVM). */
    int cr8();

    /** MOV to CR8 with a value of 0-15 (the core raises #GP for bits 63:4 first): TPR = value << 4. */
    void setCr8(int value);
}
