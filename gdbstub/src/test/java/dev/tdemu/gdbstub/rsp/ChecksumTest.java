package dev.tdemu.gdbstub.rsp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The RSP checksum (sum of the bytes modulo 256), computed eight bytes at a time. */
class ChecksumTest {
    @Test
    void equalsTheBytewiseSumForEveryLengthAndOffset() {
        Random random = new Random(11);
        for (int i = 0; i < 3000; i++) {
            byte[] data = new byte[random.nextInt(i < 2000 ? 40 : 20_000)];
            if (random.nextBoolean()) {
                java.util.Arrays.fill(data, (byte) 0xff); // the largest lane sums
            } else {
                random.nextBytes(data);
            }
            int off = data.length == 0 ? 0 : random.nextInt(data.length);
            int len = random.nextInt(data.length - off + 1);
            int expected = 0;
            for (int k = off; k < off + len; k++) {
                expected += data[k] & 0xff;
            }
            assertEquals(expected & 0xff, Rsp.checksum(data, off, len), "length " + len + " at " + off);
        }
    }

    @Test
    void refusesRangesOutsideTheArray() {
        assertThrows(IndexOutOfBoundsException.class, () -> Rsp.checksum(new byte[8], 4, 5));
    }
}
