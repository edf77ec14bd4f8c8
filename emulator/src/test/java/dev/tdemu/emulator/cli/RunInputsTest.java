package dev.tdemu.emulator.cli;

import static dev.tdemu.emulator.cli.CliTest.tdemu;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.cli.CliTest.Run;
import dev.tdemu.emulator.elf.ElfBuilder;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** `tdemu run` with inputs it cannot use: one line on stderr naming the input and the limit, exit status 2. */
@Timeout(60)
class RunInputsTest {
    static void assertRefused(Run r, String message) {
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).startsWith("tdemu: ").contains(message).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(r.err().lines()).as("one line: " + r.err()).hasSize(1);
        assertThat(r.stdout()).as("the guest never ran").isEmpty();
    }

    static Stream<Arguments> badOptions() {
        return Stream.of(
                Arguments.of("--timeout 9223372036854775807s", "--timeout must be at most 168h (7 days), not '9223372036854775807s'"),
                Arguments.of("--timeout 99999999999999999999", "--timeout must be at most 168h (7 days), not '99999999999999999999'"),
                Arguments.of("--timeout 169h", "--timeout must be at most 168h"),
                Arguments.of("--timeout -5s", "--timeout: '-5s' is not a duration like 500ms, 10s or 2m"),
                Arguments.of("--host-watch ::", "--host-watch takes ADDR[:LEN[:w|rw]], e.g. 0x300100:8:w, not '::'"),
                Arguments.of("--host-watch :8", "--host-watch takes ADDR[:LEN[:w|rw]]"),
                Arguments.of("--host-watch 0x300100:3", "--host-watch length must be 1, 2, 4 or 8, not '3'"),
                Arguments.of("--host-watch 0x300100:eight", "--host-watch length must be 1, 2, 4 or 8, not 'eight'"),
                Arguments.of("--host-watch 0x300100:8:x", "--host-watch access must be w or rw, not 'x'"),
                Arguments.of("--host-watch 0x7ffffffffffffff8", "host data breakpoint 0x7ffffffffffffff8 must lie in host data"),
                Arguments.of("--host-break nowhere", "--host-break: 'nowhere' is not an address like 0x300100"),
                Arguments.of("--memory 0", "--memory must be a multiple of 2M from 4M to 4G, not '0'"),
                Arguments.of("--memory 3M", "--memory must be a multiple of 2M from 4M to 4G, not '3M'"),
                Arguments.of("--memory 5M", "--memory must be a multiple of 2M from 4M to 4G, not '5M'"),
                Arguments.of("--memory 8G", "--memory must be a multiple of 2M from 4M to 4G, not '8G'"),
                Arguments.of("--memory 99999999999G", "--memory: '99999999999G' is not a size like 64M or 1G"),
                Arguments.of("--vcpus 0", "--vcpus must be 1..64 (1..16 for tdemu's own guests), not 0"),
                Arguments.of("--vcpus 65", "--vcpus must be 1..64 (1..16 for tdemu's own guests), not 65"),
                Arguments.of("--vcpus 17", "vCPU count must be 1..16, not 17"),
                Arguments.of("--vcpus 4294967295", "Invalid value for option '--vcpus': '4294967295' is not an int"),
                Arguments.of("--gdb 70000", "--gdb PORT must be 0..65535 (0: any free port), not 70000"),
                Arguments.of("--trace x.trace --trace-limit 1K", "--trace-limit must be at least 64K"),
                Arguments.of("--mode sev", "--mode must be vmx, td or sev-es, not 'sev'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badOptions")
    void badOptionValuesAreRefusedNamingTheirLimits(String options, String message) {
        List<String> args = new ArrayList<>(List.of("run", "builtin:hello"));
        args.addAll(List.of(options.split(" ")));
        assertRefused(tdemu(args.toArray(String[]::new)), message);
    }

    @Test
    void aFifoAsGuestIsRefusedWithoutWaitingForAWriter(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("guest.fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor()).isZero();
        assertRefused(tdemu("run", fifo.toString(), "--timeout", "1s"), fifo + ": a FIFO, not a regular file");
    }

    @Test
    void devicesAndDirectoriesAsGuestsAreRefusedNamingThePath(@TempDir Path dir) {
        assertRefused(tdemu("run", "/dev/zero"), "/dev/zero: a character device, not a regular file");
        assertRefused(tdemu("run", dir.toString()), dir + ": a directory, not a regular file");
    }

    /** A valid little guest followed by {@code size} bytes of nothing (a sparse file: no disk used). */
    static Path sparse(Path dir, byte[] start, long size) throws Exception {
        Path file = Files.write(dir.resolve("big.elf"), start);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
        return file;
    }

    @Test
    void aGuestFileLargerThanGuestRamIsRefusedUnread(@TempDir Path dir) throws Exception {
        Path big = sparse(dir, ElfBuilder.valid().build(), 3L << 30);
        assertRefused(tdemu("run", big.toString()), "big.elf: the file is 3 GiB, larger than the guest's 64 MiB of RAM");
    }

    @Test
    void aBadHeaderIsRefusedWithoutReadingTheRestOfAHugeFile(@TempDir Path dir) throws Exception {
        Path big = sparse(dir, "not an ELF at all".getBytes(), 3L << 29);
        assertRefused(tdemu("run", big.toString(), "--memory", "2G"), "big.elf: not an ELF file (bad magic)");
    }
}
