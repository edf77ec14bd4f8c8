package dev.tdemu.core.pc;

import dev.tdemu.core.platform.InterruptLine;
import dev.tdemu.core.platform.PortBus;

/**
 * A PC's two cascaded Intel 8259A PICs: the master at 0x20/0x21 (IRQ 0-7), the slave at 0xA0/0xA1
 * (IRQ 8-15) on the master's IR2, and the ELCR pair at 0x4D0/0x4D1 (PIIX/ICH edge/level control;
 * IRQ 0, 1, 2, 8 and 13 are always edge-triggered).
 *
 * <p>Models the ICW1-ICW4 initialisation sequence (vector base, single/cascade, LTIM level mode,
 * auto-EOI, special fully nested mode), OCW1 (IMR), OCW2 (non-specific and specific EOI, rotate on
 * EOI, rotate in auto-EOI, set priority), OCW3 (read IRR/ISR, poll mode, special mask mode), edge
 * and level triggering, priority resolution against the in-service levels, and spurious
 * interrupts: an INTA with nothing left to deliver returns the master's IRQ 7 vector (ISR
 * untouched), and a cascade whose slave has nothing returns the slave's IRQ 15 vector with the
 * master's IR2 in service, as Linux expects. The CPU side is {@link #intr()} (also driven on the
 * {@code intr} line for the local APIC's LINT0 or the IO-APIC's pin 0) and
 * {@link #interruptAcknowledge()}, the INTA cycle; devices drive {@link #irq(int)}.
 *
 * <p>Not modelled, and failing loudly: 8080/8085 mode (ICW1 without ICW4, ICW4 bit 0 clear) and a
 * slave ID other than 2. ICW4's buffered-mode bits describe board wiring and are ignored, as the
 * wiring here is fixed. An edge request whose line falls before INTA stays latched (see
 * {@link Pic8259}).
 */
public final class Pic8259Pair {
    public static final int MASTER_COMMAND = 0x20;
    public static final int MASTER_DATA = 0x21;
    public static final int SLAVE_COMMAND = 0xA0;
    public static final int SLAVE_DATA = 0xA1;
    public static final int ELCR_MASTER = 0x4D0;
    public static final int ELCR_SLAVE = 0x4D1;
    /** The master input the slave is cascaded on. */
    public static final int CASCADE_IRQ = 2;

    private final Pic8259 master = new Pic8259("8259A master", true);
    private final Pic8259 slave = new Pic8259("8259A slave", false);
    private final InterruptLine intr;
    private final InterruptLine[] irqs = new InterruptLine[16];
    private boolean intrLevel;

    /** @param intr the master's INT output (to the local APIC's LINT0 in ExtINT mode, or the IO-APIC's pin 0) */
    public Pic8259Pair(InterruptLine intr) {
        this.intr = intr;
        for (int n = 0; n < 16; n++) {
            int irq = n;
            irqs[n] = new InterruptLine() {
                @Override
                public void raise() {
                    setIrq(irq, true);
                }

                @Override
                public void lower() {
                    setIrq(irq, false);
                }
            };
        }
    }

    /** Claims 0x20-0x21, 0xA0-0xA1 and 0x4D0-0x4D1. */
    public void attachTo(PortBus bus) {
        bus.register("pic-master", MASTER_COMMAND, 2, masterPorts);
        bus.register("pic-slave", SLAVE_COMMAND, 2, slavePorts);
        bus.register("elcr", ELCR_MASTER, 2, elcrPorts);
    }

    /** Power-on state of both chips (and ELCR all edge); INTR drops. */
    public void reset() {
        master.reset();
        slave.reset();
        update();
    }

    /**
     * The input line of ISA IRQ {@code n} (0-15). IRQ 2 is the cascade input and has no line of its
     * own: on a PC the ISA bus's IRQ 2 pin is IRQ 9.
     */
    public InterruptLine irq(int n) {
        if (n < 0 || n > 15 || n == CASCADE_IRQ) {
            throw new IllegalArgumentException("8259A: IRQ " + n + " is not an input line (0-15 without the cascade IRQ 2)");
        }
        return irqs[n];
    }

    /** The INTR output: an interrupt is waiting for the CPU's INTA. */
    public boolean intr() {
        return intrLevel;
    }

    /**
     * The INTA cycle: the vector of the highest-priority pending interrupt, which goes in service
     * (or is only acknowledged in auto-EOI mode). With nothing to deliver it returns the spurious
     * IRQ 7 vector of the master, or IRQ 15's of the slave if the master's cascade input won.
     */
    public int interruptAcknowledge() {
        int vector;
        int irq = master.pendingIrq();
        if (irq < 0) {
            vector = master.irqBase + 7;
        } else if (irq == CASCADE_IRQ && master.cascadesOnIr2()) {
            int slaveIrq = slave.pendingIrq();
            if (slaveIrq >= 0) {
                slave.acknowledge(slaveIrq);
                vector = slave.irqBase + slaveIrq;
            } else {
                vector = slave.irqBase + 7;
            }
            master.acknowledge(CASCADE_IRQ);
        } else {
            master.acknowledge(irq);
            vector = master.irqBase + irq;
        }
        update();
        return vector;
    }

    /** IRR, ISR and IMR of both chips, master in bits 7:0, slave in bits 15:8 (for tests and the monitor). */
    public int irr() {
        return master.irr | slave.irr << 8;
    }

    public int isr() {
        return master.isr | slave.isr << 8;
    }

    public int imr() {
        return master.imr | slave.imr << 8;
    }

    /** The vector bases from ICW2. */
    public int masterVectorBase() {
        return master.irqBase;
    }

    public int slaveVectorBase() {
        return slave.irqBase;
    }

    private void setIrq(int irq, boolean level) {
        if (irq < 8) {
            master.setLine(irq, level);
        } else {
            slave.setLine(irq - 8, level);
        }
        update();
    }

    /** The slave's INT output drives the master's IR2; the master's INT output is INTR. */
    private void update() {
        master.setLine(CASCADE_IRQ, slave.pendingIrq() >= 0);
        boolean level = master.pendingIrq() >= 0;
        if (level != intrLevel) {
            intrLevel = level;
            if (level) {
                intr.raise();
            } else {
                intr.lower();
            }
        }
    }

    private final ByteWidePortDevice masterPorts = new ChipPorts(master, MASTER_COMMAND);
    private final ByteWidePortDevice slavePorts = new ChipPorts(slave, SLAVE_COMMAND);
    private final ByteWidePortDevice elcrPorts = new ByteWidePortDevice(ELCR_MASTER, 2) {
        @Override
        int readByte(int port) {
            return (port == ELCR_MASTER ? master : slave).elcr();
        }

        @Override
        void writeByte(int port, int value) {
            (port == ELCR_MASTER ? master : slave).writeElcr(value);
            update();
        }
    };

    /** A chip's command (A0 = 0) and data (A0 = 1) ports. */
    private final class ChipPorts extends ByteWidePortDevice {
        private final Pic8259 chip;

        ChipPorts(Pic8259 chip, int base) {
            super(base, 2);
            this.chip = chip;
        }

        @Override
        int readByte(int port) {
            int value = port == firstPort() ? chip.readCommand() : chip.readData();
            update(); // a poll read acknowledges
            return value;
        }

        @Override
        void writeByte(int port, int value) {
            if (port == firstPort()) {
                chip.writeCommand(value);
            } else {
                chip.writeData(value);
            }
            update();
        }
    }
}
