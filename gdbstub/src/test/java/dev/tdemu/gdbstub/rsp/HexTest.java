package dev.tdemu.gdbstub.rsp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HexTest {
    @Test
    void everyPairOfCharactersDecodesExactlyWhenBothAreHexDigits() {
        String digits = "0123456789abcdefABCDEF";
        for (int a = 0; a < 256; a++) {
            for (int b = 0; b < 256; b++) {
                byte[] pair = {(byte) a, (byte) b};
                boolean valid = digits.indexOf(a) >= 0 && digits.indexOf(b) >= 0;
                if (valid) {
                    int expected = Character.digit(a, 16) << 4 | Character.digit(b, 16);
                    assertEquals((byte) expected, Hex.decode(pair, 0, 2)[0]);
                } else {
                    assertThrows(IllegalArgumentException.class, () -> Hex.decode(pair, 0, 2), a + "," + b);
                }
            }
        }
    }

    @Test
    void decodingBytesAndTextAgreeWithEncoding() {
        Random random = new Random(3);
        for (int i = 0; i < 500; i++) {
            byte[] data = new byte[random.nextInt(100)];
            random.nextBytes(data);
            String hex = Hex.encode(data);
            assertArrayEquals(data, Hex.decode(hex));
            byte[] padded = ("xx" + hex + "yy").getBytes(StandardCharsets.ISO_8859_1);
            assertArrayEquals(data, Hex.decode(padded, 2, hex.length()));
        }
    }

    @Test
    void oddLengthsAndNonDigitsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Hex.decode("abc"));
        assertThrows(IllegalArgumentException.class, () -> Hex.decode("0g"));
        assertThrows(IllegalArgumentException.class, () -> Hex.decode("\u0130\u0131"));
    }
}
