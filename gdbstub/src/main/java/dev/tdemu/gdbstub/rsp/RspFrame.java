package dev.tdemu.gdbstub.rsp;

import java.util.Arrays;

/** What the {@link RspFrameDecoder} recognises in the inbound byte stream. */
public sealed interface RspFrame {

    /** A packet with a correct checksum; payload unescaped (and RLE-expanded in client role). */
    record Packet(byte[] payload) implements RspFrame {
        @Override
        public boolean equals(Object o) {
            return o instanceof Packet p && Arrays.equals(payload, p.payload);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return "Packet[" + Rsp.printable(payload, 80) + "]";
        }
    }

    /**
     * A complete packet whose checksum did not match. In ack mode it is answered with {@code -}
     * and dropped; in no-ack mode it is processed anyway (TCP already guarantees integrity).
     */
    record BadChecksum(byte[] payload, int expected, int actual) implements RspFrame {
        @Override
        public boolean equals(Object o) {
            return o instanceof BadChecksum b && expected == b.expected && actual == b.actual
                    && Arrays.equals(payload, b.payload);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(payload) * 31 + expected * 7 + actual;
        }

        @Override
        public String toString() {
            return "BadChecksum[" + Rsp.printable(payload, 80) + ", sent " + Hex.byte2(expected)
                    + ", computed " + Hex.byte2(actual) + "]";
        }
    }

    /** A packet longer than the advertised PacketSize; its bytes were discarded while reading. */
    record Oversized(long length, int limit) implements RspFrame {
    }

    /** A packet that could not be decoded (a lone escape at the end, bad run-length encoding). */
    record Malformed(String reason) implements RspFrame {
    }

    /** {@code +}: the peer acknowledged our last packet. */
    record Ack() implements RspFrame {
    }

    /** {@code -}: the peer asks us to retransmit our last packet. */
    record Nak() implements RspFrame {
    }

    /** The 0x03 byte outside a packet: gdb's Ctrl-C. */
    record Interrupt() implements RspFrame {
    }

    RspFrame ACK = new Ack();
    RspFrame NAK = new Nak();
    RspFrame INTERRUPT = new Interrupt();
}
