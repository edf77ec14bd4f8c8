package dev.tdemu.emulator.cli;

import static dev.tdemu.emulator.cli.CliTest.tdemu;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.cli.CliTest.Run;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The guest's console on stdout: a byte stream, passed through unchanged and in full. */
@Timeout(120)
class ConsoleOutputTest {
    @Test
    void bytesAbove0x7fReachStdoutUnchanged(@TempDir Path dir) throws Exception {
        Path guest = TestGuests.printing(dir, new byte[] {0x41, (byte) 0xE9, (byte) 0xFF, 0x0A}, 0);
        Run r = tdemu("run", guest.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.stdout()).containsExactly(0x41, 0xE9, 0xFF, 0x0A);
    }

    @Test
    void outputBeyondWhatIsKeptStillReachesStdoutInFullAndTheReportSaysItIsNotKept(@TempDir Path dir) throws Exception {
        int chunk = 1 << 20, times = 17;
        Path guest = TestGuests.printingRepeatedly(dir, chunk, times);
        Run r = tdemu("run", guest.toString(), "--timeout", "60s");
        assertThat(r.exit()).as(r.err()).isZero();
        byte[] out = r.stdout();
        assertThat(out).hasSize(chunk * times);
        for (int i = 0; i < out.length; i += 4099) {
            assertThat(out[i]).as("byte %d", i).isEqualTo((byte) (i % chunk));
        }
        assertThat(r.err()).isEqualTo("tdemu: console output beyond 16 MiB is not kept in the report (all of it went to stdout)\n");
    }
}
