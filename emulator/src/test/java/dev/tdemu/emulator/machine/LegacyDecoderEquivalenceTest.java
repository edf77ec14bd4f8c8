package dev.tdemu.emulator.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.emulator.cpu.PortIo;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The new decoder yields every fact the hand-written 64-bit decoders yield, so their callers can
 * move over: {@link MovDrInstruction} (machine) and {@code cpu.PortIo}. Delete each half with the
 * class it checks.
 */
class LegacyDecoderEquivalenceTest {
    private static final int[] PREFIXES = {0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65, 0x40, 0x41,
        0x44, 0x45, 0x48, 0x4C, 0x4F};

    /** A random prefix run, then {@code opcode}, then random bytes. */
    private static byte[] sample(Random r, int... opcode) {
        byte[] code = new byte[16];
        r.nextBytes(code);
        int n = r.nextInt(8);
        for (int i = 0; i < n; i++) {
            code[i] = (byte) PREFIXES[r.nextInt(PREFIXES.length)];
        }
        for (int i = 0; i < opcode.length; i++) {
            code[n + i] = (byte) opcode[i];
        }
        return java.util.Arrays.copyOf(code, n + opcode.length + r.nextInt(3));
    }

    @Test
    void movDrFactsAreTheSame() {
        Random r = new Random(11);
        int compared = 0;
        for (int k = 0; k < 20_000; k++) {
            byte[] code = sample(r, 0x0F, r.nextBoolean() ? 0x21 : 0x23);
            MovDrInstruction old = MovDrInstruction.decode(code, 0);
            X86Instruction insn = X86Decoder.decode(code, 0, ExecutionMode.LONG_64).instructionOrNull();
            if (old == null) {
                assertThat(insn).as("%s", java.util.HexFormat.of().formatHex(code)).isNull();
                continue;
            }
            Operation.MovDr movDr = (Operation.MovDr) insn.operation();
            assertThat(movDr).isEqualTo(new Operation.MovDr(old.toDebugRegister(), old.debugRegister(), old.gpr()));
            assertThat(insn.length()).isEqualTo(old.length());
            assertThat(insn.prefixes().lock()).isEqualTo(old.lockPrefix());
            compared++;
        }
        assertThat(compared).isGreaterThan(10_000);
    }

    /**
     * Same facts, except one the old decoder got wrong: with both 0x66 and REX.W, REX.W decides the
     * operand size (32-bit I/O), as it does for every instruction and as QEMU decodes it.
     */
    @Test
    void portIoFactsAreTheSame() {
        Random r = new Random(12);
        int[] opcodes = {0xE4, 0xE5, 0xE6, 0xE7, 0xEC, 0xED, 0xEE, 0xEF, 0x6C, 0x6D, 0x6E, 0x6F};
        int compared = 0;
        for (int k = 0; k < 20_000; k++) {
            byte[] code = sample(r, opcodes[r.nextInt(opcodes.length)]);
            PortIo old = PortIo.decode(code, 0);
            X86Instruction insn = X86Decoder.decode(code, 0, ExecutionMode.LONG_64).instructionOrNull();
            if (old == null || insn == null) {
                assertThat(insn == null).as("%s", java.util.HexFormat.of().formatHex(code)).isEqualTo(old == null);
                continue;
            }
            Operation.PortIo io = (Operation.PortIo) insn.operation();
            int size = (insn.rex() & 8) != 0 && insn.prefixes().operandSize() && old.size() == 2 ? 4 : old.size();
            assertThat(io).as("%s", java.util.HexFormat.of().formatHex(code))
                    .isEqualTo(new Operation.PortIo(old.in(), size, old.port(), old.string(), old.rep()));
            assertThat(insn.length()).isEqualTo(old.length());
            assertThat(insn.addressSize()).isEqualTo(old.addressSize());
            compared++;
        }
        assertThat(compared).isGreaterThan(10_000);
    }
}
