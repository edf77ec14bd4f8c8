package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.unicorn.X86Reg;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.VmConfig;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A debugger and the serial input on a Multiboot kernel, which starts in 32-bit protected mode with paging off. */
@Timeout(60)
class PcKernelDebugTest {
    /** mb-exit-pass: its entry (ELF32 at 1 MiB: the header's 12 bytes, then _start). */
    static final long ENTRY = 0x10000C;

    static Path kernel(Path dir, String name) {
        return dev.tdemu.emulator.pc.PcKernels.file(dir, name);
    }

    static VmConfig pc(Path kernel, boolean serialStdin) {
        return VmConfig.newBuilder().setGuestImage(kernel.toString()).setMachine(Machine.MACHINE_PC).setTimeoutMs(20_000)
                .setSerialStdin(serialStdin).build();
    }

    @Test
    void theDebuggerReadsStepsAndWritesAKernelWhosePagingIsOff(@TempDir Path dir) throws Exception {
        Path file = kernel(dir, "mb-exit-pass.elf");
        byte[] image = Files.readAllBytes(file);
        BlockingQueue<DebugEvent> events = new LinkedBlockingQueue<>();
        try (Vm vm = new Vm(VmSpec.from(pc(file, false)), Vm.Options.quiet())) {
            DebugSession session = vm.attachDebugger(new DebugListener() {
                public void stopped(DebugEvent e) { events.add(e); }
                public void ended(VmResult r) { events.add(new DebugEvent(-1, DebugEvent.Kind.EXITED, 0, 0, r.exitStatus())); }
            }, true);
            CompletableFuture<VmResult> result = CompletableFuture.supplyAsync(vm::run);
            assertThat(events.poll(20, TimeUnit.SECONDS).kind()).isEqualTo(DebugEvent.Kind.INTERRUPTED);
            assertThat(session.readRegister(0, X86Reg.RIP)).isEqualTo(ENTRY);
            assertThat(session.readRegister(0, X86Reg.CR0) & 0x8000_0001L).as("PE set, PG clear").isEqualTo(1);
            // The file's text (at offset 0x1000, linked at 1 MiB) is what the debugger reads at the entry.
            byte[] expected = Arrays.copyOfRange(image, 0x1000 + 12, 0x1000 + 12 + 16);
            assertThat(session.readMemory(0, ENTRY, 16)).isEqualTo(expected);
            assertThat(expected[0]).as("cli").isEqualTo((byte) 0xFA);

            assertThat(session.resume(Map.of(0, DebugSession.Action.STEP)).ok()).isTrue();
            DebugEvent step = events.poll(20, TimeUnit.SECONDS);
            assertThat(step.kind()).isEqualTo(DebugEvent.Kind.STEP);
            assertThat(step.rip()).as("after the one-byte CLI").isEqualTo(ENTRY + 1);

            // A software breakpoint needs a write through the same translation.
            assertThat(session.insertSoftware(ENTRY + 6).ok()).isTrue();
            assertThat(session.readMemory(0, ENTRY + 6, 1)).as("the debugger's INT3 reads as the byte it replaced")
                    .containsExactly(expected[6]);
            assertThat(session.resume(Map.of(0, DebugSession.Action.CONTINUE)).ok()).isTrue();
            DebugEvent bp = events.poll(20, TimeUnit.SECONDS);
            assertThat(bp.kind()).isEqualTo(DebugEvent.Kind.SOFTWARE_BREAKPOINT);
            assertThat(bp.rip()).isEqualTo(ENTRY + 6);
            assertThat(session.removeSoftware(ENTRY + 6).ok()).isTrue();
            assertThat(session.resume(Map.of(0, DebugSession.Action.CONTINUE)).ok()).isTrue();
            assertThat(result.get(20, TimeUnit.SECONDS).exitStatus()).isEqualTo(1);
        }
    }

    @Test
    void serialOutLeavesTheInputAloneAndSerialStdioFeedsIt(@TempDir Path dir) throws Exception {
        int[] reads = new int[1];
        InputStream counting = new InputStream() {
            private final InputStream data = new java.io.ByteArrayInputStream("ok\0".getBytes());

            @Override
            public synchronized int read() throws java.io.IOException {
                reads[0]++;
                return data.read();
            }
        };
        try (Vm vm = new Vm(VmSpec.from(pc(kernel(dir, "mb-exit-pass.elf"), false)), new Vm.Options(null, List.of(), counting))) {
            assertThat(vm.run().exitStatus()).isEqualTo(1);
            assertThat(vm.serialInputPump()).as("--serial out: nothing feeds COM1").isEmpty();
        }
        assertThat(reads[0]).isZero();
        try (Vm vm = new Vm(VmSpec.from(pc(kernel(dir, "mb-serial-echo.elf"), true)), new Vm.Options(null, List.of(), counting))) {
            VmResult r = vm.run();
            assertThat(r.console()).isEqualTo("ok");
            assertThat(r.exitStatus()).isEqualTo(85);
            assertThat(vm.serialInputPump().orElseThrow().delivered().get(20, TimeUnit.SECONDS)).isEqualTo(3);
        }
    }
}
