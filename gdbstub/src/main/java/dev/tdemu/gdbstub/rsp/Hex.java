package dev.tdemu.gdbstub.rsp;

import java.nio.charset.StandardCharsets;

/** Hexadecimal encoding as the remote protocol uses it: lowercase out, either case in. */
public final class Hex {
    private static final byte[] DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    /** Digit values by character (0..127), -1 for anything that is not a hex digit. */
    private static final byte[] VALUES = new byte[128];

    static {
        java.util.Arrays.fill(VALUES, (byte) -1);
        for (int c = '0'; c <= '9'; c++) {
            VALUES[c] = (byte) (c - '0');
        }
        for (int c = 'a'; c <= 'f'; c++) {
            VALUES[c] = (byte) (c - 'a' + 10);
            VALUES[c - 'a' + 'A'] = (byte) (c - 'a' + 10);
        }
    }

    /** Byte value by two digit characters read as a little-endian short (low byte first), or -1. */
    private static final short[] PAIRS = new short[1 << 16];
    private static final java.lang.invoke.VarHandle SHORTS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(short[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    static {
        for (int pair = 0; pair < PAIRS.length; pair++) {
            int hi = digit(pair & 0xff);
            int lo = digit(pair >> 8);
            PAIRS[pair] = (short) (hi < 0 || lo < 0 ? -1 : hi << 4 | lo);
        }
    }

    private Hex() {
    }

    /** The value of a hex digit, or -1. */
    public static int digit(int c) {
        return c >= 0 && c < 128 ? VALUES[c] : -1;
    }

    public static boolean isDigit(int c) {
        return digit(c) >= 0;
    }

    public static char digitChar(int nibble) {
        return (char) DIGITS[nibble & 0xf];
    }

    /** Appends two hex digits per byte. */
    public static StringBuilder append(StringBuilder sb, byte[] bytes) {
        return append(sb, bytes, 0, bytes.length);
    }

    public static StringBuilder append(StringBuilder sb, byte[] bytes, int off, int len) {
        sb.ensureCapacity(sb.length() + 2 * len);
        for (int i = off; i < off + len; i++) {
            sb.append((char) DIGITS[(bytes[i] >> 4) & 0xf]).append((char) DIGITS[bytes[i] & 0xf]);
        }
        return sb;
    }

    /** Two hex digits for a byte value (0..255). */
    public static String byte2(int value) {
        return new String(new char[] {digitChar(value >> 4), digitChar(value)});
    }

    public static String encode(byte[] bytes) {
        byte[] digits = new byte[bytes.length * 2];
        for (int i = 0; i < bytes.length; i++) {
            digits[2 * i] = DIGITS[(bytes[i] >> 4) & 0xf];
            digits[2 * i + 1] = DIGITS[bytes[i] & 0xf];
        }
        return new String(digits, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** Hex-encodes text (as UTF-8), as {@code O} packets and {@code qRcmd} want. */
    public static String encodeText(String text) {
        return encode(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Decodes an even number of hex digits.
     *
     * @throws IllegalArgumentException on odd length or a non-hex character
     */
    public static byte[] decode(CharSequence s) {
        return decode(s, 0, s.length());
    }

    public static byte[] decode(CharSequence s, int from, int to) {
        if (s instanceof String str) {
            // Packets are ISO-8859-1 text: one byte per char, and decoding bytes is several times
            // faster than charAt on a CharSequence.
            return decode(str.substring(from, to).getBytes(StandardCharsets.ISO_8859_1), 0, to - from);
        }
        int n = to - from;
        if ((n & 1) != 0) {
            throw new IllegalArgumentException("odd number of hex digits");
        }
        byte[] out = new byte[n / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = digit(s.charAt(from + 2 * i));
            int lo = digit(s.charAt(from + 2 * i + 1));
            if (hi < 0 || lo < 0) {
                throw new IllegalArgumentException("not a hex digit at " + (from + 2 * i));
            }
            out[i] = (byte) ((hi << 4) | lo);
        }
        return out;
    }

    /**
     * Decodes {@code len} hex digits of {@code digits} from {@code off}.
     *
     * @throws IllegalArgumentException on odd length or a non-hex character
     */
    public static byte[] decode(byte[] digits, int off, int len) {
        if ((len & 1) != 0) {
            throw new IllegalArgumentException("odd number of hex digits");
        }
        java.util.Objects.checkFromIndexSize(off, len, digits.length);
        byte[] out = new byte[len / 2];
        for (int i = 0, j = off; i < out.length; i++, j += 2) {
            // one lookup per digit pair (a 64 K-entry table indexed by the two bytes)
            int v = PAIRS[(short) SHORTS.get(digits, j) & 0xffff];
            if (v < 0) {
                throw new IllegalArgumentException("not a hex digit at " + (j - off));
            }
            out[i] = (byte) v;
        }
        return out;
    }

    /** Decodes hex-encoded UTF-8 text. */
    public static String decodeText(CharSequence s) {
        return new String(decode(s), StandardCharsets.UTF_8);
    }

    /**
     * Parses an unsigned hex number of at most 64 bits (leading zeros allowed).
     *
     * @throws IllegalArgumentException if empty, not hex, or wider than 64 bits
     */
    public static long parseUnsigned(CharSequence s) {
        int n = s.length();
        if (n == 0) {
            throw new IllegalArgumentException("empty number");
        }
        long v = 0;
        int significant = 0;
        for (int i = 0; i < n; i++) {
            int d = digit(s.charAt(i));
            if (d < 0) {
                throw new IllegalArgumentException("not a hex number: " + shorten(s));
            }
            if (significant > 0 || d != 0) {
                significant++;
            }
            if (significant > 16) {
                throw new IllegalArgumentException("hex number wider than 64 bits: " + shorten(s));
            }
            v = (v << 4) | d;
        }
        return v;
    }

    /** Parses an unsigned hex number that must fit {@code 0..max}. */
    public static int parseInt(CharSequence s, int max) {
        long v = parseUnsigned(s);
        if (v < 0 || v > max) {
            throw new IllegalArgumentException("number out of range: " + shorten(s));
        }
        return (int) v;
    }

    /** Minimal hex digits for an unsigned value ({@code 0} for zero). */
    public static String number(long value) {
        return Long.toHexString(value);
    }

    private static String shorten(CharSequence s) {
        return s.length() > 40 ? s.subSequence(0, 40) + "..." : s.toString();
    }
}
