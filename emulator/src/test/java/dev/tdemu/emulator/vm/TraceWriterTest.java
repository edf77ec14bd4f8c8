package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tdemu.emulator.io.BadInputException;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.TraceEnd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceWriterTest {
    private static final List<ExitEvent> EVENTS = new ArrayList<>();

    @BeforeAll
    static void recordSomeRealExits() {
        Guests.run(Guests.config("hello", GuestMode.GUEST_MODE_TD).addHostBreakpoints(Guests.HOST_EXEC).build(),
                e -> EVENTS.add(e));
        assertThat(EVENTS).isNotEmpty();
    }

    private static long exitsIn(Path trace) throws Exception {
        try (TraceReader r = TraceReader.open(trace)) {
            while (r.next() != null) {
                // count
            }
            assertThat(r.ending()).isInstanceOf(TraceReader.Ending.Complete.class);
            return r.exitsRead();
        }
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(Path::getFileName).sorted().toList();
        }
    }

    @Test
    void untilItIsFinishedTheTraceIsWrittenBesideTheTargetWhichItThenReplacesAtOnce(@TempDir Path dir) throws Exception {
        Path target = Files.writeString(dir.resolve("exits.trace"), "an older trace");
        TraceWriter w = TraceWriter.create(target, TraceFiles.header(), TraceWriter.DEFAULT_LIMIT, n -> { });
        EVENTS.forEach(w::onExit);
        assertThat(Files.readString(target)).isEqualTo("an older trace");
        assertThat(w.temporaryFile().getParent()).isEqualTo(dir.toRealPath());
        assertThat(w.temporaryFile()).exists();
        w.finish("guest exited with status 0");
        assertThat(exitsIn(target)).isEqualTo(EVENTS.size());
        assertThat(files(dir)).containsExactly(Path.of("exits.trace"));
    }

    @Test
    void theSizeLimitCutsTheTraceWhichKeepsWhatItHasAndSaysHowManyExitsItLacks(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("cut.trace");
        AtomicLong cutAt = new AtomicLong(-1);
        List<Long> notices = new ArrayList<>();
        TraceWriter w = TraceWriter.create(target, TraceFiles.header(), TraceWriter.MIN_LIMIT, n -> {
            notices.add(n);
            cutAt.set(n);
        });
        long total = 0;
        for (int round = 0; round < 2000; round++) {
            for (ExitEvent e : EVENTS) {
                w.onExit(e);
                total++;
            }
        }
        w.finish("guest exited with status 0");
        assertThat(notices).as("told once").hasSize(1);
        assertThat(Files.size(target)).isLessThanOrEqualTo(TraceWriter.MIN_LIMIT);
        assertThat(exitsIn(target)).isEqualTo(cutAt.get()).isGreaterThan(100);
        try (TraceReader r = TraceReader.open(target)) {
            while (r.next() != null) {
                // to the end
            }
            TraceEnd end = ((TraceReader.Ending.Complete) r.ending()).end();
            assertThat(end.getExitsRecorded()).isEqualTo(cutAt.get());
            assertThat(end.getExitsNotRecorded()).isEqualTo(total - cutAt.get());
            assertThat(end.getSizeLimit()).isEqualTo(TraceWriter.MIN_LIMIT);
            assertThat(end.getEndedBy()).isEqualTo("guest exited with status 0");
        }
    }

    @Test
    void aTraceThatCannotBeFinishedIsDroppedAndTheFileAtItsPathKept(@TempDir Path dir) throws Exception {
        Path target = Files.writeString(dir.resolve("exits.trace"), "an older trace");
        TraceWriter w = TraceWriter.create(target, TraceFiles.header(), TraceWriter.DEFAULT_LIMIT, n -> { });
        EVENTS.forEach(w::onExit);
        // The rename at the end fails: a directory cannot replace a file.
        Files.delete(w.temporaryFile());
        Files.createDirectory(w.temporaryFile());
        assertThatThrownBy(() -> w.finish("done")).isInstanceOf(IOException.class)
                .hasMessageContaining("writing the trace " + target.toRealPath() + " failed after " + EVENTS.size() + " exit(s)")
                .hasMessageContaining("the file there was left as it was");
        assertThat(Files.readString(target)).isEqualTo("an older trace");
        assertThat(files(dir)).containsExactly(Path.of("exits.trace"));
    }

    @Test
    void anAbandonedTraceLeavesNothingBehind(@TempDir Path dir) throws Exception {
        Path target = Files.writeString(dir.resolve("exits.trace"), "an older trace");
        TraceWriter w = TraceWriter.create(target, TraceFiles.header(), TraceWriter.DEFAULT_LIMIT, n -> { });
        w.abandon();
        assertThat(Files.readString(target)).isEqualTo("an older trace");
        assertThat(files(dir)).containsExactly(Path.of("exits.trace"));
    }

    @Test
    void aSymbolicLinkIsFollowedToTheFileItNames(@TempDir Path dir) throws Exception {
        Path real = Files.writeString(dir.resolve("real.trace"), "old");
        Path link = Files.createSymbolicLink(dir.resolve("link.trace"), real.getFileName());
        TraceWriter w = TraceWriter.create(link, TraceFiles.header(), TraceWriter.DEFAULT_LIMIT, n -> { });
        w.finish("done");
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(exitsIn(real)).isZero();
    }

    @Test
    void aDeviceOrADirectoryIsNeverReplacedByATrace(@TempDir Path dir) {
        assertThatThrownBy(() -> TraceWriter.create(Path.of("/dev/full"), TraceFiles.header(), TraceWriter.DEFAULT_LIMIT, n -> { }))
                .isInstanceOf(BadInputException.class).hasMessage("/dev/full: a character device, not a regular file (a "
                        + "trace replaces a regular file or creates one)");
        assertThat(Path.of("/dev/full")).satisfies(p -> assertThat(Files.isRegularFile(p)).isFalse());
        assertThatThrownBy(() -> TraceWriter.create(dir, TraceFiles.header(), TraceWriter.DEFAULT_LIMIT, n -> { }))
                .isInstanceOf(BadInputException.class).hasMessageContaining("a directory, not a regular file");
        assertThatThrownBy(() -> TraceWriter.create(dir.resolve("no/such/dir.trace"), TraceFiles.header(),
                TraceWriter.DEFAULT_LIMIT, n -> { })).isInstanceOf(BadInputException.class).hasMessageContaining("no such directory");
    }
}
