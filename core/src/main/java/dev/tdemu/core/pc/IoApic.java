package dev.tdemu.core.pc;

import dev.tdemu.core.platform.InterruptLine;
import dev.tdemu.core.platform.MmioDevice;
import dev.tdemu.core.platform.PortBus;

/**
 * The I/O APIC of QEMU's {@code pc} machine: an 82093AA-style unit with 24 input pins, version
 * 0x20 (QEMU's default, which adds the EOI register at 0x40 of the ICH I/O xAPICs), at
 * 0xFEC00000. Registers are reached indirectly: IOREGSEL (0x00) selects, IOWIN (0x10) reads or
 * writes IOAPICID (0x00, ID in bits 27:24), IOAPICVER (0x01, read-only: version 0x20, maximum
 * redirection entry 23 in bits 23:16), IOAPICARB (0x02, read-only, reads as the ID) and the
 * redirection table IOREDTBL[0:23] (0x10-0x3F, low then high half). A 32-bit write of a vector to
 * EOI (0x40) clears the remote IRR of every entry with that vector, like a local APIC's broadcast
 * EOI ({@link #eoi}).
 *
 * <p>Each pin is an {@link InterruptLine} at its electrical level; an active-low entry inverts it.
 * An edge-triggered entry sends one message per assertion edge while unmasked (edges on a masked
 * pin are lost, as the datasheet says and QEMU and KVM do). A level-triggered one (fixed or
 * lowest priority) sends while the pin is asserted and its remote IRR is clear, and sets the
 * remote IRR when a local APIC accepted the message; the EOI clears it and a pin still asserted
 * sends again. Unmasking an asserted level pin sends; writing an entry as edge-triggered clears its
 * remote IRR (QEMU and KVM, for Linux's EOI emulation on I/O APICs without the EOI register). SMI,
 * NMI, INIT and ExtINT entries are edge-sensitive whatever their trigger bit. The reserved delivery
 * modes 011 and 110 reach no processor: the {@link ApicBus} reports them to its undeliverable
 * listener. Messages leave through an {@link ApicMessageSink}; no message recurses: a pin that
 * changes or an EOI that arrives while a message is being delivered, on the same thread, is
 * queued and served by the loop already running.
 *
 * <p>As QEMU: IOWIN and EOI need 32-bit accesses (others read 0 and are dropped), the page decodes
 * only address bits 7:0, other offsets and registers read 0 (QEMU's I/O APIC has no IRQ pin
 * assertion register either), the reserved entry bits are kept. There is no interrupt remapping,
 * so entries have the compatibility format only. Thread-safe: every access holds the I/O APIC's
 * lock, and messages are delivered under it (the local APICs call back only outside their own
 * locks, so the lock order is always I/O APIC, then local APIC).
 */
public final class IoApic implements MmioDevice, ApicEoiListener {

    public static final long DEFAULT_BASE = 0xFEC0_0000L;
    public static final long MMIO_SIZE = 0x1000;
    public static final int PINS = 24;
    /** QEMU's IOAPIC_VER_DEF: the version with the EOI register (KVM's in-kernel I/O APIC reports 0x11, without it). */
    public static final int VERSION = 0x20;
    public static final int MAX_REDIRECTION_ENTRY = PINS - 1;

    /** The register select, an 8-bit index (Linux's io_apic->index). */
    public static final int IOREGSEL = 0x00;
    /** The data window (io_apic->data). */
    public static final int IOWIN = 0x10;
    /** The EOI register of version 0x20 (io_apic->eoi). */
    public static final int EOI = 0x40;

    public static final int IOAPICID = 0x00;
    public static final int IOAPICVER = 0x01;
    public static final int IOAPICARB = 0x02;
    /** IOREDTBL[n] is at 0x10 + 2n (bits 31:0) and 0x11 + 2n (bits 63:32). */
    public static final int IOREDTBL = 0x10;

    private final ApicMessageSink sink;
    private final InterruptLine[] pins = new InterruptLine[PINS];
    private final boolean[] level = new boolean[PINS];
    private final long[] redirection = new long[PINS];

