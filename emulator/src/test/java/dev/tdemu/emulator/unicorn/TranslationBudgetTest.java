package dev.tdemu.emulator.unicorn;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The engine's translation buffer never fills during a run, whatever drops translations: every
 * block translated is counted and the buffer is flushed between runs before it could fill (the
 * engine's own flush inside a run crashes it; RobustnessTest runs the guests that showed that).
 */
@Timeout(120)
class TranslationBudgetTest {
    /**
     * What the debugger does when it writes code or an INT3: drop the range's translations and run
     * again. 200,000 re-translations are well past what 32 MiB holds, so the budget must flush.
     */
    @Test
    void translationsDroppedByTheHostAreCountedAndFlushedBetweenRuns() {
        try (BareMachine m = BindingGuests.machine("binding-hltloop")) {
            Unicorn uc = m.engine();
            uc.write(0x100, new byte[] {(byte) 0xEB, 0x00, (byte) 0xF4}); // jmp 1f; 1: hlt
            for (int i = 0; i < 200_000; i++) {
                uc.removeCache(0x100, 0x103);
                assertThat(uc.emuStart(0x100)).isEqualTo(EmuResult.COMPLETED);
                assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(0x103); // right after the hlt, every time
            }
            assertThat(uc.budgetFlushes()).isPositive();
        }
    }

    /** A run that translates without end (here: one that keeps rewriting its own loop) is stopped, flushed and resumed inside emuStart. */
    @Test
    void aRunThatKeepsTranslatingIsFlushedWithoutEndingIt() {
        try (BareMachine m = BindingGuests.machine("binding-hltloop")) {
            Unicorn uc = m.engine();
            // At 0x100: store a new immediate into the mov below, mov, dec, jnz back: every
            // iteration invalidates the block it runs in. 200,000 iterations, then hlt.
            byte[] code = {
                (byte) 0x48, (byte) 0xC7, (byte) 0xC1, 0x40, 0x0D, 0x03, 0x00,   // mov $200000, %rcx
                (byte) 0x48, (byte) 0x8D, 0x3D, 0x03, 0x00, 0x00, 0x00,          // lea patch(%rip), %rdi
                (byte) 0x88, 0x4F, 0x01,                                         // 1: mov %cl, 1(%rdi)
                (byte) 0xB0, 0x11,                                               // patch: mov $0x11, %al
                (byte) 0x48, (byte) 0xFF, (byte) 0xC9,                           // dec %rcx
                (byte) 0x75, (byte) 0xF6,                                        // jnz 1b
                (byte) 0xF4                                                      // hlt
            };
            uc.write(0x100, code);
            uc.removeCache(0x100, 0x100 + code.length);
            assertThat(uc.emuStart(0x100)).isEqualTo(EmuResult.COMPLETED);
            assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(0x100 + code.length);
            assertThat(uc.readReg(X86Reg.RCX)).isZero();
            assertThat(uc.readReg(X86Reg.RAX) & 0xFF).isEqualTo(1); // the last patch wrote 1
            assertThat(uc.budgetFlushes()).isPositive();
        }
    }
}
