package dev.tdemu.core.pc;

import dev.tdemu.core.platform.Clock;
import dev.tdemu.core.platform.InterruptLine;
import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.platform.PortBus;
import dev.tdemu.core.platform.TimedDevice;

/**
 * A National/TI 16550A UART as a PC's COM port (COM1: ports 0x3F8-0x3FF, IRQ 4), with register
 * names from Linux's {@code serial_reg.h}.
 *
 * <p>Models every register: RBR/THR, IER, IIR/FCR (16-byte receive FIFO, trigger levels 1/4/8/14,
 * FIFO bits in IIR, the interrupt priorities line status &gt; received data / character timeout
 * &gt; THR empty &gt; modem status), LCR with DLAB over DLL/DLM, MCR (loopback: the transmitter
 * feeds the receiver and MSR follows RTS/DTR/OUT1/OUT2; OUT2 gates the interrupt to the PIC as
 * a PC's board does, and loopback forces the OUT2 pin inactive), LSR, MSR (delta bits cleared on
 * read), SCR. Transmission is instantaneous: a byte written to THR goes straight to the
 * {@link Output} (or to the receiver in loopback), so THRE and TEMT always read 1, and THR-empty
 * is pending again right after the write, with a fresh edge on the interrupt line. The
 * character timeout fires four character times (from the divisor and LCR) after the last FIFO
 * activity, on the {@link Clock}. Host input arrives through {@link #receive}; the emulator
 * keeps to {@link #receiveRoom} (told by {@link #onReceiveRoom}) and nothing is lost, while a
 * byte sent without room overruns (OE) as on the wire.
 *
 * <p>LCR's word length, parity and stop bits only set the character time: bytes pass whole in
 * both directions whatever the word length, as in QEMU, because a multiboot kernel may print
 * before it programs LCR (reset leaves 5-bit words), which on a PC its BIOS would have done.
 * Not modelled: parity, framing and break errors (host bytes arrive intact, so PE, FE, BI and
 * LSR bit 7 stay 0); the transmit FIFO (nothing waits in it); DMA mode (FCR bit 3 is kept, the
 * PC does not wire RXRDY/TXRDY). A break set in LCR is not visible in a byte stream, so it is
 * ignored outside loopback; in loopback the receiver would see it, which fails loudly.
 */
public final class Uart16550 extends ByteWidePortDevice implements TimedDevice {
    /** COM1's first port and IRQ on a PC. */
    public static final int COM1 = 0x3F8;
    public static final int COM1_IRQ = 4;
    /** Registers per UART. */
    public static final int PORTS = 8;
    /** Receive FIFO depth with FIFOs enabled (a 16450-style holding register of 1 without). */
    public static final int FIFO_SIZE = 16;

    /** Where transmitted bytes go (the emulator connects stdout). */
    @FunctionalInterface
    public interface Output {
        void transmit(byte b);
    }

    // Register offsets.
    static final int UART_RX = 0; // RBR (read, DLAB=0)
    static final int UART_TX = 0; // THR (write, DLAB=0)
    static final int UART_DLL = 0; // DLAB=1
    static final int UART_IER = 1;
    static final int UART_DLM = 1; // DLAB=1
    static final int UART_IIR = 2; // read
    static final int UART_FCR = 2; // write
    static final int UART_LCR = 3;
    static final int UART_MCR = 4;
    static final int UART_LSR = 5;
    static final int UART_MSR = 6;
    static final int UART_SCR = 7;

    static final int UART_IER_RDI = 0x01;
    static final int UART_IER_THRI = 0x02;
    static final int UART_IER_RLSI = 0x04;
    static final int UART_IER_MSI = 0x08;

    static final int UART_IIR_NO_INT = 0x01;
    static final int UART_IIR_MSI = 0x00;
    static final int UART_IIR_THRI = 0x02;
    static final int UART_IIR_RDI = 0x04;
    static final int UART_IIR_RLSI = 0x06;
    static final int UART_IIR_RX_TIMEOUT = 0x0C;
    static final int UART_IIR_FIFO_ENABLED = 0xC0;

    static final int UART_FCR_ENABLE_FIFO = 0x01;
    static final int UART_FCR_CLEAR_RCVR = 0x02;
    static final int UART_FCR_CLEAR_XMIT = 0x04;
    static final int UART_FCR_DMA_SELECT = 0x08;

    static final int UART_LCR_DLAB = 0x80;
    static final int UART_LCR_SBC = 0x40;
    static final int UART_LCR_PARITY = 0x08;
    static final int UART_LCR_STOP = 0x04;

