package dev.tdemu.core.pc;

/**
 * Told of each EOI for a level-triggered vector (TMR bit set): the broadcast EOI an I/O APIC uses
 * to clear its remote IRR. Called outside the APIC's lock.
 */
@FunctionalInterface
public interface ApicEoiListener {
    void eoi(int vector);

    ApicEoiListener NONE = vector -> { };
}
