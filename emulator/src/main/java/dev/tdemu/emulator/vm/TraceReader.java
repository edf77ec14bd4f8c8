package dev.tdemu.emulator.vm;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.tdemu.emulator.io.InputFiles;
import dev.tdemu.proto.ExitRecord;
import dev.tdemu.proto.TraceEnd;
import dev.tdemu.proto.TraceHeader;
import dev.tdemu.proto.TraceRecord;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * Reads an exit trace (trace.proto) one record at a time, in constant memory, from a file or a
 * pipe. A trace that does not start with the magic, version and header is refused
 * ({@link TraceFormatException}); after that every complete record is returned, and
 * {@link #ending()} says how the trace ended: with its end record, or short of it (the run that
 * wrote it was killed), inside a partial record (the file was cut), or at a damaged record.
 */
public final class TraceReader implements AutoCloseable {
    /** How the records of a trace ended. */
    public sealed interface Ending {
        /** The end record: the trace is whole. */
        record Complete(TraceEnd end) implements Ending {}

        /** Records stop at a record boundary without the end record: whatever wrote it did not finish. */
        record Unfinished(long offset) implements Ending {}

        /** The last record is partial: the file was cut short. */
        record Truncated(long offset, long partialBytes) implements Ending {}

        /** A record is not what the format says (its length, checksum or contents); nothing after it is read. */
        record Damaged(long offset, String problem) implements Ending {}
    }

    private final String name;
    private final InputStream in;
    private final TraceHeader header;
    private long offset;
    private long exits;
    private Ending ending;

    private TraceReader(String name, InputStream in) throws IOException, TraceFormatException {
        this.name = name;
        this.in = in;
        byte[] preamble = in.readNBytes(TraceFormat.PREAMBLE_BYTES);
        if (preamble.length == 0) {
            throw new TraceFormatException(name + ": an empty file, not a tdemu exit trace");
        }
        if (preamble.length < TraceFormat.MAGIC.length
                || !Arrays.equals(preamble, 0, TraceFormat.MAGIC.length, TraceFormat.MAGIC, 0, TraceFormat.MAGIC.length)) {
            throw new TraceFormatException(name + ": not a tdemu exit trace (it does not start with the trace magic; "
                    + "traces written before trace format version " + TraceFormat.VERSION + " have none and must be recorded again)");
        }
        if (preamble.length < TraceFormat.PREAMBLE_BYTES) {
            throw new TraceFormatException(name + ": a truncated trace (it ends inside its format version)");
        }
        long version = 0;
        for (int i = 3; i >= 0; i--) {
            version = (version << 8) | (preamble[TraceFormat.MAGIC.length + i] & 0xFF);
        }
        if (version != TraceFormat.VERSION) {
            throw new TraceFormatException(name + ": trace format version " + version + "; this tdemu reads version "
                    + TraceFormat.VERSION);
        }
        offset = TraceFormat.PREAMBLE_BYTES;
        TraceRecord first = readRecord();
        if (first == null || !first.hasHeader()) {
            throw new TraceFormatException(name + ": the trace header is " + switch (ending) {
                case null -> "not the first record";
                case Ending.Unfinished u -> "missing";
                case Ending.Truncated t -> "truncated";
                case Ending.Damaged d -> "damaged (" + d.problem() + ")";
                case Ending.Complete c -> "missing";
            });
        }
        header = first.getHeader();
    }

