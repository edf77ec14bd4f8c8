package dev.tdemu.gdbstub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.tdemu.gdbstub.rsp.Rsp;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The test client's one-pass packet expansion is what the codec's two steps do. */
class RspClientTest {
    @Test
    void expandingUndoesRunLengthThenEscapesLikeTheCodec() throws Exception {
        Random random = new Random(7);
        for (int i = 0; i < 3000; i++) {
            byte[] data = new byte[random.nextInt(300)];
            for (int k = 0; k < data.length; k++) {
                data[k] = random.nextInt(3) == 0 ? (byte) random.nextInt(256) : (byte) "0}*#$a".charAt(random.nextInt(6));
                if (k > 0 && random.nextInt(3) > 0) {
                    data[k] = data[k - 1];
                }
            }
            byte[] wire = Rsp.runLengthEncode(Rsp.escape(data));
            byte[] copy = wire.clone();
            assertArrayEquals(data, RspClient.expand(copy, copy.length));
            assertArrayEquals(wire, copy, "input left untouched");
        }
    }
}
