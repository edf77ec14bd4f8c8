package dev.tdemu.gdbstub.rsp;

import java.util.Arrays;

/** What the {@link RspEncoder} writes. */
public sealed interface RspOutbound {

    /**
     * A packet. The encoder escapes {@code $ # } *} in the payload, then run-length encodes it
     * when both the encoder and the packet allow it, and frames it with the checksum.
     *
     * @param payload           the raw payload
     * @param runLengthAllowed  false to send this packet without run-length encoding
     */
    record Packet(byte[] payload, boolean runLengthAllowed) implements RspOutbound {
        public Packet(byte[] payload) {
            this(payload, true);
        }

        public static Packet of(String text) {
            return new Packet(Rsp.ascii(text), true);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Packet p && runLengthAllowed == p.runLengthAllowed && Arrays.equals(payload, p.payload);
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
     * A packet whose payload is {@code data} hex-encoded (a memory read's reply), framed straight
     * from the raw bytes: the same wire bytes as a {@link Packet} of the hex text.
     */
    record HexPacket(byte[] data) implements RspOutbound {
        @Override
        public boolean equals(Object o) {
            return o instanceof HexPacket p && Arrays.equals(data, p.data);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "HexPacket[" + data.length + " bytes]";
        }
    }

    /**
     * An asynchronous notification ({@code %name:payload#cs}, non-stop mode's {@code %Stop}):
     * escaped and framed like a packet but with {@code %}, never run-length encoded, not
     * acknowledged by the peer and never retransmitted.
     */
    record Notification(String name, byte[] payload) implements RspOutbound {
        @Override
        public boolean equals(Object o) {
            return o instanceof Notification n && name.equals(n.name) && Arrays.equals(payload, n.payload);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return "Notification[" + name + ":" + Rsp.printable(payload, 80) + "]";
        }
    }

    /** A {@code +} or {@code -} acknowledgement byte. */
    record AckByte(boolean positive) implements RspOutbound {
    }

    /** Send the last packet again (the peer answered it with {@code -}). */
    record Retransmit() implements RspOutbound {
    }

    RspOutbound ACK = new AckByte(true);
    RspOutbound NAK = new AckByte(false);
    RspOutbound RETRANSMIT = new Retransmit();
}
