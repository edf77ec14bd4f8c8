package dev.tdemu.core.pc;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The system bus between the local APICs and the I/O APIC (KVM's kvm_irq_delivery_to_apic): a
 * message goes to every attached APIC that is one of its destinations, the sender included when
 * it matches (a physical broadcast on a one-vCPU machine reaches the sender).
 *
 * <p>Fixed, NMI, SMI, INIT and start-up IPIs are delivered as addressed; an I/O APIC message may
 * also be ExtINT (the destination then takes the vector from the 8259 PIC). A lowest-priority
 * message goes to one destination, chosen by {@link #arbitrate}. Messages of a reserved delivery
 * mode (remote read and ExtINT as IPIs; remote read (011) and 110 from an I/O APIC) are handed to
 * the {@link Undeliverable} listener, which the emulator reports loudly, and reach nobody.
 *
 * <p>Thread-safe without a lock of its own: senders call it outside their own APIC's lock, each
 * destination takes its own lock in turn, so two vCPUs sending each other IPIs cannot deadlock.
 */
public final class ApicBus implements ApicIpiSink, ApicMessageSink {

    /** Told of each message the bus cannot deliver; {@code source} is null for an I/O APIC message. */
    @FunctionalInterface
    public interface Undeliverable {
        void message(LocalApic source, ApicIcr icr, String why);
    }

    private final List<LocalApic> apics = new CopyOnWriteArrayList<>();
    private final Undeliverable undeliverable;
    /** Where the round-robin among equally low priorities starts: after the APIC that won last. */
    private final AtomicInteger arbitrationStart = new AtomicInteger();

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

    /** An IPI from {@code source}'s ICR (xAPIC or x2APIC format). */
    @Override
    public void send(LocalApic source, ApicIcr icr) {
        route(source, icr);
    }

    /** An I/O APIC message (xAPIC format, no shorthand). */
    @Override
    public int deliver(ApicIcr message) {
        return route(null, message);
    }

    /** Delivers {@code message} from {@code source} (null: an I/O APIC); returns how many APICs accepted it. */
    private int route(LocalApic source, ApicIcr message) {
        String refused = reservedMode(source, message.deliveryMode());
        if (refused != null) {
            undeliverable.message(source, message, refused);
            return 0;
        }
        List<LocalApic> destinations = new ArrayList<>();
        for (LocalApic apic : apics) {
            if (apic.isDestination(message, source)) {
                destinations.add(apic);
            }
        }
        if (message.deliveryMode() == ApicDeliveryMode.LOWEST_PRIORITY) {
            LocalApic chosen = arbitrate(destinations);
            return chosen != null && chosen.acceptIpi(message) ? 1 : 0;
        }
        int accepted = 0;
        for (LocalApic apic : destinations) {
            if (apic.acceptIpi(message)) {
                accepted++;
            }
        }
        return accepted;
    }

    /** Why a delivery mode cannot travel from this kind of source, or null when it can. */
    private static String reservedMode(LocalApic source, ApicDeliveryMode mode) {
        return switch (mode) {
            case FIXED, LOWEST_PRIORITY, SMI, NMI, INIT -> null;
            case STARTUP -> source != null ? null : "delivery mode 110 is reserved in an I/O APIC redirection entry";
            case EXTINT -> source == null ? null : "ExtINT is a reserved delivery mode for an IPI";
            case REMOTE_READ -> source != null ? "remote read is a reserved delivery mode for an IPI on the xAPIC"
                    : "delivery mode 011 is reserved in an I/O APIC redirection entry";
        };
    }

    /**
     * Lowest-priority arbitration: among the destinations whose APIC is software-enabled (KVM
     * skips the others), the one with the lowest processor-priority class (PPR[7:4], which covers
     * the TPR and the class in service); ties go round-robin in attach order, starting after the
     * previous winner, as the SDM's rotating arbitration priority spreads them. Null when no
     * destination is enabled. KVM by default hashes the vector over the destinations instead
     * (vector_hashing) and QEMU takes the first; no test kernel depends on the choice.
     */
    LocalApic arbitrate(List<LocalApic> destinations) {
        List<LocalApic> candidates = destinations.stream().filter(LocalApic::softwareEnabled).toList();
        if (candidates.isEmpty()) {
            return null;
        }
        int lowest = Integer.MAX_VALUE;
        for (LocalApic apic : candidates) {
            lowest = Math.min(lowest, apic.processorPriority() >>> 4);
        }
        List<LocalApic> all = apics;
        int start = Math.floorMod(arbitrationStart.get(), Math.max(all.size(), 1));
        for (int i = 0; i < all.size(); i++) {
            int index = (start + i) % all.size();
            LocalApic apic = all.get(index);
            if (candidates.contains(apic) && apic.processorPriority() >>> 4 == lowest) {
                arbitrationStart.set(index + 1);
                return apic;
            }
        }
        // Priorities moved while we looked (another vCPU changed its TPR): any candidate will do.
        return candidates.getFirst();
    }
}
