package dev.tdemu.gdbstub.rsp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunLengthEncodingTest {

    private static String rle(String s) {
        return new String(Rsp.runLengthEncode(s.getBytes(StandardCharsets.ISO_8859_1)), StandardCharsets.ISO_8859_1);
    }

    @ParameterizedTest(name = "run of {0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "1|0",
        "2|00",
        "3|000",
        "4|'0* '",        // repeat 3 -> ' ' (32)
        "5|0*!",
        "6|0*\"",         // repeat 5 -> '"'
        "7|0*\"0",        // repeat 6 would be '#': use 5 and one literal
        "8|0*\"00",       // repeat 7 would be '$': use 5 and two literals (the GDB manual's example)
        "9|0*%",          // repeat 8 -> '%'
        "98|0*~",         // repeat 97 -> '~', the largest
        "99|0*~0",
        "102|0*~*!",      // 1 + 97 + 4: a second '*' repeats the same byte
    })
    void runsAreEncodedWithTheShortestLegalCounts(int length, String expected) {
        assertEquals(expected, rle("0".repeat(length)));
    }

    @Test
    void runsShorterThanFourAreLeftAlone() {
        assertEquals("aaabbbcccaaa", rle("aaabbbcccaaa"));
    }

    @Test
    void countCharactersNeverProduceHashOrDollar() {
        for (int n = 1; n < 1000; n++) {
            String enc = rle("x".repeat(n));
            assertTrue(enc.indexOf('#') < 0 && enc.indexOf('$') < 0, "run of " + n + " -> " + enc);
        }
    }

    @Test
    void encodeThenDecodeIsTheIdentityOnRandomEscapedData() {
        Random random = new Random(0x5eed);
        for (int i = 0; i < 2000; i++) {
            byte[] data = new byte[random.nextInt(300)];
            for (int k = 0; k < data.length; k++) {
                // Mostly long runs of few distinct bytes, to exercise every count.
                data[k] = random.nextInt(4) == 0 ? (byte) random.nextInt(256) : (byte) "0f$#*}".charAt(random.nextInt(6));
                if (k > 0 && random.nextInt(3) > 0) {
                    data[k] = data[k - 1];
                }
            }
            byte[] escaped = Rsp.escape(data);
            byte[] encoded = Rsp.runLengthEncode(escaped);
            for (byte b : encoded) {
                assertTrue(b != '#' && b != '$', "framing byte in encoded data");
            }
            byte[] decoded = Rsp.runLengthDecode(encoded, 0, encoded.length, Integer.MAX_VALUE);
            assertArrayEquals(escaped, decoded);
            assertArrayEquals(data, Rsp.unescape(decoded, 0, decoded.length));
            // the encoder's one-pass framing produces exactly the composed steps
            assertArrayEquals(Rsp.frame(encoded), Rsp.frame(escaped, true));
            assertArrayEquals(Rsp.frame(escaped), Rsp.frame(escaped, false));
        }
    }

    @Test
    void hexFramingFromRawBytesMatchesFramingTheHexText() {
        Random random = new Random(0x4e7);
        for (int i = 0; i < 2000; i++) {
            byte[] data = new byte[random.nextInt(400)];
            for (int k = 0; k < data.length; k++) {
                // runs of equal nibbles across byte boundaries (0x00, 0x11, 0xf0 0x0f ...) and noise
                data[k] = random.nextInt(3) == 0 ? (byte) random.nextInt(256)
                        : (byte) new int[] {0x00, 0x11, 0xff, 0xf0, 0x0f, 0x77}[random.nextInt(6)];
            }
            int off = data.length == 0 ? 0 : random.nextInt(data.length);
            int len = data.length - off;
            byte[] hex = Hex.encode(java.util.Arrays.copyOfRange(data, off, off + len)).getBytes(StandardCharsets.ISO_8859_1);
            assertArrayEquals(Rsp.frame(Rsp.runLengthEncode(hex)), Rsp.frameHex(data, off, len, true));
            assertArrayEquals(Rsp.frame(hex), Rsp.frameHex(data, off, len, false));
        }
    }

    @Test
    void decodingRejectsMalformedInput() {
        byte[] leadingStar = "* ".getBytes(StandardCharsets.ISO_8859_1);
        assertNull(Rsp.runLengthDecode(leadingStar, 0, leadingStar.length, 100));
        byte[] trailingStar = "0*".getBytes(StandardCharsets.ISO_8859_1);
        assertNull(Rsp.runLengthDecode(trailingStar, 0, trailingStar.length, 100));
        byte[] badCount = new byte[] {'0', '*', 10};
        assertNull(Rsp.runLengthDecode(badCount, 0, badCount.length, 100));
    }

    @Test
    void decodingStopsAtTheSizeLimit() {
        byte[] bomb = "0*~*~*~*~".getBytes(StandardCharsets.ISO_8859_1);
        assertNull(Rsp.runLengthDecode(bomb, 0, bomb.length, 200));
        assertEquals(1 + 4 * 97, Rsp.runLengthDecode(bomb, 0, bomb.length, 1000).length);
    }

    @Test
    void escapeUnescapeRoundTripsEveryByteValue() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        byte[] escaped = Rsp.escape(all);
        assertEquals(256 + 4, escaped.length);
        assertArrayEquals(all, Rsp.unescape(escaped, 0, escaped.length));
    }
}