    /** Opens a trace file, or a pipe (read as it comes); a directory is refused. */
    public static TraceReader open(Path file) throws IOException, TraceFormatException {
        Optional<String> kind = InputFiles.irregularKind(file);
        if (kind.isPresent() && kind.get().equals("a directory")) {
            throw new TraceFormatException(file + ": a directory, not an exit trace");
        }
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            return new TraceReader(file.toString(), in);
        } catch (IOException | TraceFormatException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /** Reads a trace from a stream ({@code name} is what messages call it); closing the reader closes it. */
    public static TraceReader open(String name, InputStream in) throws IOException, TraceFormatException {
        return new TraceReader(name, in);
    }

    public TraceHeader header() {
        return header;
    }

    /** The next exit, or null when the exits are over; then {@link #ending()} says how the trace ended. */
    public ExitRecord next() throws IOException {
        while (ending == null) {
            long at = offset;
            TraceRecord r = readRecord();
            if (r == null) {
                return null;
            }
            switch (r.getRecordCase()) {
                case EXIT -> {
                    exits++;
                    return r.getExit();
                }
                case END -> {
                    long after = offset;
                    int extra = in.read();
                    ending = extra < 0 ? new Ending.Complete(r.getEnd())
                            : new Ending.Damaged(after, "more data after the end record");
                }
                case HEADER -> ending = new Ending.Damaged(at, "a second header");
                case RECORD_NOT_SET -> {
                    // a kind of record this version does not know: skipped
                }
            }
        }
        return null;
    }

    /** How the trace ended; null until {@link #next()} has returned null. */
    public Ending ending() {
        return ending;
    }

    /** Exits returned so far. */
    public long exitsRead() {
        return exits;
    }

    /**
     * What is wrong with a trace that did not end with its end record, in one line (empty when
     * it did): for a warning after its exits were shown.
     */
    public Optional<String> problem() {
        return switch (ending) {
            case null -> Optional.empty();
            case Ending.Complete c -> Optional.empty();
            case Ending.Unfinished u -> Optional.of(String.format("%s ends after %d exit(s) without its end record: "
                    + "the run that wrote it did not finish", name, exits));
            case Ending.Truncated t -> Optional.of(String.format("%s is truncated: it ends inside a record (%d byte(s) "
                    + "at offset %d); the %d complete exit(s) before it were read", name, t.partialBytes(), t.offset(), exits));
            case Ending.Damaged d -> Optional.of(String.format("%s is damaged at offset %d (%s); the %d exit(s) before "
                    + "it were read", name, d.offset(), d.problem(), exits));
        };
    }

    /**
     * One framed record, or null with {@link #ending} set: the input ended at a record boundary,
     * inside a record, or at a record that fails the framing checks.
     */
    private TraceRecord readRecord() throws IOException {
        long start = offset;
        int length = 0;
        int lengthBytes = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                ending = lengthBytes == 0 ? new Ending.Unfinished(start) : new Ending.Truncated(start, lengthBytes);
                return null;
            }
            if (lengthBytes == 4 && b > 0x0F) {
                ending = new Ending.Damaged(start, "a record length that does not fit in 32 bits");
                return null;
            }
            length |= (b & 0x7F) << (7 * lengthBytes);
            lengthBytes++;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        offset += lengthBytes;
        if (Integer.toUnsignedLong(length) > TraceFormat.MAX_RECORD_BYTES) {
            ending = new Ending.Damaged(start, "a record of " + Integer.toUnsignedString(length)
                    + " bytes, more than the 1 MiB a record may have");
            return null;
        }
        byte[] payload = in.readNBytes(length);
        offset += payload.length;
        if (payload.length < length) {
            ending = new Ending.Truncated(start, lengthBytes + payload.length);
            return null;
        }
        byte[] sum = in.readNBytes(TraceFormat.CHECKSUM_BYTES);
        offset += sum.length;
        if (sum.length < TraceFormat.CHECKSUM_BYTES) {
            ending = new Ending.Truncated(start, lengthBytes + payload.length + sum.length);
            return null;
        }
        int stored = (sum[0] & 0xFF) | (sum[1] & 0xFF) << 8 | (sum[2] & 0xFF) << 16 | (sum[3] & 0xFF) << 24;
        if (stored != TraceFormat.checksum(payload, length)) {
            ending = new Ending.Damaged(start, "checksum mismatch");
            return null;
        }
        try {
            return TraceRecord.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            ending = new Ending.Damaged(start, "not a trace record: " + e.getMessage());
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
