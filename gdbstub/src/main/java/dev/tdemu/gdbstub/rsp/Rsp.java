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
        int sum = 0;
        for (int i = off; i < off + len; i++) {
            sum += bytes[i] & 0xff;
        }
        return sum & 0xff;
    }

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
            int run = 1;
            while (i + run < data.length && data[i + run] == c) {
                run++;
            }
            out[n++] = c;
            int remaining = run - 1;
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
            i += run;
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