    static final int UART_MCR_DTR = 0x01;
    static final int UART_MCR_RTS = 0x02;
    static final int UART_MCR_OUT1 = 0x04;
    static final int UART_MCR_OUT2 = 0x08;
    static final int UART_MCR_LOOP = 0x10;

    static final int UART_LSR_DR = 0x01;
    static final int UART_LSR_OE = 0x02;
    static final int UART_LSR_THRE = 0x20;
    static final int UART_LSR_TEMT = 0x40;
    static final int UART_LSR_BRK_ERROR_BITS = 0x1E; // OE | PE | FE | BI

    static final int UART_MSR_DCTS = 0x01;
    static final int UART_MSR_DDSR = 0x02;
    static final int UART_MSR_TERI = 0x04;
    static final int UART_MSR_DDCD = 0x08;
    static final int UART_MSR_CTS = 0x10;
    static final int UART_MSR_DSR = 0x20;
    static final int UART_MSR_RI = 0x40;
    static final int UART_MSR_DCD = 0x80;

    /** The PC's UART crystal: 1.8432 MHz, baud = 115200 / divisor. */
    static final long CRYSTAL_HZ = 1_843_200;
    private static final int[] TRIGGER_LEVELS = {1, 4, 8, 14};

    private final InterruptLine irq;
    private final Clock clock;
    private final Output output;
    private Runnable roomListener = () -> { };

    private int ier;
    private int lcr;
    private int mcr;
    private int scr;
    private int divisor;
    private boolean fifoEnabled;
    private int fcrKept; // trigger level and DMA mode bits
    private int lineStatusErrors; // OE (PE, FE, BI never set)
    private boolean thrEmptyPending;
    private boolean timeoutPending;
    private long lastFifoActivity;
    private int lastReceived;
    private final byte[] rx = new byte[FIFO_SIZE];
    private int rxHead;
    private int rxCount;
    /** CTS, DSR, RI, DCD as the external side drives them (MSR bits 7:4). */
    private int externalModemInputs = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
    private int modemInputs;
    private int modemDeltas;
    private boolean irqLevel;

    /** A UART at {@code base} (8 ports) raising {@code irq}, sending to {@code output}. */
    public Uart16550(int base, InterruptLine irq, Clock clock, Output output) {
        super(base, PORTS);
        this.irq = irq;
        this.clock = clock;
        this.output = output;
        reset();
    }

    /** COM1 as on a PC. */
    public static Uart16550 com1(InterruptLine irq4, Clock clock, Output output) {
        return new Uart16550(COM1, irq4, clock, output);
    }

    /** Claims the UART's eight ports. */
    public void attachTo(PortBus bus, String name) {
        bus.register(name, firstPort(), PORTS, this);
    }

    /** Called when {@link #receiveRoom} goes from 0 to more (the guest read a byte, left loopback, enabled the FIFO). */
    public void onReceiveRoom(Runnable listener) {
        this.roomListener = listener;
    }

    /** Master reset: the register values the 16550A datasheet gives; the divisor becomes 12 (9600 baud) as in QEMU. */
    public void reset() {
        ier = 0;
        lcr = 0;
        mcr = 0;
        scr = 0;
        divisor = 12;
        fifoEnabled = false;
        fcrKept = 0;
        lineStatusErrors = 0;
        thrEmptyPending = false;
        timeoutPending = false;
        lastFifoActivity = clock.nanos();
        lastReceived = 0;
        rxHead = 0;
        rxCount = 0;
        modemInputs = externalModemInputs;
        modemDeltas = 0;
        updateIrq();
    }

    // ---- host side ----

    /** How many bytes {@link #receive} takes now without an overrun: free FIFO slots, 0 in loopback (the input pin is disconnected). */
    public int receiveRoom() {
        return loopback() ? 0 : capacity() - rxCount;
    }

    /**
     * Bytes arriving on the serial input. A byte with no room
     * overruns as on the wire: OE is set and the byte is lost (the FIFO keeps its contents; without
     * FIFOs the holding register takes the new byte). In loopback the input pin is disconnected and
     * the bytes are ignored.
     */
    public void receive(byte... bytes) {
        if (loopback()) {
            return;
        }
        for (byte b : bytes) {
            receiveByte(b);
        }
        updateIrq();
    }

    /** Sets the modem-status inputs (CTS, DSR, RI, DCD) the external side drives; changes set MSR's delta bits. */
    public void setModemInputs(boolean cts, boolean dsr, boolean ri, boolean dcd) {
        externalModemInputs = (cts ? UART_MSR_CTS : 0) | (dsr ? UART_MSR_DSR : 0) | (ri ? UART_MSR_RI : 0)
                | (dcd ? UART_MSR_DCD : 0);
        refreshModemInputs();
        updateIrq();
    }

