package dev.tdemu.core.pc;

/** What the interrupt-acknowledge cycle ({@link ApicCpuInterface#acknowledge()}) hands the processor core. */
public sealed interface ApicInterrupt {

    /** The vector to deliver through the IDT. */
    int vector();

    /** A fixed interrupt from the APIC's IRR, now in service (ISR) until the handler's EOI. */
    record Fixed(int vector) implements ApicInterrupt {
    }

    /** An ExtINT: the 8259 PIC supplied the vector; the APIC's IRR/ISR are not involved and no APIC EOI is due. */
    record ExtInt(int vector) implements ApicInterrupt {
    }

    /**
     * Nothing was deliverable any more when the core acknowledged (the TPR was raised in between):
     * the spurious vector from the SVR, delivered without setting an ISR bit, so no EOI is due.
     */
    record Spurious(int vector) implements ApicInterrupt {
    }
}
