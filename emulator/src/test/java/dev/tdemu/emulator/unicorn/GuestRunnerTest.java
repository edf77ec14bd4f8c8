package dev.tdemu.emulator.unicorn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.elf.ElfImage;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class GuestRunnerTest {
    @Test
    void theHelloGuestPrintsItsGreetingAndExitsWithStatus0() throws Exception {
        GuestRunner.Result r = GuestRunner.run(ElfImage.builtin("hello"), Duration.ofSeconds(10));
        assertThat(r).isEqualTo(new GuestRunner.Exited("Hello from a tdemu guest!\n", 0));
    }

    @Test
    void theHelloGuestThroughRawOutHooks() throws Exception {
        try (BareMachine m = BareMachine.create()) {
            Unicorn uc = m.engine();
            long entry = m.load(ElfImage.builtin("hello"));
            StringBuilder console = new StringBuilder();
            int[] status = {-1};
            uc.addOutHook((u, port, size, value) -> {
                switch (port) {
                    case 0xE9 -> console.append((char) value);
                    case 0xF4 -> {
                        status[0] = value;
                        u.emuStop();
                    }
                    default -> throw new AssertionError("OUT to port 0x" + Integer.toHexString(port));
                }
            });
            assertThat(uc.emuStart(entry)).isEqualTo(EmuResult.COMPLETED);
            assertThat(console).hasToString("Hello from a tdemu guest!\n");
            assertThat(status[0]).isZero();
        }
    }

    /** The timer stops the engine (a guest that never exits would otherwise hang the test until its JUnit timeout). */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aGuestThatNeverExitsIsStoppedAfterTheTimeout() {
        GuestRunner.Result r = GuestRunner.run(BindingGuests.image("binding-loop"), Duration.ofMillis(300));
        assertThat(r).isInstanceOfSatisfying(GuestRunner.Failed.class,
                f -> assertThat(f.reason()).startsWith("guest did not exit within 300 ms"));
    }

    @Test
    void aGuestThatHaltsWithoutExitingIsReported() {
        GuestRunner.Result r = GuestRunner.run(BindingGuests.image("binding-hltloop"), Duration.ofSeconds(10));
        assertThat(r).isInstanceOfSatisfying(GuestRunner.Failed.class,
                f -> assertThat(f.reason()).isEqualTo("guest halted at RIP 0x100001 without writing an exit status to port 0xF4"));
    }

    @Test
    void portIoOutsideTheConventionIsReported() {
        GuestRunner.Result r = GuestRunner.run(BindingGuests.image("binding-outloop"), Duration.ofSeconds(10));
        assertThat(r).isInstanceOfSatisfying(GuestRunner.Failed.class, f -> assertThat(f.reason())
                .isEqualTo("OUT of 1 byte(s) 0x0 to unhandled port 0x80 in the code block at 0x100000"));
    }

    @Test
    void anUnhandledExceptionIsReportedWithVectorErrorCodeAndRip() {
        // binding-hooks' first scenario runs into the next slot's padding; start it at the #GP slot instead
        ElfImage hooks = BindingGuests.image("binding-hooks");
        ElfImage gp = new ElfImage("gp", BindingGuests.GP, hooks.segments(), java.util.Map.of());
        GuestRunner.Result r = GuestRunner.run(gp, Duration.ofSeconds(10));
        assertThat(r).isInstanceOfSatisfying(GuestRunner.Failed.class, f -> assertThat(f.reason())
                .isEqualTo("unhandled exception #GP (vector 13, error code 0x1234) at RIP 0x100b04"));
    }

    @Test
    void anInvalidInstructionIsReportedWithItsBytes() {
        ElfImage hooks = BindingGuests.image("binding-hooks");
        ElfImage vmcall = new ElfImage("vmcall", BindingGuests.INVALID, hooks.segments(), java.util.Map.of());
        GuestRunner.Result r = GuestRunner.run(vmcall, Duration.ofSeconds(10));
        assertThat(r).isInstanceOfSatisfying(GuestRunner.Failed.class, f -> assertThat(f.reason())
                .isEqualTo("invalid instruction at RIP 0x100900 (bytes 0f 01 c1)"));
    }
}
