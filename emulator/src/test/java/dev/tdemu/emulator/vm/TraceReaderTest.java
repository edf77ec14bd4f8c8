package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tdemu.proto.ExitRecord;
import dev.tdemu.proto.TraceHeader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TraceReaderTest {
    private static TraceReader open(byte[] bytes) throws Exception {
        return TraceReader.open("t.trace", new ByteArrayInputStream(bytes));
    }

    private static List<Long> sequences(TraceReader r) throws IOException {
        List<Long> out = new ArrayList<>();
        for (ExitRecord e; (e = r.next()) != null; ) {
            out.add(e.getSequence());
        }
        return out;
    }

    @Test
    void aWholeTraceYieldsItsHeaderEveryExitAndItsEndRecord() throws Exception {
        try (TraceReader r = open(TraceFiles.trace(5))) {
            assertThat(r.header()).isEqualTo(TraceFiles.header());
            assertThat(sequences(r)).containsExactly(1L, 2L, 3L, 4L, 5L);
            assertThat(r.ending()).isEqualTo(new TraceReader.Ending.Complete(TraceFiles.end(5)));
            assertThat(r.problem()).isEmpty();
        }
    }

    @Test
    void aTraceCutByThreeBytesStillYieldsEveryExitAndSaysItIsTruncated() throws Exception {
        byte[] whole = TraceFiles.trace(5);
        try (TraceReader r = open(Arrays.copyOf(whole, whole.length - 3))) {
            assertThat(sequences(r)).containsExactly(1L, 2L, 3L, 4L, 5L);
            assertThat(r.ending()).isInstanceOf(TraceReader.Ending.Truncated.class);
            assertThat(r.problem()).hasValueSatisfying(p -> assertThat(p).contains("t.trace is truncated")
                    .contains("the 5 complete exit(s) before it were read"));
        }
    }

    @Test
    void aTraceCutInsideAnExitYieldsTheExitsBeforeIt() throws Exception {
        byte[] cut = Arrays.copyOf(TraceFiles.trace(5), TraceFiles.offsetOfExit(4) + 20);
        try (TraceReader r = open(cut)) {
            assertThat(sequences(r)).containsExactly(1L, 2L, 3L);
            assertThat(r.ending()).isEqualTo(new TraceReader.Ending.Truncated(TraceFiles.offsetOfExit(4), 20));
        }
    }

    @Test
    void aTraceWithoutItsEndRecordIsUnfinished() throws Exception {
        byte[] cut = Arrays.copyOf(TraceFiles.trace(5), TraceFiles.offsetOfExit(6));
        try (TraceReader r = open(cut)) {
            assertThat(sequences(r)).hasSize(5);
            assertThat(r.ending()).isInstanceOf(TraceReader.Ending.Unfinished.class);
            assertThat(r.problem()).hasValueSatisfying(p -> assertThat(p).contains("without its end record"));
        }
    }

    @Test
    void aFlippedBitIsCaughtByTheChecksumAndNothingAfterItIsRead() throws Exception {
        byte[] bad = TraceFiles.trace(5);
        bad[TraceFiles.offsetOfExit(3) + 10] ^= 0x04;
        try (TraceReader r = open(bad)) {
            assertThat(sequences(r)).containsExactly(1L, 2L);
            assertThat(r.ending()).isEqualTo(new TraceReader.Ending.Damaged(TraceFiles.offsetOfExit(3), "checksum mismatch"));
        }
    }

    @Test
    void aHugeRecordLengthIsDamageNotAnAllocation() throws Exception {
        byte[] good = TraceFiles.trace(2);
        int at = TraceFiles.offsetOfExit(2);
        byte[] bad = Arrays.copyOf(good, good.length);
        // varint 0xFFFFFFFF: 4 GiB - 1
        bad[at] = (byte) 0xFF;
        bad[at + 1] = (byte) 0xFF;
        bad[at + 2] = (byte) 0xFF;
        bad[at + 3] = (byte) 0xFF;
        bad[at + 4] = 0x0F;
        try (TraceReader r = open(bad)) {
            assertThat(sequences(r)).containsExactly(1L);
            assertThat(r.ending()).isInstanceOfSatisfying(TraceReader.Ending.Damaged.class,
                    d -> assertThat(d.problem()).contains("4294967295 bytes, more than the 1 MiB"));
        }
    }

    @Test
    void filesThatAreNotTracesAreRefusedWithoutReadingOn() {
        assertThatThrownBy(() -> open(new byte[0])).isInstanceOf(TraceFormatException.class)
                .hasMessage("t.trace: an empty file, not a tdemu exit trace");
        assertThatThrownBy(() -> open(new byte[4096])).isInstanceOf(TraceFormatException.class)
                .hasMessageContaining("not a tdemu exit trace (it does not start with the trace magic");
        // /dev/zero never ends: only the magic's worth of it is read
        InputStream zeros = new InputStream() {
            long read;

            @Override
            public int read() {
                if (++read > 1 << 20) {
                    throw new AssertionError("read on past the magic");
                }
                return 0;
            }
        };
        assertThatThrownBy(() -> TraceReader.open("/dev/zero", zeros)).isInstanceOf(TraceFormatException.class)
                .hasMessageContaining("/dev/zero: not a tdemu exit trace");
    }

    @Test
    void aTraceInTheFormatBeforeVersionOneIsRefusedAndSaysSo() throws Exception {
        ByteArrayOutputStream old = new ByteArrayOutputStream();
        TraceFiles.header().writeDelimitedTo(old);
        TraceFiles.exit(1).writeDelimitedTo(old);
        assertThatThrownBy(() -> open(old.toByteArray())).isInstanceOf(TraceFormatException.class)
                .hasMessageContaining("traces written before trace format version 1 have none and must be recorded again");
    }

    @Test
    void anotherFormatVersionOrAMissingHeaderIsRefused() {
        byte[] v2 = TraceFiles.trace(1);
        v2[8] = 2;
        assertThatThrownBy(() -> open(v2)).isInstanceOf(TraceFormatException.class)
                .hasMessage("t.trace: trace format version 2; this tdemu reads version 1");
        byte[] noHeader = Arrays.copyOf(TraceFiles.trace(1), TraceFormat.PREAMBLE_BYTES + 3);
        assertThatThrownBy(() -> open(noHeader)).isInstanceOf(TraceFormatException.class)
                .hasMessage("t.trace: the trace header is truncated");
        byte[] exitFirst = TraceFiles.trace(1);
        int header = TraceFiles.offsetOfExit(1);
        byte[] shifted = new byte[exitFirst.length - (header - TraceFormat.PREAMBLE_BYTES)];
        System.arraycopy(exitFirst, 0, shifted, 0, TraceFormat.PREAMBLE_BYTES);
        System.arraycopy(exitFirst, header, shifted, TraceFormat.PREAMBLE_BYTES, exitFirst.length - header);
        assertThatThrownBy(() -> open(shifted)).isInstanceOf(TraceFormatException.class)
                .hasMessage("t.trace: the trace header is not the first record");
    }

    @Test
    void readingIsOneRecordAtATime() throws Exception {
        // A trace that never ends: the reader hands out exits as they come, holding none of them.
        InputStream endless = new InputStream() {
            final ByteArrayOutputStream pending = new ByteArrayOutputStream();
            byte[] buffer = new byte[0];
            int at;
            long next = 1;
            boolean headerDone;

            @Override
            public int read() throws IOException {
                if (at == buffer.length) {
                    pending.reset();
                    if (!headerDone) {
                        TraceFiles.preamble(pending);
                        TraceFiles.record(pending, dev.tdemu.proto.TraceRecord.newBuilder().setHeader(TraceFiles.header()).build());
                        headerDone = true;
                    } else {
                        TraceFiles.record(pending, dev.tdemu.proto.TraceRecord.newBuilder().setExit(TraceFiles.exit(next++)).build());
                    }
                    buffer = pending.toByteArray();
                    at = 0;
                }
                return buffer[at++] & 0xFF;
            }
        };
        try (TraceReader r = TraceReader.open("endless", endless)) {
            TraceHeader h = r.header();
            assertThat(h.getConfig().getGuestImage()).isEqualTo("builtin:made-up");
            for (long i = 1; i <= 200_000; i++) {
                assertThat(r.next().getSequence()).isEqualTo(i);
            }
            assertThat(r.ending()).isNull();
        }
    }
}
