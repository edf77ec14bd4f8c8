package dev.tdemu.gdbstub;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Runs the real gdb in batch mode against a stub, with a hard time limit. */
final class GdbRunner {

    record Result(int exitCode, String output, boolean timedOut) {
    }

    private GdbRunner() {
    }

    /** The gdb executable: {@code $GDB}, else the first {@code gdb} on the PATH. */
    static Optional<Path> gdb() {
        String env = System.getenv("GDB");
        if (env != null && Files.isExecutable(Path.of(env))) {
            return Optional.of(Path.of(env));
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(":")) {
            Path p = Path.of(dir, "gdb");
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The commands that connect gdb to the stub on {@code port}. */
    static List<String> connect(int port) {
        return List.of(
                "set pagination off",
                "set confirm off",
                "set width 0",
                "set remotetimeout 5",
                "set architecture i386:x86-64",
                "target remote 127.0.0.1:" + port);
    }

    /** Runs gdb with {@code commands} (each an {@code -ex}); kills it after {@code limit}. */
    static Result run(Duration limit, List<String> commands) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>();
        argv.add(gdb().orElseThrow().toString());
        argv.add("-batch");
        argv.add("-nx");
        argv.add("-q");
        for (String c : commands) {
            argv.add("-ex");
            argv.add(c);
        }
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().put("TERM", "dumb");
        Process p = pb.start();
        p.getOutputStream().close();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(buf);
            } catch (IOException ignored) {
                // the process was killed
            }
        });
        boolean done = p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        reader.join(2000);
        String out;
        synchronized (buf) {
            out = buf.toString(StandardCharsets.UTF_8);
        }
        return new Result(done ? p.exitValue() : -1, out, !done);
    }
}