    private int id;
    private int ioregsel;
    /** Assertion edges of edge-sensitive pins not yet sent (the datasheet's IRR for edges). */
    private int edgePending;
    /** Pins to look at again; served by {@link #serviceRequested} on the thread already delivering. */
    private int serviceRequests;
    private boolean servicing;

    /** An I/O APIC with ID 0 (the MADT's) whose messages go to {@code sink}, normally the {@link ApicBus}. */
    public IoApic(ApicMessageSink sink) {
        this.sink = sink;
        for (int i = 0; i < PINS; i++) {
            pins[i] = new Pin(i);
        }
        reset();
    }

    /** RESET: every entry masked, ID 0, IOREGSEL 0. The pins keep their levels (they are the wires). */
    public synchronized void reset() {
        id = 0;
        ioregsel = 0;
        java.util.Arrays.fill(redirection, IoApicRedirectionEntry.RESET.value());
        edgePending = 0;
        serviceRequests = 0;
    }

    /** Input pin {@code n} (0-23), also GSI {@code n}: ISA IRQ n, except the PIT's IRQ 0 on pin 2 (the MADT's override). */
    public InterruptLine pin(int n) {
        checkPin(n);
        return pins[n];
    }

    public synchronized IoApicRedirectionEntry entry(int pin) {
        checkPin(pin);
        return new IoApicRedirectionEntry(redirection[pin]);
    }

    /** The 4-bit I/O APIC ID (IOAPICID bits 27:24). */
    public synchronized int id() {
        return id;
    }

    /** Whether pin {@code n} is asserted: its level, inverted for an active-low entry. */
    public synchronized boolean asserted(int pin) {
        checkPin(pin);
        return assertedLocked(pin);
    }

    // ---- MMIO ----

    @Override
    public synchronized long read(long offset, int size) {
        long value = switch ((int) (offset & 0xFF)) {
            case IOREGSEL -> ioregsel;
            case IOWIN -> size == 4 ? Integer.toUnsignedLong(readWindow()) : 0;
            default -> 0;
        };
        return value & PortBus.mask(size);
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        switch ((int) (offset & 0xFF)) {
            case IOREGSEL -> ioregsel = (int) value & 0xFF;
            case IOWIN -> {
                if (size == 4) {
                    writeWindow((int) value);
                }
            }
            case EOI -> {
                if (size == 4) {
                    eoi((int) value & 0xFF);
                }
            }
            default -> { } // nothing else is decoded
        }
    }

    private int readWindow() {
        return switch (ioregsel) {
            case IOAPICID, IOAPICARB -> id << 24;
            case IOAPICVER -> VERSION | (MAX_REDIRECTION_ENTRY << 16);
            default -> {
                int pin = redirectionPin(ioregsel);
                if (pin < 0) {
                    yield 0;
                }
                long entry = redirection[pin];
                yield (ioregsel & 1) != 0 ? (int) (entry >>> 32) : (int) entry;
            }
        };
    }

    private void writeWindow(int value) {
        switch (ioregsel) {
            case IOAPICID -> id = (value >>> 24) & 0xF;
            case IOAPICVER, IOAPICARB -> { } // read-only
            default -> {
                int pin = redirectionPin(ioregsel);
                if (pin >= 0) {
                    writeEntry(pin, (ioregsel & 1) != 0, value);
                }
            }
        }
    }

    private static int redirectionPin(int register) {
        int pin = (register - IOREDTBL) >> 1;
        return register >= IOREDTBL && pin < PINS ? pin : -1;
    }

    private void writeEntry(int pin, boolean high, int half) {
        long old = redirection[pin];
        long next = high ? (old & 0xFFFF_FFFFL) | ((long) half << 32) : (old & ~0xFFFF_FFFFL) | Integer.toUnsignedLong(half);
        next = (next & ~IoApicRedirectionEntry.READ_ONLY) | (old & IoApicRedirectionEntry.READ_ONLY);
        if ((next & IoApicRedirectionEntry.LEVEL_TRIGGERED) == 0) {
            // Linux clears a stuck remote IRR by switching the entry to edge and back (KVM and QEMU honour it).
            next &= ~IoApicRedirectionEntry.REMOTE_IRR;
        }
        redirection[pin] = next;
        // A level pin still asserted is sent now if it can be (unmasked, remote IRR clear).
        requestService(pin);
    }

