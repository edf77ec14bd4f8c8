package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConsoleTest {
    /** Records what reaches the sink, write by write. */
    static final class Recording extends ByteArrayOutputStream {
        final List<String> writes = new ArrayList<>();

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            super.write(b, off, len);
            writes.add(new String(b, off, len, StandardCharsets.ISO_8859_1));
        }
    }

    private static void print(Console c, String s) {
        for (byte b : s.getBytes(StandardCharsets.ISO_8859_1)) {
            c.write(b);
        }
    }

    @Test
    void onATerminalEachLineGoesOutAsItEnds() {
        Recording sink = new Recording();
        Console c = new Console(new Console.Sink(sink, true));
        print(c, "one\ntw");
        assertThat(sink.writes).containsExactly("one\n");
        print(c, "o\n");
        assertThat(sink.writes).containsExactly("one\n", "two\n");
    }

    @Test
    void elsewhereOutputGoesOutInFullBuffersAndTheRestOnFlush() {
        Recording sink = new Recording();
        Console c = new Console(new Console.Sink(sink, false));
        print(c, "line\n".repeat(2000)); // 10,000 bytes: one full buffer and some
        assertThat(sink.writes).hasSize(1);
        assertThat(sink.writes.getFirst()).hasSize(Console.BUFFER_SIZE);
        c.flush();
        assertThat(sink.toString(StandardCharsets.ISO_8859_1)).isEqualTo("line\n".repeat(2000));
    }

    @Test
    void bytesPassThroughUnchangedAndTheKeptTextIsTheirUtf8() {
        Recording sink = new Recording();
        Console c = new Console(new Console.Sink(sink, true));
        for (int b : new int[] {0x41, 0xC3, 0xA9, 0xFF, 0x0A}) {
            c.write((byte) b);
        }
        assertThat(sink.toByteArray()).containsExactly(0x41, 0xC3, 0xA9, 0xFF, 0x0A);
        assertThat(c.bytes()).containsExactly(0x41, 0xC3, 0xA9, 0xFF, 0x0A);
        assertThat(c.text()).isEqualTo("Aé\uFFFD\n");
    }

    @Test
    void onlyTheFirst16MiBAreKeptButEverythingIsStreamed() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        Console c = new Console(new Console.Sink(sink, false));
        int total = Console.KEPT_LIMIT + 100;
        for (int i = 0; i < total; i++) {
            c.write((byte) 'x');
        }
        c.flush();
        assertThat(sink.size()).isEqualTo(total);
        assertThat(c.bytes()).hasSize(Console.KEPT_LIMIT);
        assertThat(c.bytesNotKept()).isEqualTo(100);
    }
}