    /** Whether the interrupt line to the PIC is asserted now. */
    public boolean interruptAsserted() {
        return irqLevel;
    }

    // ---- guest side ----

    @Override
    int readByte(int port) {
        int roomBefore = receiveRoom();
        int value = switch (port - firstPort()) {
            case UART_RX -> dlab() ? divisor & 0xFF : readRbr();
            case UART_IER -> dlab() ? divisor >>> 8 : ier;
            case UART_IIR -> readIir();
            case UART_LCR -> lcr;
            case UART_MCR -> mcr;
            case UART_LSR -> readLsr();
            case UART_MSR -> readMsr();
            default -> scr;
        };
        updateIrq();
        tellRoom(roomBefore);
        return value;
    }

    @Override
    void writeByte(int port, int value) {
        int roomBefore = receiveRoom();
        switch (port - firstPort()) {
            case UART_TX -> {
                if (dlab()) {
                    divisor = (divisor & 0xFF00) | value;
                } else {
                    writeThr(value);
                }
            }
            case UART_IER -> {
                if (dlab()) {
                    divisor = (divisor & 0x00FF) | (value << 8);
                } else {
                    writeIer(value);
                }
            }
            case UART_FCR -> writeFcr(value);
            case UART_LCR -> writeLcr(value);
            case UART_MCR -> {
                mcr = value & 0x1F;
                refreshModemInputs();
                checkBreak();
            }
            case UART_LSR, UART_MSR -> { } // read-only on the 16550A: the write has no effect
            default -> scr = value;
        }
        updateIrq();
        tellRoom(roomBefore);
    }

    private int readRbr() {
        if (rxCount > 0) {
            lastReceived = rx[rxHead] & 0xFF;
            rxHead = (rxHead + 1) % FIFO_SIZE;
            rxCount--;
        }
        // A read restarts the timeout clock and clears a character timeout.
        lastFifoActivity = clock.nanos();
        timeoutPending = false;
        return lastReceived;
    }

    private int readIir() {
        int id = interruptId();
        if (id == UART_IIR_THRI) {
            thrEmptyPending = false; // reading IIR while it names THR empty acknowledges it
        }
        return id | (fifoEnabled ? UART_IIR_FIFO_ENABLED : 0);
    }

    private int readLsr() {
        int lsr = (rxCount > 0 ? UART_LSR_DR : 0) | lineStatusErrors | UART_LSR_THRE | UART_LSR_TEMT;
        lineStatusErrors = 0; // OE (and PE, FE, BI) clear on read
        return lsr;
    }

    private int readMsr() {
        int msr = modemInputs | modemDeltas;
        modemDeltas = 0;
        return msr;
    }

    private void writeThr(int value) {
        // Writing THR acknowledges THR empty (the line drops), the byte leaves at once, THR is empty again.
        thrEmptyPending = false;
        updateIrq();
        if (loopback()) {
            receiveByte((byte) value);
        } else {
            output.transmit((byte) value);
        }
        thrEmptyPending = true;
    }

    private void writeIer(int value) {
        int old = ier;
        ier = value & 0x0F;
        if ((ier & UART_IER_THRI) != 0 && (old & UART_IER_THRI) == 0) {
            thrEmptyPending = true; // enabling THRI with THR empty interrupts at once, as on a real 16550A
        }
    }

    private void writeFcr(int value) {
        boolean enable = (value & UART_FCR_ENABLE_FIFO) != 0;
        if (enable != fifoEnabled) {
            clearReceiveFifo(); // switching modes clears both FIFOs
        }
        fifoEnabled = enable;
        if (!enable) {
            fcrKept = 0; // the other bits are only programmed together with FIFO enable
            return;
        }
        if ((value & UART_FCR_CLEAR_RCVR) != 0) {
            clearReceiveFifo();
        }
        // UART_FCR_CLEAR_XMIT: the transmit FIFO is always empty.
        fcrKept = value & (0xC0 | UART_FCR_DMA_SELECT);
    }

    private void writeLcr(int value) {
        lcr = value;
        checkBreak();
    }

    private void checkBreak() {
        if ((lcr & UART_LCR_SBC) != 0 && loopback()) {
            throw new NotModelledException("16550A UART", "a break looped back to the receiver (LCR bit 6 in loopback)");
        }
    }

