package dev.tdemu.emulator.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NullStackSegmentTest {
    @Test
    void theScanFindsMovToSsWithItsPrefixesAndNoOtherSegmentRegister() {
        byte[] code = {(byte) 0x8E, (byte) 0xD8, // mov %eax, %ds
            0x66, 0x41, (byte) 0x8E, (byte) 0xD0, // mov %r8w, %ss (prefixed)
            (byte) 0x8E, 0x15, 0, 0, 0, 0}; // mov 0(%rip), %ss
        assertThat(NullStackSegment.candidateStarts(code)).containsExactly(2, 3, 4, 6);
    }

    @Test
    void aNullSelectorIsRefusedAtCpl3AndWhereverItsRplIsNotTheCpl() {
        assertThat(NullStackSegment.refusedIn64BitMode(0, 0)).isFalse();
        assertThat(NullStackSegment.refusedIn64BitMode(3, 0)).isTrue();
        assertThat(NullStackSegment.refusedIn64BitMode(1, 0)).isTrue();
        assertThat(NullStackSegment.refusedIn64BitMode(2, 2)).isFalse();
        assertThat(NullStackSegment.refusedIn64BitMode(3, 3)).as("never at CPL 3").isTrue();
        assertThat(NullStackSegment.refusedIn64BitMode(0x13, 0)).as("not null: the engine's checks apply").isFalse();
        assertThat(NullStackSegment.refusedIn64BitMode(4, 0)).as("index 0 in the LDT is not null").isFalse();
    }
}
