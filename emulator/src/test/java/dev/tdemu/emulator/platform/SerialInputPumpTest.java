package dev.tdemu.emulator.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every wait is on an event (a byte arriving, the pump finishing); the timeouts only bound a test that went wrong. */
@Timeout(60)
class SerialInputPumpTest {
    /** A UART without FIFOs: one byte of room, freed when the guest reads it (the hardest case for the pump). */
    static final class HoldingRegister implements SerialInputPump.Receiver {
        final BlockingQueue<Integer> register = new ArrayBlockingQueue<>(1);
        final AtomicInteger offers = new AtomicInteger();
        final java.util.concurrent.CountDownLatch firstTaken = new java.util.concurrent.CountDownLatch(1);
        volatile Runnable listener = () -> { };

        @Override
        public int offer(byte[] bytes, int offset, int length) {
            offers.incrementAndGet();
            if (length > 0 && register.offer(bytes[offset] & 0xFF)) {
                firstTaken.countDown();
                return 1;
            }
            return 0;
        }

        @Override
        public void onRoom(Runnable l) {
            listener = l;
        }

        /** The guest reads the receive buffer: the byte, and the room that frees. */
        int guestRead() throws InterruptedException {
            Integer b = register.poll(20, TimeUnit.SECONDS);
            assertThat(b).as("a byte within 20 s").isNotNull();
            listener.run();
            return b;
        }
    }

    @Test
    void everyByteArrivesInOrderThroughAOneByteReceiverAndTheEndIsReported() throws Exception {
        byte[] input = new byte[10_000];
        for (int i = 0; i < input.length; i++) {
            input[i] = (byte) (i * 7 + i / 256);
        }
        HoldingRegister uart = new HoldingRegister();
        try (SerialInputPump pump = new SerialInputPump(new ByteArrayInputStream(input), uart)) {
            pump.start();
            ByteArrayOutputStream guest = new ByteArrayOutputStream();
            for (int i = 0; i < input.length; i++) {
                guest.write(uart.guestRead());
            }
            assertThat(guest.toByteArray()).isEqualTo(input);
            assertThat(pump.delivered().get(20, TimeUnit.SECONDS)).isEqualTo(input.length);
        }
    }

    @Test
    void anEmptyStreamEndsThePumpWithoutOfferingAnything() throws Exception {
        HoldingRegister uart = new HoldingRegister();
        try (SerialInputPump pump = new SerialInputPump(InputStream.nullInputStream(), uart)) {
            pump.start();
            assertThat(pump.delivered().get(20, TimeUnit.SECONDS)).isZero();
            assertThat(uart.offers.get()).isZero();
        }
    }

    @Test
    void aFailingStreamEndsThePumpWithWhatWasDelivered() throws Exception {
        InputStream failing = new InputStream() {
            private int left = 1;

            @Override
            public int read() throws IOException {
                if (left-- > 0) {
                    return 'x';
                }
                throw new IOException("stdin went away");
            }
        };
        HoldingRegister uart = new HoldingRegister();
        try (SerialInputPump pump = new SerialInputPump(failing, uart)) {
            pump.start();
            assertThat(uart.guestRead()).isEqualTo('x');
            assertThat(pump.delivered().get(20, TimeUnit.SECONDS)).isEqualTo(1);
        }
    }

    @Test
    void closingThePumpWhileItWaitsForRoomStopsIt() throws Exception {
        HoldingRegister uart = new HoldingRegister();
        SerialInputPump pump = new SerialInputPump(new ByteArrayInputStream("abc".getBytes()), uart);
        pump.start();
        assertThat(uart.firstTaken.await(20, TimeUnit.SECONDS)).as("the first byte taken").isTrue();
        // the guest never reads it: the pump waits for room until the VM ends
        pump.close();
        assertThat(pump.delivered().get(20, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(uart.register).containsExactly((int) 'a');
    }

    @Test
    void aPumpClosedBeforeItStartedNeverReads() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        InputStream counting = new InputStream() {
            @Override
            public int read() {
                reads.incrementAndGet();
                return -1;
            }
        };
        SerialInputPump pump = new SerialInputPump(counting, new HoldingRegister());
        pump.close();
        pump.start();
        assertThat(pump.delivered().get(20, TimeUnit.SECONDS)).isZero();
        assertThat(reads.get()).isZero();
    }
}
