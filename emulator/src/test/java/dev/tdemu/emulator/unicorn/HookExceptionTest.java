package dev.tdemu.emulator.unicorn;

import static dev.tdemu.emulator.unicorn.BindingGuests.NOPS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A Throwable thrown in a hook never reaches native code: it comes back out of emuStart. */
class HookExceptionTest {
    private BareMachine m;
    private Unicorn uc;

    @BeforeEach
    void open() {
        m = BindingGuests.machine("binding-hooks");
        uc = m.engine();
    }

    @AfterEach
    void close() {
        m.close();
    }

    static final class GuestCheckFailed extends RuntimeException {
        GuestCheckFailed(String message) {
            super(message);
        }
    }

    @Test
    void aRuntimeExceptionInACodeHookIsRethrownAsIsAndTheEngineStaysUsable() {
        GuestCheckFailed thrown = new GuestCheckFailed("boom at nop 2");
        Hook h = uc.addCodeHook(NOPS + 2, NOPS + 2, (u, address, size) -> {
            throw thrown;
        });
        assertThatThrownBy(() -> uc.emuStart(NOPS)).isSameAs(thrown);
        assertThat(uc.readReg(X86Reg.RIP)).as("the engine stopped at the failing hook").isEqualTo(NOPS + 2);
        h.close();
        assertThat(uc.emuStart(NOPS)).isEqualTo(EmuResult.COMPLETED);
        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(NOPS + 5);
    }

    @Test
    void anErrorInAnOutHookIsRethrownAsIs() {
        uc.addInHook((u, port, size) -> 0);
        uc.addOutHook((u, port, size, value) -> {
            throw new AssertionError("unexpected OUT to 0x" + Integer.toHexString(port));
        });
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.PORT_IO))
                .isInstanceOf(AssertionError.class)
                .hasMessage("unexpected OUT to 0x80");
        uc.emuStart(NOPS);
    }

    @Test
    void aStackOverflowInAHookDoesNotKillTheJvm() {
        uc.addCodeHook(NOPS, NOPS, (u, address, size) -> recurse(0));
        assertThatThrownBy(() -> uc.emuStart(NOPS)).isInstanceOf(StackOverflowError.class);
        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(NOPS);
    }

    private static int recurse(int depth) {
        return recurse(depth + 1) + 1;
    }

    @Test
    void laterHooksOfAFailedRunAreSkipped() {
        List<Integer> outs = new ArrayList<>();
        uc.addInHook((u, port, size) -> {
            throw new IllegalStateException("no device at port 0x" + Integer.toHexString(port));
        });
        uc.addOutHook((u, port, size, value) -> outs.add(port));
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.PORT_IO))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("no device at port 0x60");
        assertThat(outs).isEmpty();
    }

    @Test
    void failuresInReturningHooksGiveTheEngineASafeDefaultAndTheEnginesErrorIsAttached() {
        uc.addInvalidMemoryHook(EnumSet.of(MemType.READ_UNMAPPED), 1, 0, (u, type, address, size, value) -> {
            throw new UnsupportedOperationException("cannot map 0x" + Long.toHexString(address));
        });
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.UNMAPPED))
                .isInstanceOf(UnsupportedOperationException.class)
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement()
                        .satisfies(s -> assertThat(((UnicornException) s).error()).isEqualTo(UcError.READ_UNMAPPED)));
        uc.emuStart(NOPS);
    }

    @Test
    void exceptionsInInterruptAndInvalidInstructionHooksSurfaceToo() {
        Hook intr = uc.addInterruptHook((u, vector) -> {
            throw new IllegalArgumentException("vector " + vector);
        });
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.INT3)).hasMessage("vector 3");
        intr.close();
        uc.addInvalidInstructionHook(u -> {
            throw new IllegalArgumentException("vmcall");
        });
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.INVALID)).hasMessage("vmcall");
        uc.emuStart(NOPS);
    }

    @Test
    void aCheckedExceptionSmuggledOutOfAHookComesWrapped() {
        uc.addCodeHook(NOPS, NOPS, (u, address, size) -> sneakyThrow(new java.io.IOException("disk")));
        assertThatThrownBy(() -> uc.emuStart(NOPS))
                .isInstanceOf(java.lang.reflect.UndeclaredThrowableException.class)
                .hasCauseInstanceOf(java.io.IOException.class);
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void sneakyThrow(Throwable t) throws T {
        throw (T) t;
    }

    @Test
    void manyFailingRunsInARowLeaveTheEngineHealthy() {
        uc.addCodeHook(NOPS + 1, NOPS + 1, (u, address, size) -> {
            throw new IllegalStateException("again");
        });
        for (int i = 0; i < 200; i++) {
            assertThatThrownBy(() -> uc.emuStart(NOPS)).hasMessage("again");
        }
    }
}
