package dev.tdemu.emulator.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.emulator.machine.X86Decoder;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class AlignedVectorAccessTest {
    private static boolean aligned(String hex) {
        return AlignedVectorAccess.isAlignedMove(X86Decoder.decode(HexFormat.of().parseHex(hex), 0, ExecutionMode.LONG_64)
                .instructionOrNull());
    }

    @Test
    void theAlignedMovesWithAMemoryOperandAreRecognisedAndTheirUnalignedSiblingsAreNot() {
        assertThat(aligned("0f2807")).as("movaps (%rdi), %xmm0").isTrue();
        assertThat(aligned("0f294708")).as("movaps %xmm0, 8(%rdi)").isTrue();
        assertThat(aligned("660f2807")).as("movapd (%rdi), %xmm0").isTrue();
        assertThat(aligned("660f6f07")).as("movdqa (%rdi), %xmm0").isTrue();
        assertThat(aligned("660fe707")).as("movntdq %xmm0, (%rdi)").isTrue();
        assertThat(aligned("660f382a07")).as("movntdqa (%rdi), %xmm0").isTrue();
        assertThat(aligned("0f2b07")).as("movntps %xmm0, (%rdi)").isTrue();
        assertThat(aligned("0f1007")).as("movups").isFalse();
        assertThat(aligned("f30f6f07")).as("movdqu").isFalse();
        assertThat(aligned("0f6f07")).as("movq (%rdi), %mm0 (MMX)").isFalse();
        assertThat(aligned("0f28c1")).as("movaps %xmm1, %xmm0 (registers)").isFalse();
    }

    @Test
    void theScanFindsOnlyTheMemoryForms() {
        byte[] code = HexFormat.of().parseHex("0f28c1" + "660f2907" + "0f1007" + "660f382a07");
        assertThat(AlignedVectorAccess.candidateStarts(code)).containsExactly(3, 4, 10, 11);
    }
}
