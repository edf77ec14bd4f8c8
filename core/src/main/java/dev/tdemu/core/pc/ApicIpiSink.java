package dev.tdemu.core.pc;

/**
 * Where a local APIC sends an interprocessor interrupt it cannot deliver by itself: every ICR
 * write whose destination is not this APIC alone (broadcasts, logical destinations, other APIC
 * IDs) and every message of a delivery mode the APIC does not handle locally. {@link ApicBus}
 * implements it for several vCPUs; it is called outside the sender's lock.
 */
@FunctionalInterface
public interface ApicIpiSink {
    void send(LocalApic source, ApicIcr icr);
}
