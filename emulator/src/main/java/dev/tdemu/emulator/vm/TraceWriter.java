package dev.tdemu.emulator.vm;

import dev.tdemu.emulator.io.BadInputException;
import dev.tdemu.emulator.io.InputFiles;
import dev.tdemu.proto.TraceEnd;
import dev.tdemu.proto.TraceHeader;
import dev.tdemu.proto.TraceRecord;
import dev.tdemu.proto.VmConfig;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongConsumer;

/**
 * Writes an exit trace (trace.proto): the header, one record per exit, and an end record saying
 * how the run ended and whether the size limit cut the trace.
 *
 * <p>The trace goes to a temporary file in the target's directory, and {@link #finish} moves it
 * onto the target in one atomic rename: until then an existing file at the target is untouched,
 * and a reader never sees a half-written trace there. A trace that could not be written (a full
 * disk) is deleted and the target left as it was.
 */
public final class TraceWriter implements Vm.ExitObserver, AutoCloseable {
    /** The default size limit: about six million exits. */
    public static final long DEFAULT_LIMIT = 1L << 30;
    /** The smallest limit: room for the header (a guest path may take 4 KiB) and the end record. */
    public static final long MIN_LIMIT = 64L << 10;
    /** Kept free under the limit for the end record. */
    private static final int END_RESERVE = 2048;
    private static final int MAX_ENDED_BY = 500;

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final OutputStream out;
    private final long limit;
    private final LongConsumer onCut;
    private long written;
    private long recorded;
    private long notRecorded;
    private boolean finished;
    private IOException failure;

