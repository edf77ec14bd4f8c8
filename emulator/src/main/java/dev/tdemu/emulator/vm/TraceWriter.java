package dev.tdemu.emulator.vm;

import dev.tdemu.proto.ExitRecord;
import dev.tdemu.proto.TraceHeader;
import dev.tdemu.proto.VmConfig;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an exit trace: a length-delimited {@link TraceHeader} followed by one length-delimited
 * {@link ExitRecord} per exit (trace.proto). {@link #read} reads one back.
 */
public final class TraceWriter implements Vm.ExitObserver, AutoCloseable {
    private final OutputStream out;

    public TraceWriter(Path file, VmConfig config, String engineVersion) throws IOException {
        out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
        TraceHeader.newBuilder().setConfig(config).setTdemuVersion("0.1.0").setEngineVersion(engineVersion).build()
                .writeDelimitedTo(out);
    }

    @Override
    public synchronized void onExit(ExitEvent event) {
        try {
            event.toProto().writeDelimitedTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the exit trace failed", e);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }

    public record Trace(TraceHeader header, List<ExitRecord> exits) {}

    public static Trace read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            TraceHeader header = TraceHeader.parseDelimitedFrom(in);
            if (header == null) {
                throw new IOException(file + ": empty, not an exit trace");
            }
            List<ExitRecord> exits = new ArrayList<>();
            ExitRecord r;
            while ((r = ExitRecord.parseDelimitedFrom(in)) != null) {
                exits.add(r);
            }
            return new Trace(header, exits);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IOException(file + ": not an exit trace (" + e.getMessage() + ")", e);
        }
    }
}
