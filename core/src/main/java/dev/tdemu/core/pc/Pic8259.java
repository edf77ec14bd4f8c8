package dev.tdemu.core.pc;

import dev.tdemu.core.platform.NotModelledException;

/**
 * One Intel 8259A programmable interrupt controller in x86 mode, as {@link Pic8259Pair} wires two
 * of them. Field names follow KVM's {@code kvm_kpic_state}. Interrupt requests are latched in
 * IRR on a rising edge (edge mode) or follow the line (level mode: ELCR or ICW1's LTIM); an edge
 * stays latched until acknowledged even if the line falls first (a real 8259A would answer
 * IRQ 7 then), as in QEMU and KVM, since devices pulse their lines.
 */
final class Pic8259 {
    private final String name;
    private final boolean master;
    /** ELCR bits that may be set: IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge-triggered on a PC. */
    private final int elcrMask;

    int irr;
    int imr;
    int isr;
    /** Input line levels, for edge detection. */
    int lines;
    int elcr;
    int irqBase;
    /** Priority rotation: IRQ {@code priorityAdd} has the highest priority. */
    int priorityAdd;
    boolean readRegSelectIsr;
    boolean poll;
    boolean specialMask;
    /** 0: operational; 1-3: waiting for ICW2, ICW3, ICW4. */
    int initState;
    boolean init4;
    boolean singleMode;
    boolean levelTriggeredMode;
    int icw3;
    boolean autoEoi;
    boolean rotateOnAutoEoi;
    boolean specialFullyNestedMode;

    Pic8259(String name, boolean master) {
        this.name = name;
        this.master = master;
        this.elcrMask = master ? 0xF8 : 0xDE;
        reset();
    }

    /** Power-on: nothing masked, nothing pending, vectors from 0, edge-triggered, no initialisation in progress. */
    void reset() {
        irr = 0;
        imr = 0;
        isr = 0;
        elcr = 0;
        irqBase = 0;
        priorityAdd = 0;
        readRegSelectIsr = false;
        poll = false;
        specialMask = false;
        initState = 0;
        init4 = false;
        singleMode = false;
        levelTriggeredMode = false;
        icw3 = master ? 0x04 : 0x02;
        autoEoi = false;
        rotateOnAutoEoi = false;
        specialFullyNestedMode = false;
    }

    boolean levelTriggered(int irq) {
        return levelTriggeredMode || (elcr & (1 << irq)) != 0;
    }

    /** The line of input {@code irq} is now at {@code level}. */
    void setLine(int irq, boolean level) {
        int mask = 1 << irq;
        boolean was = (lines & mask) != 0;
        if (levelTriggered(irq)) {
            irr = level ? irr | mask : irr & ~mask;
        } else if (level && !was) {
            irr |= mask;
        }
        lines = level ? lines | mask : lines & ~mask;
    }

    /** The highest-priority IRQ that should interrupt now, or -1. */
    int pendingIrq() {
        int requested = priority(irr & ~imr);
        if (requested == 8) {
            return -1;
        }
        int inService = isr;
        if (specialMask) {
            inService &= ~imr; // special mask mode: a masked level in service does not block others
        }
        int served = priority(inService);
        int irq = (requested + priorityAdd) & 7;
        // Special fully nested mode: the slave's cascade input may interrupt its own in-service level.
        boolean nestedSlave = specialFullyNestedMode && master && irq == 2 && served < 8 && ((served + priorityAdd) & 7) == 2;
        return requested < served || nestedSlave ? irq : -1;
    }

    /** The INTA cycle's effect on this chip for {@code irq}. */
    void acknowledge(int irq) {
        if (autoEoi) {
            if (rotateOnAutoEoi) {
                priorityAdd = (irq + 1) & 7;
            }
        } else {
            isr |= 1 << irq;
        }
        if (!levelTriggered(irq)) {
            irr &= ~(1 << irq); // a level-triggered request stays in IRR while its line is high
        }
    }

    /** Priority number (0 highest) of the highest-priority bit in {@code mask}, 8 for none. */
    private int priority(int mask) {
        if ((mask & 0xFF) == 0) {
            return 8;
        }
        int p = 0;
        while ((mask & (1 << ((p + priorityAdd) & 7))) == 0) {
            p++;
        }
        return p;
    }

