package dev.tdemu.core.pc;

/**
 * Where an I/O APIC sends its interrupt messages: the APIC bus ({@link ApicBus}), which delivers
 * each to the local APICs its destination selects (KVM's kvm_irq_delivery_to_apic with no source
 * APIC). The message is an {@link ApicIcr} in xAPIC format built from a redirection entry, with
 * no shorthand. May be called with the I/O APIC's lock held: it must not call back into the I/O
 * APIC on another thread and wait for it.
 */
@FunctionalInterface
public interface ApicMessageSink {

    /** @return how many local APICs accepted the message (0 if none did: a level entry's remote IRR stays clear) */
    int deliver(ApicIcr message);
}
