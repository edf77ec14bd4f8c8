package dev.tdemu.core.platform;

/**
 * One interrupt request line from a device to an interrupt controller (the PIC, the IO-APIC, a
 * local APIC's LINT pin). Edge-triggered devices pulse it ({@code raise} then {@code lower});
 * level-triggered ones hold it.
 */
public interface InterruptLine {
    void raise();

    void lower();

    /** Both edges: what an edge-triggered device does once per event. */
    default void pulse() {
        raise();
        lower();
    }

    /** A line connected to nothing. */
    InterruptLine NONE = new InterruptLine() {
        @Override
        public void raise() { }

        @Override
        public void lower() { }
    };
}
