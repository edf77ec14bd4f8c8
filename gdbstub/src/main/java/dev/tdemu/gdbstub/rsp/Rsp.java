package dev.tdemu.gdbstub.rsp;

import java.nio.charset.StandardCharsets;

/**
 * Wire-level helpers of the GDB Remote Serial Protocol: checksums, binary escaping and
 * run-length encoding. Pure functions over byte arrays, shared by the Netty codec and the test
 * client.
 */
public final class Rsp {
    /** The escape byte {@code '}'}: the following byte is XORed with 0x20. */
    public static final int ESCAPE = 0x7d;
    /** The interrupt byte gdb sends for Ctrl-C. */
    public static final int INTERRUPT = 0x03;
    /** Smallest run (first byte included) worth encoding: {@code x* } is 3 bytes for 4. */
    public static final int MIN_RUN = 4;
    /** Largest repeat count a single {@code *} can carry: count char {@code '~'} (126) - 29. */
    public static final int MAX_REPEAT = 126 - 29;

    private Rsp() {
    }

    /** Modulo-256 sum of the bytes, the RSP checksum. */
    public static int checksum(byte[] bytes, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, bytes.length);
        long sum = 0;
        int i = off;
        int end = off + len;
        // Eight bytes at a time: split into four 16-bit lanes of byte pairs and add lane-wise; a
        // lane grows by at most 510 per word, so fold the lanes into the total every 64 words.
        while (end - i >= 8) {
            long lanes = 0;
            int words = Math.min(64, (end - i) >> 3);
            for (int w = 0; w < words; w++, i += 8) {
                long x = (long) LONGS.get(bytes, i);
                lanes += (x & 0x00FF00FF00FF00FFL) + ((x >>> 8) & 0x00FF00FF00FF00FFL);
            }
            sum += (lanes & 0xFFFF) + ((lanes >>> 16) & 0xFFFF) + ((lanes >>> 32) & 0xFFFF) + (lanes >>> 48);
        }
        for (; i < end; i++) {
            sum += bytes[i] & 0xff;
        }
        return (int) (sum & 0xff);
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    public static int checksum(byte[] bytes) {
        return checksum(bytes, 0, bytes.length);
    }

    /** True for the bytes that must never appear raw inside a packet sent by the stub. */
    public static boolean needsEscape(int b) {
        return b == '$' || b == '#' || b == ESCAPE || b == '*';
    }

    /** Escapes {@code $ # } *} as {@code '}'} followed by the byte XOR 0x20. */
    public static byte[] escape(byte[] data) {
        int extra = 0;
        for (byte b : data) {
            if (needsEscape(b & 0xff)) {
                extra++;
            }
        }
        if (extra == 0) {
            return data;
        }
        byte[] out = new byte[data.length + extra];
        int j = 0;
        for (byte b : data) {
            if (needsEscape(b & 0xff)) {
                out[j++] = (byte) ESCAPE;
                out[j++] = (byte) (b ^ 0x20);
            } else {
                out[j++] = b;
            }
        }
        return out;
    }

    /** Length of {@code data} once escaped. */
    public static int escapedLength(byte[] data, int off, int len) {
        int n = len;
        for (int i = off; i < off + len; i++) {
            if (needsEscape(data[i] & 0xff)) {
                n++;
            }
        }
        return n;
    }

    /**
     * Undoes {@link #escape}.
     *
     * @return the unescaped bytes, or {@code null} if the data ends with a lone escape byte
     */
    public static byte[] unescape(byte[] data, int off, int len) {
        int escapes = 0;
        for (int i = off; i < off + len; i++) {
            if ((data[i] & 0xff) == ESCAPE) {
                escapes++;
                i++;
                if (i >= off + len) {
                    return null;
                }
            }
        }
        byte[] out = new byte[len - escapes];
        int j = 0;
        for (int i = off; i < off + len; i++) {
            int b = data[i] & 0xff;
            if (b == ESCAPE) {
                out[j++] = (byte) (data[++i] ^ 0x20);
            } else {
                out[j++] = (byte) b;
            }
        }
        return out;
    }

    /**
     * Run-length encodes already escaped packet data: a run of {@code n >= 4} equal bytes becomes
     * the byte, {@code '*'} and the repeat count {@code n - 1} plus 29. Repeat counts 6 and 7 would
     * produce {@code '#'} and {@code '$'}, so such runs use a count of 5 and the rest literally;
     * counts above 97 are split.
     */
    public static byte[] runLengthEncode(byte[] data) {
        // The encoding never grows the data: a run of n >= 4 becomes 3 bytes, anything else is copied.
        byte[] out = new byte[data.length];
        int n = 0;
        int i = 0;
        while (i < data.length) {
            byte c = data[i];
            int end = i + 1;
            while (end < data.length && data[end] == c) {
                end++;
            }
            n = emitRun(out, n, c, end - i);
            i = end;
        }
        return n == data.length ? data : java.util.Arrays.copyOf(out, n);
    }