    // ---- EOI ----

    /**
     * An EOI for {@code vector}: a local APIC's broadcast for a level-triggered vector, or a write
     * to the EOI register. Clears the remote IRR of every entry with that vector (whatever the
     * destination, as KVM and QEMU); an entry whose pin is still asserted sends again.
     */
    @Override
    public synchronized void eoi(int vector) {
        for (int pin = 0; pin < PINS; pin++) {
            IoApicRedirectionEntry e = new IoApicRedirectionEntry(redirection[pin]);
            if (e.vector() == vector && e.remoteIrr()) {
                redirection[pin] &= ~IoApicRedirectionEntry.REMOTE_IRR;
                serviceRequests |= 1 << pin;
            }
        }
        serviceRequested();
    }

    // ---- pins ----

    private final class Pin implements InterruptLine {
        private final int n;

        Pin(int n) {
            this.n = n;
        }

        @Override
        public void raise() {
            setLevel(n, true);
        }

        @Override
        public void lower() {
            setLevel(n, false);
        }

        @Override
        public String toString() {
            return "IoApic pin " + n;
        }
    }

    private synchronized void setLevel(int pin, boolean high) {
        boolean wasAsserted = assertedLocked(pin);
        level[pin] = high;
        if (assertedLocked(pin) && !wasAsserted) {
            IoApicRedirectionEntry e = new IoApicRedirectionEntry(redirection[pin]);
            if (!e.levelSensitive() && !e.masked()) {
                edgePending |= 1 << pin;
            }
            requestService(pin);
        }
    }

    private boolean assertedLocked(int pin) {
        return level[pin] != new IoApicRedirectionEntry(redirection[pin]).activeLow();
    }

    // ---- delivery ----

    private void requestService(int pin) {
        serviceRequests |= 1 << pin;
        serviceRequested();
    }

    /**
     * Serves the requested pins, in rounds, until none is left. Called again from inside a
     * delivery on the same thread (a sink that EOIs or raises a line at once) it only leaves the
     * request for the running loop: deliveries never nest.
     */
    private void serviceRequested() {
        if (servicing) {
            return;
        }
        servicing = true;
        try {
            while (serviceRequests != 0) {
                int round = serviceRequests;
                serviceRequests = 0;
                for (int pin = 0; pin < PINS; pin++) {
                    if ((round & (1 << pin)) != 0) {
                        service(pin);
                    }
                }
            }
        } finally {
            servicing = false;
        }
    }

    private void service(int pin) {
        IoApicRedirectionEntry e = new IoApicRedirectionEntry(redirection[pin]);
        if (e.masked() || e.levelSensitive()) {
            edgePending &= ~(1 << pin); // an edge seen before the entry was masked or made level-sensitive is gone
        }
        if (e.masked()) {
            return;
        }
        if (!e.levelSensitive()) {
            if ((edgePending & (1 << pin)) != 0) {
                edgePending &= ~(1 << pin);
                sink.deliver(e.message());
            }
            return;
        }
        if (!assertedLocked(pin) || e.remoteIrr()) {
            return;
        }
        // Set before sending, so that an EOI arriving during the delivery finds it; cleared again if nobody accepted.
        redirection[pin] |= IoApicRedirectionEntry.REMOTE_IRR;
        if (sink.deliver(e.message()) == 0) {
            redirection[pin] &= ~IoApicRedirectionEntry.REMOTE_IRR;
        }
    }

    private static void checkPin(int pin) {
        if (pin < 0 || pin >= PINS) {
            throw new IllegalArgumentException("an I/O APIC pin is 0-" + MAX_REDIRECTION_ENTRY + ": " + pin);
        }
    }

    @Override
    public synchronized String toString() {
        return String.format("IoApic[id=%d ioregsel=0x%02x]", id, ioregsel);
    }
}
