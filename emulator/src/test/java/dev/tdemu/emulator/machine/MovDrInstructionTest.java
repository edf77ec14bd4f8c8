package dev.tdemu.emulator.machine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class MovDrInstructionTest {
    private static MovDrInstruction decode(String hex) {
        return MovDrInstruction.decode(HexFormat.of().parseHex(hex), 0);
    }

    @Test
    void movRaxToDr7IsAWriteOfDr7FromRax() {
        // mov %rax,%db7
        assertThat(decode("0f23f8")).isEqualTo(new MovDrInstruction(true, 7, 0, 3, false));
    }

    @Test
    void movDr6ToRcxIsAReadOfDr6IntoRcx() {
        // mov %db6,%rcx
        assertThat(decode("0f21f1")).isEqualTo(new MovDrInstruction(false, 6, 1, 3, false));
    }

    @Test
    void rexBSelectsTheUpperGprs() {
        // mov %db0,%r9  (41 0f 21 c1)
        assertThat(decode("410f21c1")).isEqualTo(new MovDrInstruction(false, 0, 9, 4, false));
    }

    @Test
    void rexRSelectsDr8AndAboveWhichTheExecutorTreatsAsUndefined() {
        assertThat(decode("440f23c0").debugRegister()).isEqualTo(8);
    }

    @Test
    void modIsIgnoredBecauseTheOperandsAreAlwaysRegisters() {
        // mod=00 still means register operands for MOV DR
        assertThat(decode("0f2338")).isEqualTo(new MovDrInstruction(true, 7, 0, 3, false));
    }

    @Test
    void aRexFollowedByALegacyPrefixIsIgnored() {
        assertThat(decode("41660f21c1").gpr()).isEqualTo(1);
        assertThat(decode("41660f21c1").length()).isEqualTo(5);
    }

    @Test
    void lockPrefixIsReported() {
        assertThat(decode("f00f21c0").lockPrefix()).isTrue();
    }

    @Test
    void otherInstructionsAreNotMovDr() {
        assertThat(decode("0f20c0")).isNull(); // mov %cr0,%rax
        assertThat(decode("0f01c1")).isNull(); // vmcall
        assertThat(decode("90")).isNull();
        assertThat(decode("0f21")).isNull();   // truncated
        assertThat(decode("66666666666666666666666666660f21c0")).isNull(); // longer than 15 bytes
    }

}