    /**
     * Expands run-length encoding (the inverse of {@link #runLengthEncode}).
     *
     * @param limit the largest acceptable expanded size
     * @return the expanded bytes, or {@code null} if the encoding is malformed (a {@code '*'} at
     *     the start or end, a count outside 1..97) or the result would exceed {@code limit}
     */
    public static byte[] runLengthDecode(byte[] data, int off, int len, int limit) {
        byte[] out = new byte[Math.min(Math.max(len, 16), Math.max(limit, 16))];
        int n = 0;
        for (int i = off; i < off + len; i++) {
            int b = data[i] & 0xff;
            int repeat;
            byte value;
            if (b == '*') {
                if (n == 0 || i + 1 >= off + len) {
                    return null;
                }
                repeat = (data[++i] & 0xff) - 29;
                if (repeat < 1 || repeat > MAX_REPEAT) {
                    return null;
                }
                value = out[n - 1];
            } else {
                repeat = 1;
                value = (byte) b;
            }
            if (n + repeat > limit) {
                return null;
            }
            if (n + repeat > out.length) {
                out = java.util.Arrays.copyOf(out, Math.min(limit, Math.max(out.length * 2, n + repeat)));
            }
            for (int k = 0; k < repeat; k++) {
                out[n++] = value;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Frames escaped packet data as {@code $data#cs}, run-length encoding it first when {@code runLength} is set. */
    public static byte[] frame(byte[] escaped, boolean runLength) {
        return frame(runLength ? runLengthEncode(escaped) : escaped);
    }

    private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    /**
     * The framed packet whose payload is {@code data} in hex, run-length encoded when
     * {@code runLength} is set: the same bytes as {@code frame(Hex.encode(data), runLength)}
     * (hex digits never need escaping), generated in one pass from the raw bytes. This is the
     * {@code m} reply, the stub's largest.
     */
    public static byte[] frameHex(byte[] data, int off, int len, boolean runLength) {
        int end = 1 + 2 * len;
        byte[] out = new byte[end + 3];
        out[0] = '$';
        for (int i = 0, j = 1; i < len; i++, j += 2) {
            int b = data[off + i] & 0xff;
            out[j] = HEX_HIGH[b];
            out[j + 1] = HEX_LOW[b];
        }
        if (!runLength) {
            return finishFrame(out, end);
        }
        // Run-length encode in place (the encoding never grows). Four equal hex digits in a row
        // always include both digits of one byte, so only bytes like 0x00, 0x11 ... 0xff can be
        // inside a run: look around those (one in 16 in random data, most of memory in zeroed
        // memory), move the literal stretch before a run down, and encode the run.
        int w = 1;
        int r = 1;
        for (int i = 0; i < len; i++) {
            int b = data[off + i] & 0xff;
            if ((b >> 4) != (b & 0xf)) {
                continue;
            }
            int p = 1 + 2 * i;
            if (p < r) {
                continue; // already part of an encoded run
            }
            byte c = out[p];
            int start = p;
            while (start > r && out[start - 1] == c) {
                start--;
            }
            int stop = p + 2;
            while (stop < end && out[stop] == c) {
                stop++;
            }
            if (stop - start < MIN_RUN) {
                continue;
            }
            if (w != r) {
                System.arraycopy(out, r, out, w, start - r);
            }
            w += start - r;
            w = emitRun(out, w, c, stop - start);
            r = stop;
            i = (stop - 1) / 2 - 1; // continue with the byte holding digit `stop`
        }
        if (w != r) {
            System.arraycopy(out, r, out, w, end - r);
        }
        w += end - r;
        return finishFrame(out, w);
    }

    private static final byte[] HEX_HIGH = new byte[256];
    private static final byte[] HEX_LOW = new byte[256];

    static {
        for (int b = 0; b < 256; b++) {
            HEX_HIGH[b] = HEX_DIGITS[b >> 4];
            HEX_LOW[b] = HEX_DIGITS[b & 0xf];
        }
    }

    /**
     * Writes {@code c} repeated {@code count} times at {@code out[n]}, run-length encoded: a run
     * of {@code n >= 4} becomes the byte, {@code '*'} and the repeat count plus 29; repeat counts
     * 6 and 7 would produce {@code '#'} and {@code '$'}, so such runs use 5 and the rest
     * literally; counts above 97 are split. Returns the new end.
     */
    private static int emitRun(byte[] out, int n, byte c, int count) {
        out[n++] = c;
        int remaining = count - 1;
        while (remaining > 0) {
            if (remaining >= MIN_RUN - 1) {
                int repeat = Math.min(remaining, MAX_REPEAT);
                if (repeat == 6 || repeat == 7) {
                    repeat = 5;
                }
                out[n++] = '*';
                out[n++] = (byte) (repeat + 29);
                remaining -= repeat;
            } else {
                for (int k = 0; k < remaining; k++) {
                    out[n++] = c;
                }
                remaining = 0;
            }
        }
        return n;
    }

    /** Appends {@code #cs} over {@code out[1..n)} and trims. */
    private static byte[] finishFrame(byte[] out, int n) {
        int cs = checksum(out, 1, n - 1);
        out[n++] = '#';
        out[n++] = (byte) Hex.digitChar(cs >> 4);
        out[n++] = (byte) Hex.digitChar(cs);
        return n == out.length ? out : java.util.Arrays.copyOf(out, n);
    }

    /** Frames a payload (already escaped/encoded) as {@code $payload#cs}. */
    public static byte[] frame(byte[] wirePayload) {
        byte[] out = new byte[wirePayload.length + 4];
        out[0] = '$';
        System.arraycopy(wirePayload, 0, out, 1, wirePayload.length);
        int cs = checksum(wirePayload);
        out[out.length - 3] = '#';
        out[out.length - 2] = (byte) Hex.digitChar(cs >> 4);
        out[out.length - 1] = (byte) Hex.digitChar(cs);
        return out;
    }

    /** A printable rendering of packet bytes for logs, cut at {@code max} characters. */
    public static String printable(byte[] bytes, int max) {
        StringBuilder sb = new StringBuilder(Math.min(bytes.length, max) + 16);
        for (int i = 0; i < bytes.length; i++) {
            if (sb.length() >= max) {
                sb.append("...(").append(bytes.length).append(" bytes)");
                break;
            }
            int b = bytes[i] & 0xff;
            if (b >= 0x20 && b < 0x7f && b != '\\') {
                sb.append((char) b);
            } else {
                sb.append("\\x").append(Hex.byte2(b));
            }
        }
        return sb.toString();
    }

    public static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
