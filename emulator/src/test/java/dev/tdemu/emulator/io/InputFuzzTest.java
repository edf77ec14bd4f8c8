package dev.tdemu.emulator.io;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.check.ScenarioFormatException;
import dev.tdemu.emulator.check.Scenarios;
import dev.tdemu.emulator.elf.ElfBuilder;
import dev.tdemu.emulator.elf.ElfFormatException;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.elf.LoadSegment;
import dev.tdemu.emulator.vm.TraceFiles;
import dev.tdemu.emulator.vm.TraceFormatException;
import dev.tdemu.emulator.vm.TraceReader;
import dev.tdemu.proto.Scenario;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of the three readers of untrusted files: the ELF loader, the scenario parser and
 * the trace reader. Thousands of mutations of valid inputs each (truncations, bit flips, huge
 * offsets, sizes and counts) must each end in a valid result or in the project's own exception
 * ({@link BadInputException}) with a one-line message naming the input: never another
 * exception, an OutOfMemoryError or a hang. {@code -Dtdemu.fuzz.seed=N} replays another sequence;
 * a failing input is kept under target/fuzz-failures.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class InputFuzzTest {
    private static final long SEED = Long.getLong("tdemu.fuzz.seed", 0x7de3_5eedL);
    /** Values that break arithmetic: the ends of the signed and unsigned ranges, and their neighbours. */
    private static final long[] HUGE = {-1L, -2L, -16L, -56L, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 55,
            0xFFFF_FFFFL, 0x8000_0000L, 0x7FFF_FFFFL, 1L << 32, 1L << 40, 0xFFFF, 1L << 30, (1L << 30) + 1};

    private static byte[] resource(String name) {
        try (InputStream in = InputFuzzTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * One mutation of {@code input}: bit flips, random bytes, a huge value written over a field
     * ({@code fields} are offsets where the format keeps offsets, sizes and counts), a truncation,
     * or a chunk cut out, doubled or appended.
     */
    static byte[] mutate(byte[] input, int[] fields, Random r) {
        byte[] b = input.clone();
        int edits = 1 + r.nextInt(3);
        for (int e = 0; e < edits; e++) {
            switch (r.nextInt(7)) {
                case 0 -> { // bit flips
                    for (int i = 1 + r.nextInt(8); i > 0 && b.length > 0; i--) {
                        b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                    }
                }
                case 1 -> { // random bytes
                    for (int i = 1 + r.nextInt(8); i > 0 && b.length > 0; i--) {
                        b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                    }
                }
                case 2, 3 -> { // a huge value over a field the format reads as an offset, size or count
                    int at = fields.length > 0 && r.nextInt(4) != 0 ? fields[r.nextInt(fields.length)]
                            : b.length > 0 ? r.nextInt(b.length) : 0;
                    long v = r.nextInt(3) == 0 ? r.nextLong() : HUGE[r.nextInt(HUGE.length)];
                    int width = new int[] {1, 2, 4, 8}[r.nextInt(4)];
                    for (int i = 0; i < width && at + i < b.length; i++) {
                        b[at + i] = (byte) (v >>> (8 * i));
                    }
                }
                case 4 -> b = Arrays.copyOf(b, b.length == 0 ? 0 : r.nextInt(b.length)); // truncation
                case 5 -> { // a chunk cut out or doubled
                    if (b.length > 2) {
                        int from = r.nextInt(b.length - 1), len = 1 + r.nextInt(Math.min(64, b.length - from));
                        byte[] chunk = Arrays.copyOfRange(b, from, from + len);
                        byte[] out = new byte[b.length + (r.nextBoolean() ? len : -len)];
                        System.arraycopy(b, 0, out, 0, from);
                        if (out.length > b.length) {
                            System.arraycopy(chunk, 0, out, from, len);
                            System.arraycopy(b, from, out, from + len, b.length - from);
                        } else {
                            System.arraycopy(b, from + len, out, from, b.length - from - len);
                        }
                        b = out;
                    }
                }
                default -> { // junk appended
                    byte[] junk = new byte[1 + r.nextInt(64)];
                    r.nextBytes(junk);
                    byte[] out = Arrays.copyOf(b, b.length + junk.length);
                    System.arraycopy(junk, 0, out, b.length, junk.length);
                    b = out;
                }
            }
        }
        return b;
    }

    /** What a failing input was: kept for replay, and named in the failure. */
    private static AssertionError failure(String what, int i, byte[] input, Throwable t) {
        Path kept = Path.of("target", "fuzz-failures", what + "-" + Long.toHexString(SEED) + "-" + i + ".bin");
        try {
            Files.createDirectories(kept.getParent());
            Files.write(kept, input);
        } catch (IOException e) {
            // the message still names the input's start
        }
        return new AssertionError(String.format("%s input #%d (seed 0x%x, kept in %s, starts %s): %s", what, i, SEED, kept,
                HexFormat.of().formatHex(input, 0, Math.min(32, input.length)), t), t);
    }

    private static void assertClear(BadInputException e, String name) {
        assertThat(e.getMessage()).startsWith(name).doesNotContain("\n").doesNotContain("\r").hasSizeLessThan(1100);
    }

    /** Offsets of the ELF fields that are offsets, sizes and counts: header, program and section headers. */
    private static int[] elfFields(byte[] elf) {
        List<Integer> f = new ArrayList<>(List.of(24, 32, 40, 54, 56, 58, 60, 62));
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        long phoff = b.getLong(32), shoff = b.getLong(40);
        int phnum = b.getShort(56) & 0xFFFF, shnum = b.getShort(60) & 0xFFFF;
        for (int i = 0; i < phnum && phoff + 56L * (i + 1) <= elf.length; i++) {
            for (int field : new int[] {0, 8, 16, 32, 40}) {
                f.add((int) phoff + 56 * i + field);
            }
        }
        for (int i = 0; i < shnum && shoff > 0 && shoff + 64L * (i + 1) <= elf.length; i++) {
            for (int field : new int[] {4, 24, 32, 40}) {
                f.add((int) shoff + 64 * i + field);
            }
        }
        return f.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void checkImage(ElfImage img) {
        List<LoadSegment> segs = img.segments();
        assertThat(segs).isNotEmpty();
        for (int i = 1; i < segs.size(); i++) {
            assertThat(Long.compareUnsigned(segs.get(i).address(), segs.get(i - 1).end())).isGreaterThanOrEqualTo(0);
        }
        assertThat(segs).anyMatch(s -> s.executable() && s.contains(img.entry()));
        for (LoadSegment s : segs) {
            assertThat((long) s.data().length).isLessThanOrEqualTo(s.memorySize());
        }
    }

    @Test
    void theElfLoaderEndsEveryMutatedImageInAnImageOrAClearRefusal(@TempDir Path dir) throws Exception {
        List<byte[]> corpus = List.of(ElfBuilder.valid().note().build(), resource("/guests/hello.elf"),
                resource("/guests/debugger-target.elf"));
        Random r = new Random(SEED);
        int images = 0, refusals = 0;
        for (int i = 0; i < 6000; i++) {
            byte[] base = corpus.get(i % corpus.size());
            byte[] input = mutate(base, elfFields(base), r);
            boolean viaFile = i % 20 == 0; // the positional reads of a real file, not only an array
            try {
                ElfImage img;
                if (viaFile) {
                    Path f = Files.write(dir.resolve("fuzz"), input);
                    img = ElfImage.load(f, 64L << 20);
                } else {
                    img = ElfImage.parse("fuzz", input);
                }
                checkImage(img);
                images++;
            } catch (ElfFormatException e) {
                assertClear(e, "fuzz");
                refusals++;
            } catch (Throwable t) {
                throw failure("elf", i, input, t);
            }
        }
        // Both outcomes are common, so the mutations reach past the first checks.
        assertThat(images).as("mutations that still load").isGreaterThan(600);
        assertThat(refusals).as("mutations refused").isGreaterThan(600);
    }

    /** Text-level mutations a person or a tool might produce: huge numbers, lost quotes, deep nesting, bad encodings. */
    private static byte[] mutateText(String text, Random r) {
        String t = text;
        switch (r.nextInt(6)) {
            case 0 -> t = t.replaceFirst("\\b\\d+\\b", new String[] {"18446744073709551615", "18446744073709551616",
                    "9223372036854775807", "9223372036854775808", "-1", "4294967295", "99999999999999999999", "0x"}[r.nextInt(8)]);
            case 1 -> t = t.replaceFirst("\"", "");
            case 2 -> t = t + "debugger { ".repeat(1 + r.nextInt(5000));
            case 3 -> t = t + new String[] {"vcpus: ", "timeout_ms: ", "expected_exit_status: ", "modes: ", "checks: ",
                    "host_breakpoints { address: ", "debugger { breakpoints { length: "}[r.nextInt(7)]
                    + new String[] {"4294967295", "18446744073709551615", "-1", "GUEST_MODE_TD", "\"NO_LEAK\"", "7"}[r.nextInt(6)]
                    + (t.contains("{ address") ? "" : " }".repeat(r.nextInt(3)));
            case 4 -> {
                byte[] b = t.getBytes(StandardCharsets.UTF_8);
                if (b.length > 0) {
                    b[r.nextInt(b.length)] = (byte) (0x80 + r.nextInt(128)); // not UTF-8 on its own
                }
                return b;
            }
            default -> { }
        }
        return mutate(t.getBytes(StandardCharsets.UTF_8), new int[0], r);
    }

    @Test
    void theScenarioParserEndsEveryMutatedScenarioInAScenarioOrAClearRefusal() throws Exception {
        List<String> corpus = new ArrayList<>();
        for (String name : new String(resource("/scenarios/index.txt"), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList()) {
            corpus.add(new String(resource("/scenarios/" + name.trim() + ".textproto"), StandardCharsets.UTF_8));
        }
        ElfImage target = ElfImage.builtin("debugger-target");
        Random r = new Random(SEED + 1);
        int parsed = 0, refusals = 0;
        for (int i = 0; i < 4000; i++) {
            byte[] input = r.nextInt(3) == 0 ? mutate(corpus.get(i % corpus.size()).getBytes(StandardCharsets.UTF_8), new int[0], r)
                    : mutateText(corpus.get(i % corpus.size()), r);
            try {
                Scenario s = Scenarios.parse("fuzz.textproto", input);
                Scenarios.debuggerAddresses(s, target);
                parsed++;
            } catch (ScenarioFormatException e) {
                assertThat(e.getMessage()).matches("(fuzz\\.textproto|scenario ).*");
                assertClear(e, e.getMessage().startsWith("scenario ") ? "scenario " : "fuzz.textproto");
                refusals++;
            } catch (Throwable t) {
                throw failure("scenario", i, input, t);
            }
        }
        assertThat(parsed).isPositive();
        assertThat(refusals).isPositive();
    }

    @Test
    void theTraceReaderEndsEveryMutatedTraceInRecordsOrAClearRefusal(@TempDir Path dir) throws Exception {
        byte[] base = TraceFiles.trace(20);
        int[] fields = new int[21 + 2];
        for (int i = 1; i <= 21; i++) {
            fields[i - 1] = TraceFiles.offsetOfExit(i); // each record's length (exit 21: the end record)
        }
        fields[21] = 8; // the format version
        fields[22] = 12; // the header's length
        Random r = new Random(SEED + 2);
        int whole = 0, partial = 0, refusals = 0;
        for (int i = 0; i < 6000; i++) {
            byte[] input = mutate(base, fields, r);
            try (TraceReader t = TraceReader.open("fuzz", new ByteArrayInputStream(input))) {
                long exits = 0;
                while (t.next() != null) {
                    exits++;
                }
                assertThat(exits).isEqualTo(t.exitsRead()).isLessThanOrEqualTo(20 + 2);
                assertThat(t.ending()).isNotNull();
                if (t.ending() instanceof TraceReader.Ending.Complete) {
                    assertThat(t.problem()).isEmpty();
                    whole++;
                } else {
                    assertThat(t.problem()).hasValueSatisfying(p -> assertThat(p).startsWith("fuzz").doesNotContain("\n"));
                    partial++;
                }
            } catch (TraceFormatException e) {
                assertClear(e, "fuzz");
                refusals++;
            } catch (Throwable t) {
                throw failure("trace", i, input, t);
            }
        }
        assertThat(partial).isPositive();
        assertThat(refusals).isPositive();
        assertThat(whole + partial + refusals).isEqualTo(6000);
    }
}