    private void receiveByte(byte value) {
        if (rxCount < capacity()) {
            rx[(rxHead + rxCount) % FIFO_SIZE] = value;
            rxCount++;
        } else {
            lineStatusErrors |= UART_LSR_OE;
            if (!fifoEnabled) {
                rx[rxHead] = value; // the 16450-style holding register is overwritten
            }
        }
        lastFifoActivity = clock.nanos();
    }

    private void clearReceiveFifo() {
        rxHead = 0;
        rxCount = 0;
        timeoutPending = false;
    }

    private void refreshModemInputs() {
        int now = loopback() ? loopbackModemInputs() : externalModemInputs;
        int changed = now ^ modemInputs;
        int deltas = (changed & UART_MSR_CTS) != 0 ? UART_MSR_DCTS : 0;
        deltas |= (changed & UART_MSR_DSR) != 0 ? UART_MSR_DDSR : 0;
        deltas |= (changed & UART_MSR_DCD) != 0 ? UART_MSR_DDCD : 0;
        deltas |= (changed & UART_MSR_RI) != 0 && (now & UART_MSR_RI) == 0 ? UART_MSR_TERI : 0; // trailing edge only
        modemDeltas |= deltas;
        modemInputs = now;
    }

    /** In loopback RTS drives CTS, DTR drives DSR, OUT1 drives RI and OUT2 drives DCD. */
    private int loopbackModemInputs() {
        return ((mcr & UART_MCR_RTS) != 0 ? UART_MSR_CTS : 0) | ((mcr & UART_MCR_DTR) != 0 ? UART_MSR_DSR : 0)
                | ((mcr & UART_MCR_OUT1) != 0 ? UART_MSR_RI : 0) | ((mcr & UART_MCR_OUT2) != 0 ? UART_MSR_DCD : 0);
    }

    /** IIR bits 3:0: the highest-priority pending interrupt that IER enables. */
    private int interruptId() {
        if ((ier & UART_IER_RLSI) != 0 && (lineStatusErrors & UART_LSR_BRK_ERROR_BITS) != 0) {
            return UART_IIR_RLSI;
        }
        if ((ier & UART_IER_RDI) != 0) {
            if (fifoEnabled && timeoutPending) {
                return UART_IIR_RX_TIMEOUT;
            }
            if (rxCount > 0 && (!fifoEnabled || rxCount >= triggerLevel())) {
                return UART_IIR_RDI;
            }
        }
        if ((ier & UART_IER_THRI) != 0 && thrEmptyPending) {
            return UART_IIR_THRI;
        }
        if ((ier & UART_IER_MSI) != 0 && modemDeltas != 0) {
            return UART_IIR_MSI;
        }
        return UART_IIR_NO_INT;
    }

    private void updateIrq() {
        // A PC's board drives IRQ 4 only while OUT2 is active; loopback forces the OUT2 pin inactive.
        boolean level = interruptId() != UART_IIR_NO_INT && (mcr & UART_MCR_OUT2) != 0 && !loopback();
        if (level != irqLevel) {
            irqLevel = level;
            if (level) {
                irq.raise();
            } else {
                irq.lower();
            }
        }
    }

    private void tellRoom(int roomBefore) {
        if (roomBefore == 0 && receiveRoom() > 0) {
            roomListener.run();
        }
    }

    // ---- character timeout ----

    @Override
    public long nextDeadline() {
        long charTime = characterTimeNanos();
        if (!fifoEnabled || rxCount == 0 || timeoutPending || charTime == 0) {
            return Long.MAX_VALUE;
        }
        return lastFifoActivity + 4 * charTime;
    }

    @Override
    public void expire(long now) {
        if (now >= nextDeadline()) {
            timeoutPending = true;
            updateIrq();
        }
    }

    /** One character on the wire (start, data, parity, stop bits) at the divisor's baud rate; 0 with divisor 0 (no baud clock). */
    long characterTimeNanos() {
        if (divisor == 0) {
            return 0;
        }
        int bits = 1 + 5 + (lcr & 0x03) + ((lcr & UART_LCR_PARITY) != 0 ? 1 : 0) + ((lcr & UART_LCR_STOP) != 0 ? 2 : 1);
        return bits * 16L * divisor * 1_000_000_000L / CRYSTAL_HZ;
    }

    private boolean dlab() {
        return (lcr & UART_LCR_DLAB) != 0;
    }

    private boolean loopback() {
        return (mcr & UART_MCR_LOOP) != 0;
    }

    private int capacity() {
        return fifoEnabled ? FIFO_SIZE : 1;
    }

    private int triggerLevel() {
        return TRIGGER_LEVELS[fcrKept >>> 6];
    }
}