    int readCommand() {
        if (poll) {
            poll = false;
            int irq = pendingIrq();
            if (irq < 0) {
                return 0;
            }
            acknowledge(irq);
            return 0x80 | irq;
        }
        return readRegSelectIsr ? isr : irr;
    }

    int readData() {
        return imr;
    }

    void writeCommand(int value) {
        if ((value & 0x10) != 0) {
            icw1(value);
        } else if ((value & 0x08) != 0) {
            ocw3(value);
        } else {
            ocw2(value);
        }
    }

    void writeData(int value) {
        switch (initState) {
            case 1 -> {
                irqBase = value & 0xF8; // ICW2: T7-T3
                initState = singleMode ? (init4 ? 3 : 0) : 2;
            }
            case 2 -> {
                if (!master && (value & 0x07) != 2) {
                    throw new NotModelledException(name, String.format("slave ID %d in ICW3 (a PC cascades the slave on IR2)", value & 7));
                }
                icw3 = value;
                initState = init4 ? 3 : 0;
            }
            case 3 -> {
                if ((value & 0x01) == 0) {
                    throw new NotModelledException(name, "8080/8085 mode (ICW4 bit 0 clear)");
                }
                autoEoi = (value & 0x02) != 0;
                // Bits 2-3 (buffered mode, master/slave) describe the board's wiring, which is fixed here.
                specialFullyNestedMode = (value & 0x10) != 0;
                initState = 0;
            }
            default -> imr = value; // OCW1
        }
    }

    private void icw1(int value) {
        if ((value & 0x01) == 0) {
            throw new NotModelledException(name, "ICW1 without ICW4 (8080/8085 mode)");
        }
        // Bit 2 (ADI) only matters in 8080 mode.
        init4 = true;
        singleMode = (value & 0x02) != 0;
        levelTriggeredMode = (value & 0x08) != 0;
        // ICW1 clears IMR and ISR, resets the edge-sense latches (a line already high must fall and
        // rise again), gives IR7 the lowest priority and leaves special mask mode; IRR is read.
        imr = 0;
        isr = 0;
        priorityAdd = 0;
        specialMask = false;
        readRegSelectIsr = false;
        poll = false;
        autoEoi = false;
        rotateOnAutoEoi = false;
        specialFullyNestedMode = false;
        int level = 0;
        for (int irq = 0; irq < 8; irq++) {
            level |= levelTriggered(irq) ? 1 << irq : 0;
        }
        irr = lines & level;
        initState = 1;
    }

    private void ocw2(int value) {
        int level = value & 0x07;
        switch (value >>> 5) {
            case 0b000 -> rotateOnAutoEoi = false;
            case 0b100 -> rotateOnAutoEoi = true;
            case 0b001, 0b101 -> { // non-specific EOI, optionally rotating
                int p = priority(isr);
                if (p < 8) {
                    int irq = (p + priorityAdd) & 7;
                    isr &= ~(1 << irq);
                    if ((value >>> 5) == 0b101) {
                        priorityAdd = (irq + 1) & 7;
                    }
                }
            }
            case 0b011 -> isr &= ~(1 << level); // specific EOI
            case 0b111 -> { // rotate on specific EOI
                isr &= ~(1 << level);
                priorityAdd = (level + 1) & 7;
            }
            case 0b110 -> priorityAdd = (level + 1) & 7; // set priority: L2-L0 becomes the lowest
            default -> { } // 0b010: no operation
        }
    }

    private void ocw3(int value) {
        if ((value & 0x04) != 0) {
            poll = true;
        }
        if ((value & 0x02) != 0) {
            readRegSelectIsr = (value & 0x01) != 0;
        }
        if ((value & 0x40) != 0) {
            specialMask = (value & 0x20) != 0;
        }
    }

    int elcr() {
        return elcr;
    }

    void writeElcr(int value) {
        elcr = value & elcrMask;
        // A line switched to level triggering requests exactly while it is high.
        for (int irq = 0; irq < 8; irq++) {
            if (levelTriggered(irq)) {
                int mask = 1 << irq;
                irr = (lines & mask) != 0 ? irr | mask : irr & ~mask;
            }
        }
    }

    /** Whether IR2 has the slave on it (ICW3 bit 2 of a master not in single mode). */
    boolean cascadesOnIr2() {
        return master && !singleMode && (icw3 & 0x04) != 0;
    }
}
