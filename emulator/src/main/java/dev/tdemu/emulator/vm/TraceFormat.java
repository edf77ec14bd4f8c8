package dev.tdemu.emulator.vm;

import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.CRC32C;

/**
 * The exit trace's framing (trace.proto has the full description): an 8-byte magic, a 4-byte
 * little-endian format version, then records, each a varint length, that many bytes of a
 * {@code TraceRecord}, and the CRC-32C of those bytes. The writer and the reader share it here.
 */
final class TraceFormat {
    static final byte[] MAGIC = {(byte) 0x89, 'T', 'D', 'T', 'R', 'A', 'C', 'E'};
    static final int VERSION = 1;
    static final int PREAMBLE_BYTES = MAGIC.length + 4;
    /** No record comes near this (an exit is about 170 bytes); a larger length means damage, not data. */
    static final int MAX_RECORD_BYTES = 1 << 20;
    static final int CHECKSUM_BYTES = 4;

    private TraceFormat() {}

    static byte[] preamble() {
        byte[] p = new byte[PREAMBLE_BYTES];
        System.arraycopy(MAGIC, 0, p, 0, MAGIC.length);
        for (int i = 0; i < 4; i++) {
            p[MAGIC.length + i] = (byte) (VERSION >>> (8 * i));
        }
        return p;
    }

    /** The bytes a record of {@code payload} bytes takes in the file. */
    static int frameBytes(int payload) {
        int varint = 1;
        for (int v = payload >>> 7; v != 0; v >>>= 7) {
            varint++;
        }
        return varint + payload + CHECKSUM_BYTES;
    }

    static void writeFrame(OutputStream out, byte[] payload) throws IOException {
        int v = payload.length;
        while ((v & ~0x7F) != 0) {
            out.write((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write(v);
        out.write(payload);
        int crc = checksum(payload, payload.length);
        for (int i = 0; i < 4; i++) {
            out.write(crc >>> (8 * i));
        }
    }

    static int checksum(byte[] payload, int length) {
        CRC32C crc = new CRC32C();
        crc.update(payload, 0, length);
        return (int) crc.getValue();
    }
}
