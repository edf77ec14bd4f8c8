package dev.tdemu.core.pc;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The system bus between local APICs as far as this step needs it (KVM's
 * kvm_irq_delivery_to_apic): an IPI goes to every attached APIC that is one of its destinations,
 * the sender included when it matches (a physical broadcast on a one-vCPU machine reaches the
 * sender). Fixed, NMI, SMI, INIT and start-up messages are delivered; a message of a reserved
 * delivery mode (remote read, ExtINT) is handed to the {@link Undeliverable} listener, which the
 * emulator reports loudly. Lowest-priority arbitration, needed for I/O APIC messages, comes with
 * the I/O APIC; local APICs never send lowest-priority IPIs (they set ESR instead).
 */
public final class ApicBus implements ApicIpiSink {

    /** Told of each message the bus cannot deliver. */
    @FunctionalInterface
    public interface Undeliverable {
        void message(LocalApic source, ApicIcr icr, String why);
    }

    private final List<LocalApic> apics = new CopyOnWriteArrayList<>();
    private final Undeliverable undeliverable;

    public ApicBus(Undeliverable undeliverable) {
        this.undeliverable = undeliverable;
    }

    /** Puts a vCPU's APIC on the bus; construct it with this bus as its {@link ApicIpiSink}. */
    public void attach(LocalApic apic) {
        apics.add(apic);
    }

    public List<LocalApic> apics() {
        return List.copyOf(apics);
    }

    @Override
    public void send(LocalApic source, ApicIcr icr) {
        switch (icr.deliveryMode()) {
            case FIXED, NMI, SMI, INIT, STARTUP -> {
                for (LocalApic apic : apics) {
                    if (apic.isDestination(icr, source)) {
                        apic.acceptIpi(icr);
                    }
                }
            }
            case LOWEST_PRIORITY -> undeliverable.message(source, icr, "lowest-priority arbitration is not implemented");
            case REMOTE_READ, EXTINT -> undeliverable.message(source, icr, "reserved delivery mode for an IPI");
        }
    }
}
