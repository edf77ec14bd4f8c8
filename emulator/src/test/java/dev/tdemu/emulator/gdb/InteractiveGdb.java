package dev.tdemu.emulator.gdb;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real gdb driven command by command through its standard input, for flows where what to do
 * next depends on what gdb has printed (non-stop mode: a stop arrives while gdb takes commands).
 * Each {@link #command} waits for a marker gdb echoes after the command, each {@link #await} for
 * a pattern in what gdb printed since; both are waits on gdb's output, with a 60 s bound.
 */
final class InteractiveGdb implements AutoCloseable {
    private static final long LIMIT_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final Process process;
    private final OutputStream in;
    private final StringBuilder output = new StringBuilder();
    /** Where the next {@link #await} starts looking. */
    private int seen;
    private int markers;
    private boolean ended;

    InteractiveGdb(Path gdb) throws IOException {
        process = new ProcessBuilder(List.of(gdb.toString(), "-q", "-nx")).redirectErrorStream(true).start();
        in = process.getOutputStream();
        Thread reader = new Thread(() -> read(process.getInputStream()), "gdb-output");
        reader.setDaemon(true);
        reader.start();
    }

    private void read(InputStream stream) {
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = stream.read(buf)) > 0) {
                synchronized (this) {
                    output.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                    notifyAll();
                }
            }
        } catch (IOException e) {
            // gdb is gone
        }
        synchronized (this) {
            ended = true;
            notifyAll();
        }
    }

    /** Sends one line to gdb without waiting. */
    void send(String line) throws IOException {
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /** Sends gdb SIGINT, as a Ctrl-C at its terminal would. */
    void interrupt() throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start().waitFor();
    }

    /** Runs {@code line} and returns what gdb printed for it (up to the marker echoed after it). */
    String command(String line) throws IOException, InterruptedException {
        String marker = "@@done-" + (++markers) + "@@";
        send(line);
        send("echo " + marker + "\\n");
        await(Pattern.quote(marker));
        return printedBefore(marker);
    }

    private String lastChunk = "";

    private synchronized String printedBefore(String marker) {
        return lastChunk.substring(0, lastChunk.lastIndexOf(marker));
    }

    /**
     * Waits until gdb has printed {@code regex} (after what earlier waits consumed) and returns the
     * match; fails with everything gdb printed if it does not come within 60 s or gdb ends.
     */
    synchronized Matcher await(String regex) throws InterruptedException {
        Pattern p = Pattern.compile(regex);
        long deadline = System.nanoTime() + LIMIT_NANOS;
        while (true) {
            Matcher m = p.matcher(output);
            if (m.find(seen)) {
                lastChunk = output.substring(seen, m.end());
                seen = m.end();
                return m;
            }
            long left = deadline - System.nanoTime();
            if (ended || left <= 0) {
                throw new AssertionError("gdb never printed /" + regex + "/" + (ended ? " (gdb ended)" : "")
                        + "; its output:\n" + output);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    /** Where gdb's output ends now: for {@link #awaitFrom}, to look for an event that may come before or after a command's marker. */
    synchronized int position() {
        return output.length();
    }

    /** Like {@link #await}, looking from {@code from} (a {@link #position()}) on, markers and all. */
    synchronized Matcher awaitFrom(int from, String regex) throws InterruptedException {
        int before = seen;
        seen = from;
        try {
            return await(regex);
        } finally {
            seen = Math.max(seen, before);
        }
    }

    /** Everything gdb printed so far. */
    synchronized String output() {
        return output.toString();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            send("quit");
            in.close();
        } catch (IOException e) {
            // already gone
        }
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