    private TraceWriter(Path target, Path temp, FileChannel channel, long limit, LongConsumer onCut) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
        this.limit = limit;
        this.onCut = onCut;
    }

    /**
     * Starts a trace that will replace {@code target} when finished. The target may not exist yet;
     * if it does it must be a regular file (a device such as /dev/full would be replaced by the
     * rename), and a symbolic link is followed to the file it names.
     *
     * @param limit the most bytes the trace may take; exits beyond it are counted, not recorded
     * @param onCut told once, with the number of exits recorded, when the limit cuts the trace
     */
    public static TraceWriter create(Path target, TraceHeader header, long limit, LongConsumer onCut)
            throws IOException, BadInputException {
        if (limit < MIN_LIMIT) {
            throw new BadInputException("a trace size limit must be at least " + InputFiles.describeSize(MIN_LIMIT)
                    + ", not " + limit + " bytes");
        }
        Path real = target;
        if (Files.exists(target)) {
            Optional<String> kind = InputFiles.irregularKind(target);
            if (kind.isPresent()) {
                throw new BadInputException(target + ": " + kind.get() + ", not a regular file (a trace replaces a "
                        + "regular file or creates one)");
            }
            real = target.toRealPath();
        }
        real = real.toAbsolutePath();
        Path dir = real.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new BadInputException(target + ": no such directory " + (dir == null ? "" : dir.toString()));
        }
        Path temp = null;
        FileChannel channel = null;
        for (int attempt = 0; channel == null; attempt++) {
            temp = dir.resolve("." + real.getFileName() + "." + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt())
                    + ".tmp");
            try {
                channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 10) {
                    throw e;
                }
            } catch (FileSystemException e) {
                // the temporary file's name means nothing to the user: name the trace and the directory
                throw new IOException(target + ": cannot write a trace in " + dir + ": "
                        + (e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                        : e.getReason() != null ? e.getReason() : e.toString()), e);
            }
        }
        if (Files.exists(real)) {
            try {
                Files.setPosixFilePermissions(temp, Files.getPosixFilePermissions(real)); // as if it were overwritten
            } catch (UnsupportedOperationException | IOException e) {
                // the default permissions will do
            }
        }
        TraceWriter w = new TraceWriter(real, temp, channel, limit, onCut);
        try {
            w.out.write(TraceFormat.preamble());
            w.written = TraceFormat.PREAMBLE_BYTES;
            byte[] h = TraceRecord.newBuilder().setHeader(header).build().toByteArray();
            if (w.written + TraceFormat.frameBytes(h.length) > limit - END_RESERVE) {
                throw new BadInputException("the trace header alone (" + h.length + " bytes) exceeds the size limit");
            }
            w.writeFrame(h);
        } catch (IOException | BadInputException | RuntimeException e) {
            w.discard();
            throw e;
        }
        return w;
    }

    /** The header a trace of this VM starts with. */
    public static TraceHeader header(VmConfig config, String engineVersion) {
        return TraceHeader.newBuilder().setConfig(config).setTdemuVersion("0.1.0").setEngineVersion(engineVersion).build();
    }

    @Override
    public synchronized void onExit(ExitEvent event) {
        if (finished || failure != null) {
            return;
        }
        if (notRecorded > 0) {
            notRecorded++; // cut: counted for the end record, not recorded
            return;
        }
        byte[] r = TraceRecord.newBuilder().setExit(event.toProto()).build().toByteArray();
        if (written + TraceFormat.frameBytes(r.length) > limit - END_RESERVE) {
            notRecorded = 1;
            if (onCut != null) {
                onCut.accept(recorded);
            }
            return;
        }
        try {
            writeFrame(r);
            recorded++;
        } catch (IOException e) {
            failure = e; // reported by finish; the guest runs on
        }
    }

    private void writeFrame(byte[] payload) throws IOException {
        TraceFormat.writeFrame(out, payload);
        written += TraceFormat.frameBytes(payload.length);
    }

    /**
     * Ends the trace with its end record and moves it onto the target. When writing failed at any
     * point, the temporary file is deleted instead, the target stays as it was, and the
     * exception says what happened.
     *
     * @param endedBy how the run ended, in words ("guest exited with status 0", "SIGINT")
     */
    public synchronized void finish(String endedBy) throws IOException {
        if (finished) {
            return;
        }
        finished = true;
        if (failure == null) {
            try {
                TraceEnd.Builder end = TraceEnd.newBuilder().setExitsRecorded(recorded).setExitsNotRecorded(notRecorded)
                        .setEndedBy(endedBy.length() > MAX_ENDED_BY ? endedBy.substring(0, MAX_ENDED_BY) : endedBy);
                if (notRecorded > 0) {
                    end.setSizeLimit(limit);
                }
                writeFrame(TraceRecord.newBuilder().setEnd(end).build().toByteArray());
                out.flush();
                channel.force(true);
                channel.close();
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                return;
            } catch (IOException e) {
                failure = e;
            }
        }
        discard();
        throw new IOException("writing the trace " + target + " failed after " + recorded + " exit(s): "
                + (failure.getMessage() != null ? failure.getMessage() : failure.toString()) + "; "
                + (Files.exists(target) ? "the file there was left as it was" : "no trace was written"), failure);
    }

    /** Finishes the trace (see {@link #finish}) if that has not happened yet. */
    @Override
    public void close() throws IOException {
        finish("the trace was closed");
    }

    /** Drops an unfinished trace: its temporary file goes and the target stays as it was (the run did not happen). */
    public synchronized void abandon() {
        if (!finished) {
            discard();
        }
    }

    private void discard() {
        finished = true;
        try {
            channel.close();
        } catch (IOException e) {
            // being discarded anyway
        }
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            // nothing better to do: it is a hidden temporary file
        }
    }

    public synchronized long exitsRecorded() {
        return recorded;
    }

    /** Exits after the size limit cut the trace. */
    public synchronized long exitsNotRecorded() {
        return notRecorded;
    }

    /** Where the finished trace goes (symbolic links resolved). */
    public Path target() {
        return target;
    }

    /** The temporary file the trace is written to until it is finished (tests). */
    Path temporaryFile() {
        return temp;
    }
}
