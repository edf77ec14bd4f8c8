package dev.tdemu.core.pc;

/**
 * The 8259 PIC as the local APIC reaches it for ExtINT delivery (LINT0 in ExtINT mode, or the
 * APIC globally disabled so that the PIC drives INTR directly): the vector comes from the PIC's
 * interrupt-acknowledge cycle, not from the APIC. Called outside the APIC's lock.
 */
public interface ApicExtIntSource {
    /** Whether the PIC's INT output is asserted. */
    boolean pending();

    /** The INTA cycle: the PIC answers the vector (its spurious IRQ 7 vector if the request went away). */
    int acknowledge();

    /** No PIC on this vCPU: never pending; an acknowledge is a wiring error. */
    ApicExtIntSource NONE = new ApicExtIntSource() {
        @Override
        public boolean pending() {
            return false;
        }

        @Override
        public int acknowledge() {
            throw new IllegalStateException("ExtINT acknowledge without an 8259 PIC connected to the local APIC");
        }
    };
}
