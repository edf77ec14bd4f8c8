package dev.tdemu.core.pc;

import dev.tdemu.core.platform.ManualClock;
import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.platform.PortBus;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Uart16550Test {
    private static final int RBR = 0x3F8, THR = 0x3F8, DLL = 0x3F8, IER = 0x3F9, DLM = 0x3F9, IIR = 0x3FA, FCR = 0x3FA,
            LCR = 0x3FB, MCR = 0x3FC, LSR = 0x3FD, MSR = 0x3FE, SCR = 0x3FF;

    private final ManualClock clock = new ManualClock();
    private final RecordingLine irq = new RecordingLine();
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    private final Uart16550 uart = Uart16550.com1(irq, clock, sent::write);

    private int in(int port) {
        return (int) uart.in(port, 1);
    }

    private void out(int port, int value) {
        uart.out(port, 1, value);
    }

    @Test
    void everyByteWrittenToThrReachesTheOutputUnchanged() {
        out(LCR, 0x03); // 8N1
        for (int b = 0; b < 256; b++) {
            out(THR, b);
        }
        byte[] expected = new byte[256];
        for (int b = 0; b < 256; b++) {
            expected[b] = (byte) b;
        }
        assertArrayEquals(expected, sent.toByteArray());
    }

    @Test
    void transmissionIsInstantSoThrEmptyAndTransmitterEmptyAlwaysRead1() {
        assertEquals(0x60, in(LSR));
        out(THR, 'x');
        assertEquals(0x60, in(LSR) & 0x60);
    }

    @Test
    void dlabSwitchesOffsets0And1ToTheDivisorLatch() {
        out(LCR, 0x83);
        out(DLL, 0x01);
        out(DLM, 0x02);
        assertEquals(0x01, in(DLL));
        assertEquals(0x02, in(DLM));
        assertEquals(0, sent.size(), "a DLL write is not a transmission");
        out(LCR, 0x03);
        assertEquals(0x00, in(IER), "IER was not touched by the DLM write");
        out(IER, 0x05);
        assertEquals(0x05, in(IER));
        out(LCR, 0x83);
        assertEquals(0x0201, in(DLL) | in(DLM) << 8, "the divisor survives DLAB=0");
    }

    @Test
    void ierKeepsOnlyItsFourEnableBits() {
        out(IER, 0xFF);
        assertEquals(0x0F, in(IER));
    }

    @Test
    void aReceivedByteSetsDataReadyUntilRbrIsRead() {
        uart.receive((byte) 'k');
        assertEquals(0x01, in(LSR) & 0x01);
        assertEquals('k', in(RBR));
        assertEquals(0x00, in(LSR) & 0x01);
    }

    @Test
    void withoutFifosASecondByteOverrunsAndReplacesTheHoldingRegister() {
        uart.receive((byte) 'a', (byte) 'b');
        int lsr = in(LSR);
        assertEquals(0x03, lsr & 0x03, "DR and OE");
        assertEquals(0x00, in(LSR) & 0x02, "OE clears when LSR is read");
        assertEquals('b', in(RBR));
    }

    @Test
    void withFifosSixteenBytesFitAndTheSeventeenthOverrunsWithoutTouchingTheFifo() {
        out(FCR, 0x01);
        for (int i = 0; i < 17; i++) {
            uart.receive((byte) ('A' + i));
        }
        assertEquals(0x02, in(LSR) & 0x02);
        StringBuilder got = new StringBuilder();
        while ((in(LSR) & 0x01) != 0) {
            got.append((char) in(RBR));
        }
        assertEquals("ABCDEFGHIJKLMNOP", got.toString());
    }

    @Test
    void receiveRoomIsTheFreeFifoSpaceAndZeroInLoopback() {
        assertEquals(1, uart.receiveRoom());
        uart.receive((byte) 1);
        assertEquals(0, uart.receiveRoom());
        out(FCR, 0x01); // switching modes clears the FIFO
        assertEquals(16, uart.receiveRoom());
        uart.receive(new byte[5]);
        assertEquals(11, uart.receiveRoom());
        out(MCR, 0x10);
        assertEquals(0, uart.receiveRoom());
    }

    @Test
    void theRoomListenerHearsWhenAFullFifoGetsRoomAgain() {
        int[] calls = {0};
        uart.onReceiveRoom(() -> calls[0]++);
        uart.receive((byte) 1);
        assertEquals(0, calls[0]);
        in(LSR);
        assertEquals(0, calls[0], "still full");
        in(RBR);
        assertEquals(1, calls[0]);
        in(RBR);
        assertEquals(1, calls[0], "told only on the way from full to not full");
        out(MCR, 0x10);
        out(MCR, 0x00);
        assertEquals(2, calls[0], "leaving loopback reconnects the input");
    }

    @Test
    void loopbackIgnoresBytesFromTheHost() {
        out(MCR, 0x10);
        uart.receive((byte) 'z');
        assertEquals(0, in(LSR) & 0x01);
    }

    @Test
    void iirShowsTheFifoBitsOnlyWithFifosEnabled() {
        assertEquals(0x01, in(IIR));
        out(FCR, 0x01);
        assertEquals(0xC1, in(IIR));
        out(FCR, 0x00);
        assertEquals(0x01, in(IIR));
    }

    @Test
    void fcrReceiverClearEmptiesTheFifo() {
        out(FCR, 0x01);
        uart.receive(new byte[]{1, 2, 3});
        out(FCR, 0x03);
        assertEquals(0, in(LSR) & 0x01);
        assertEquals(0xC1, in(IIR), "the FIFO stays enabled");
    }

    @Test
    void fcrBitsOtherThanEnableAreOnlyProgrammedTogetherWithIt() {
        out(MCR, 0x08);
        out(IER, 0x01);
        out(FCR, 0xC0); // trigger 14 without FIFO enable: not programmed, FIFOs stay off
        uart.receive((byte) 1);
        assertEquals(0x04, in(IIR), "16450 mode: one byte is received data");
    }

    @Test
    void receivedDataInterruptWaitsForTheTriggerLevel() {
        out(MCR, 0x08);
        out(IER, 0x01);
        out(FCR, 0x81); // trigger level 8
        uart.receive(new byte[7]);
        assertEquals(0xC1, in(IIR));
        assertFalse(irq.high);
        uart.receive((byte) 0);
        assertEquals(0xC4, in(IIR));
        assertTrue(irq.high);
        in(RBR);
        assertEquals(0xC1, in(IIR), "below the trigger level again");
        assertFalse(irq.high);
    }

    @Test
    void triggerLevelsAre1_4_8_14() {
        int[] levels = {1, 4, 8, 14};
        for (int t = 0; t < 4; t++) {
            uart.reset();
            out(IER, 0x01);
            out(FCR, t << 6 | 0x01);
            uart.receive(new byte[levels[t] - 1]);
            assertEquals(0xC1, in(IIR), "trigger " + levels[t]);
            uart.receive((byte) 0);
            assertEquals(0xC4, in(IIR), "trigger " + levels[t]);
        }
    }

    @Test
    void characterTimeoutFiresFourCharacterTimesAfterTheLastFifoActivity() {
        out(LCR, 0x83);
        out(DLL, 1); // 115200 baud
        out(DLM, 0);
        out(LCR, 0x03); // 8N1: 10 bits = 86,805 ns
        out(MCR, 0x08);
        out(IER, 0x01);
        out(FCR, 0xC1); // trigger 14
        clock.set(1_000_000);
        uart.receive(new byte[]{'h', 'i'});
        long deadline = uart.nextDeadline();
        assertEquals(1_000_000 + 4 * 86_805, deadline);
        clock.set(deadline - 1);
        uart.expire(deadline - 1);
        assertEquals(0xC1, in(IIR), "not yet");
        clock.set(deadline);
        uart.expire(deadline);
        assertEquals(0xCC, in(IIR));
        assertTrue(irq.high);
        assertEquals('h', in(RBR));
        assertEquals(0xC1, in(IIR), "a read clears the timeout and restarts its clock");
        assertFalse(irq.high);
        assertEquals(deadline + 4 * 86_805, uart.nextDeadline());
    }

    @Test
    void noCharacterTimeoutWithoutFifosOrWithAnEmptyFifo() {
        uart.receive((byte) 1);
        assertEquals(Long.MAX_VALUE, uart.nextDeadline(), "16450 mode has no timeout");
        out(FCR, 0x01);
        assertEquals(Long.MAX_VALUE, uart.nextDeadline(), "empty FIFO");
    }

    @Test
    void characterTimeCountsStartDataParityAndStopBits() {
        out(LCR, 0x80);
        out(DLL, 12); // 9600 baud
        out(LCR, 0x0F); // 8 data, 2 stop, parity: 12 bits
        assertEquals(12L * 16 * 12 * 1_000_000_000L / 1_843_200, uart.characterTimeNanos());
        out(LCR, 0x80);
        out(DLL, 0);
        out(LCR, 0x03);
        assertEquals(0, uart.characterTimeNanos(), "divisor 0 stops the baud clock");
    }

    @Test
    void lineStatusInterruptTakesPriorityOverReceivedDataAndClearsWhenLsrIsRead() {
        out(MCR, 0x08);
        out(IER, 0x05);
        uart.receive((byte) 1, (byte) 2); // overrun in 16450 mode
        assertEquals(0x06, in(IIR));
        in(LSR);
        assertEquals(0x04, in(IIR));
    }

    @Test
    void interruptPrioritiesAreLineStatusThenReceivedDataThenThrEmptyThenModemStatus() {
        out(MCR, 0x08);
        out(IER, 0x0F); // THR empty pending from here
        uart.setModemInputs(false, true, false, true); // CTS drops: modem status pending
        uart.receive((byte) 1, (byte) 2); // data and overrun
        assertEquals(0x06, in(IIR));
        in(LSR);
        assertEquals(0x04, in(IIR));
        in(RBR);
        assertEquals(0x02, in(IIR)); // this read acknowledges THR empty
        assertEquals(0x00, in(IIR));
        assertEquals(0x01, in(MSR) & 0x0F, "delta CTS");
        assertEquals(0x01, in(IIR));
        assertFalse(irq.high);
    }

    @Test
    void enablingThrEmptyWithThrEmptyRaisesTheInterruptAndReadingIirAcknowledgesIt() {
        out(MCR, 0x08);
        out(IER, 0x02);
        assertTrue(irq.high);
        assertEquals(0x02, in(IIR));
        assertFalse(irq.high);
        assertEquals(0x01, in(IIR));
    }

    @Test
    void onlyTheEnablingWriteOfIerRaisesThrEmpty() {
        out(MCR, 0x08);
        out(IER, 0x02);
        in(IIR);
        out(IER, 0x02);
        assertEquals(0x01, in(IIR), "THRI was already enabled");
        out(IER, 0x00);
        out(IER, 0x02);
        assertEquals(0x02, in(IIR));
    }

    @Test
    void eachWriteToThrGivesAFreshThrEmptyEdge() {
        out(MCR, 0x08);
        out(IER, 0x02);
        assertEquals(1, irq.rises);
        out(THR, 'a'); // pending THRI not acknowledged: the write drops the line, the empty THR raises it
        assertEquals(2, irq.rises);
        assertTrue(irq.high);
        in(IIR);
        out(THR, 'b');
        assertEquals(3, irq.rises);
        assertEquals("ab", sent.toString());
    }

    @Test
    void out2GatesTheInterruptToThePic() {
        out(IER, 0x02);
        assertEquals(0x02, in(IIR) & 0x0F);
        assertFalse(irq.high, "OUT2 off");
        out(IER, 0x00);
        out(IER, 0x02);
        out(MCR, 0x08);
        assertTrue(irq.high);
        out(MCR, 0x00);
        assertFalse(irq.high);
    }

    @Test
    void loopbackSendsTransmittedBytesToTheReceiverNotTheOutput() {
        out(MCR, 0x10);
        out(THR, 'q');
        assertEquals(0, sent.size());
        assertEquals(0x01, in(LSR) & 0x01);
        assertEquals('q', in(RBR));
    }

    @Test
    void loopbackModemStatusFollowsMcrAndSetsDeltaBits() {
        assertEquals(0xB0, in(MSR), "outside loopback: CTS, DSR, DCD of the connected host");
        out(MCR, 0x10 | 0x0A); // loop, RTS, OUT2 -> CTS, DCD
        assertEquals(0x90 | 0x02, in(MSR), "CTS and DCD; DSR dropped (delta DSR)");
        assertEquals(0x90, in(MSR), "deltas clear on read");
        out(MCR, 0x10 | 0x05); // DTR, OUT1 -> DSR, RI
        assertEquals(0x60 | 0x0B, in(MSR), "delta CTS, DSR, DCD; RI rose (no trailing edge)");
        out(MCR, 0x10 | 0x01);
        assertEquals(0x20 | 0x04, in(MSR), "RI fell: trailing edge");
    }

    @Test
    void loopbackKeepsTheInterruptFromThePicBecauseTheOut2PinIsForcedInactive() {
        out(MCR, 0x18);
        out(IER, 0x02);
        assertEquals(0x02, in(IIR) & 0x0F, "the UART itself has the interrupt pending");
        out(IER, 0x00);
        out(IER, 0x02);
        assertFalse(irq.high);
        out(MCR, 0x08);
        assertTrue(irq.high);
    }

    @Test
    void modemStatusInterruptOnAnInputChangeClearsWhenMsrIsRead() {
        out(MCR, 0x08);
        out(IER, 0x08);
        assertFalse(irq.high);
        uart.setModemInputs(true, true, true, true);
        assertFalse(irq.high, "a rising RI is not a modem-status event");
        uart.setModemInputs(true, false, true, true);
        assertTrue(irq.high);
        assertEquals(0x00, in(IIR));
        assertEquals(0xD2, in(MSR), "CTS, RI, DCD and delta DSR");
        assertFalse(irq.high);
    }

    @Test
    void bytesPassWholeWhateverTheWordLength() {
        out(LCR, 0x00); // the reset value: 5 data bits
        out(THR, 0xFF);
        assertEquals(0xFF, sent.toByteArray()[0] & 0xFF);
        uart.receive((byte) 0xC1);
        assertEquals(0xC1, in(RBR));
    }

    @Test
    void scratchRegisterHoldsAByte() {
        out(SCR, 0xA5);
        assertEquals(0xA5, in(SCR));
    }

    @Test
    void lsrAndMsrIgnoreWrites() {
        out(LSR, 0xFF);
        out(MSR, 0xFF);
        assertEquals(0x60, in(LSR));
        assertEquals(0xB0, in(MSR));
    }

    @Test
    void resetRestoresTheDatasheetValues() {
        out(LCR, 0x9F);
        out(MCR, 0x1F);
        out(SCR, 1);
        out(FCR, 0x01);
        uart.reset();
        assertEquals(0x00, in(IER));
        assertEquals(0x01, in(IIR));
        assertEquals(0x00, in(LCR));
        assertEquals(0x00, in(MCR));
        assertEquals(0x60, in(LSR));
        assertEquals(0xB0, in(MSR));
    }

    @Test
    void aBreakLoopedBackToTheReceiverFailsLoudly() {
        out(MCR, 0x10);
        NotModelledException e = assertThrows(NotModelledException.class, () -> out(LCR, 0x43));
        assertTrue(e.getMessage().contains("break"), e.getMessage());
    }

    @Test
    void aBreakOnTheLineIsAcceptedOutsideLoopback() {
        out(LCR, 0x43);
        assertEquals(0x43, in(LCR));
    }

    @Test
    void aWideAccessIsSplitIntoByteCyclesAtConsecutivePorts() {
        PortBus bus = new PortBus();
        uart.attachTo(bus, "com1");
        bus.out(LCR, 2, 0x0B03); // LCR = 0x03, MCR = 0x0B
        assertEquals(0x03, in(LCR));
        assertEquals(0x0B, in(MCR));
        assertEquals(0x600B, bus.in(MCR, 2), "MCR, then LSR's THRE and TEMT");
        assertEquals(0xFFFF_FF00L | in(SCR), bus.in(SCR, 4), "bytes past the UART read all-ones");
    }
}
