package dev.tdemu.emulator.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.core.x86.Sreg;
import dev.tdemu.emulator.machine.X86Decoder.DecodeResult;
import dev.tdemu.emulator.machine.X86Instruction.RegisterField;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The decoder's edge cases in each mode; ordinary encodings are covered by {@link X86DecoderSamplesTest}. */
class X86DecoderModesTest {
    static final ExecutionMode REAL = ExecutionMode.REAL, P16 = ExecutionMode.PROTECTED_16,
            P32 = ExecutionMode.PROTECTED_32, L64 = ExecutionMode.LONG_64;

    static DecodeResult raw(String hex, ExecutionMode mode) {
        return X86Decoder.decode(HexFormat.of().parseHex(hex.replace(" ", "")), 0, mode);
    }

    static X86Instruction insn(String hex, ExecutionMode mode) {
        DecodeResult r = raw(hex, mode);
        assertThat(r).as(hex).isInstanceOf(DecodeResult.Decoded.class);
        return r.instructionOrNull();
    }

    @Test
    void fifteenBytesDecodeAndSixteenAreTooLong() {
        assertThat(insn("66".repeat(14) + "90", L64).length()).isEqualTo(15);
        assertThat(raw("66".repeat(15) + "90", L64)).isInstanceOf(DecodeResult.TooLong.class);
        assertThat(raw("26".repeat(15) + "90", REAL)).isInstanceOf(DecodeResult.TooLong.class);
    }

    @Test
    void bytesEndingInsideAnInstructionAreTruncatedNotTooLong() {
        assertThat(raw("0f", L64)).isEqualTo(new DecodeResult.Truncated(1));
        assertThat(raw("c705a0010000", L64)).as("immediate missing").isEqualTo(new DecodeResult.Truncated(6));
        assertThat(raw("66", P32)).isInstanceOf(DecodeResult.Truncated.class);
        assertThat(raw("ea0010", P16)).as("far pointer cut short").isInstanceOf(DecodeResult.Truncated.class);
        assertThat(raw("", REAL)).isInstanceOf(DecodeResult.Truncated.class);
    }

    @Test
    void operandSizePrefixTogglesEachModesDefault() {
        // mov $imm, %eAX: 66 selects the other size: imm32 in 16-bit code, imm16 in 32- and 64-bit code.
        assertThat(insn("66b878563412", P16).operandSize()).isEqualTo(4);
        assertThat(insn("66b878563412", REAL).length()).isEqualTo(6);
        assertThat(insn("66b83412", P32).operandSize()).isEqualTo(2);
        assertThat(insn("66b83412", L64).length()).isEqualTo(4);
        assertThat(insn("6648b8" + "11".repeat(8), L64).operandSize()).as("REX.W wins over 66").isEqualTo(8);
        assertThat(insn("9c", L64).operation()).isEqualTo(new Operation.Flags(false, 8));
        assertThat(insn("669c", L64).operation()).isEqualTo(new Operation.Flags(false, 2));
        assertThat(insn("66e800000000", L64).length()).as("Intel: 66 does not shorten a near call in 64-bit mode").isEqualTo(6);
        assertThat(insn("66e80000", P32).length()).isEqualTo(4);
    }

    @Test
    void addressSizePrefixTogglesEachModesDefault() {
        // mov moffs, %eAX: the offset is as wide as the address size.
        assertThat(insn("67a178563412", P16).length()).isEqualTo(6);
        assertThat(insn("67a13412", P32).length()).isEqualTo(4);
        assertThat(insn("67a178563412", L64).length()).isEqualTo(6);
        assertThat(insn("a1" + "11".repeat(8), L64).length()).isEqualTo(9);
        assertThat(insn("678b00", P16).memory().addressSize()).as("[EAX] in 16-bit code").isEqualTo(4);
        assertThat(insn("678b00", P32).memory()).as("[BX+SI] in 32-bit code")
                .isEqualTo(new X86Instruction.Memory(Sreg.DS, 3, 6, 1, 0, 2, false));
    }

    @Test
    void rexExistsOnlyInSixtyFourBitModeAndOnlyDirectlyBeforeTheOpcode() {
        assertThat(insn("48", P32).length()).as("DEC EAX").isEqualTo(1);
        assertThat(insn("4889c3", L64).operandSize()).isEqualTo(8);
        X86Instruction ignored = insn("48418b03", L64);
        assertThat(ignored.length()).isEqualTo(4);
        assertThat(ignored.operandSize()).as("the REX.W before REX.B is ignored").isEqualTo(4);
        assertThat(ignored.memory().base()).isEqualTo(11);
        X86Instruction beforeLegacy = insn("41660f21c1", L64);
        assertThat(beforeLegacy.operation()).isEqualTo(new Operation.MovDr(false, 0, 1));
        assertThat(beforeLegacy.prefixes().rex()).isZero();
    }

    @Test
    void vexAndEvexNeedModElevenOutsideSixtyFourBitModeAndNeverExistInRealMode() {
        assertThat(insn("c407", P16).length()).as("LES (%bx),%ax").isEqualTo(2);
        assertThat(insn("c5fe6f07", P16).encoding()).isEqualTo(X86Instruction.Encoding.VEX);
        assertThat(insn("c5fe6f07", REAL).length()).as("LDS with a register operand: #UD, two bytes").isEqualTo(2);
        assertThat(insn("c5fe6f07", ExecutionMode.VIRTUAL_8086).encoding()).isEqualTo(X86Instruction.Encoding.LEGACY);
        assertThat(insn("62f16c4858d9", P32).encoding()).isEqualTo(X86Instruction.Encoding.EVEX);
        assertThat(insn("62f16c4858d9", REAL).length()).as("BOUND").isEqualTo(2);
        assertThat(insn("6203", P32).length()).as("BOUND %eax,(%ebx)").isEqualTo(2);
        assertThat(insn("c5006f00", L64).encoding()).as("always VEX in 64-bit mode").isEqualTo(X86Instruction.Encoding.VEX);
    }

    @Test
    void segmentOverridesTakeEffectPerMode() {
        assertThat(insn("268b00", P32).memory().segment()).isEqualTo(Sreg.ES);
        assertThat(insn("268b00", L64).memory().segment()).as("ES ignored in 64-bit mode").isEqualTo(Sreg.DS);
        assertThat(insn("368b00", L64).memory().segment()).isEqualTo(Sreg.DS);
        assertThat(insn("648b00", L64).memory().segment()).isEqualTo(Sreg.FS);
        assertThat(insn("8b4508", P32).memory().segment()).as("EBP base defaults to SS").isEqualTo(Sreg.SS);
        assertThat(insn("8b02", REAL).memory().segment()).as("[BP+SI] defaults to SS").isEqualTo(Sreg.SS);
        assertThat(insn("2664a4", P16).prefixes().segment()).as("the last override wins").isEqualTo(Sreg.FS);
    }

    @Test
    void repeatedPrefixesAreOneInstructionAndTheLastRepeatPrefixWins() {
        assertThat(insn("f3f3a4", P32).operation())
                .isEqualTo(new Operation.StringOp(Operation.StringKind.MOVS, 1, Operation.Repeat.REP));
        assertThat(insn("f3f2ae", P32).operation())
                .isEqualTo(new Operation.StringOp(Operation.StringKind.SCAS, 1, Operation.Repeat.REPNE));
        assertThat(insn("f0f0ff03", P32).prefixes().lock()).isTrue();
    }

    @Test
    void movCrAndMovDrIgnoreModAndNeverReadASibOrDisplacement() {
        assertThat(insn("0f2338", L64)).satisfies(i -> {
            assertThat(i.length()).isEqualTo(3);
            assertThat(i.operation()).isEqualTo(new Operation.MovDr(true, 7, 0));
        });
        assertThat(insn("0f2104", P32).length()).as("rm=100 is ESP, not a SIB").isEqualTo(3);
        assertThat(insn("0f2205", REAL).length()).as("rm=101 is EBP, not disp32").isEqualTo(3);
        assertThat(insn("440f22c0", L64).operation()).as("CR8 through REX.R").isEqualTo(new Operation.MovCr(true, 8, 0));
    }

    @Test
    void theRegisterHelperExtendsEachFieldByItsRexBit() {
        X86Instruction i = insn("450f21c1", L64); // mov %db8,%r9 (REX.R and REX.B)
        assertThat(i.register(RegisterField.MODRM_REG)).isEqualTo(8);
        assertThat(i.register(RegisterField.MODRM_RM)).isEqualTo(9);
        assertThat(insn("4150", L64).register(RegisterField.OPCODE)).as("push %r8").isEqualTo(8);
        assertThat(insn("50", P32).register(RegisterField.OPCODE)).isZero();
    }

    @Test
    void skipPrefixesStopsAtTheOpcodeInEachMode() {
        byte[] code = HexFormat.of().parseHex("f36648a5");
        assertThat(X86Decoder.skipPrefixes(code, 0, L64).length()).isEqualTo(3);
        assertThat(X86Decoder.skipPrefixes(code, 0, P32).length()).as("48 is DEC EAX here").isEqualTo(2);
        assertThat(X86Decoder.skipPrefixes(HexFormat.of().parseHex("6666"), 0, P32).length()).isEqualTo(2);
    }

    @Test
    void prefixRunStartsListEveryByteOfThePrefixRunBeforeAnOpcode() {
        // mov $0x..., %eax with "66 48 0f 21 c0" hidden behind a 90: starts at the opcode and each prefix.
        byte[] code = HexFormat.of().parseHex("9066480f21c0");
        assertThat(X86Decoder.prefixRunStarts(code, 3, L64)).containsExactly(1, 2, 3);
        assertThat(X86Decoder.prefixRunStarts(code, 3, P32)).as("48 is an instruction in 32-bit code").containsExactly(3);
    }

    @Test
    void candidatesNameTheOperandStringRegistersAndStackThroughTheirSegments() {
        X86Instruction.Registers regs = new X86Instruction.Registers() {
            public long gpr(int index) {
                return 0x100L * (index + 1);
            }

            public long segmentBase(Sreg s) {
                return 0x10000L * (s.ordinal() + 1);
            }
        };
        // rep movsw %fs:(%si),%es:(%di) in real mode: source FS:SI, destination ES:DI, stack SS:SP.
        var c = insn("f364a5", REAL).candidates(regs, 0);
        assertThat(c).contains(new X86Decoder.Candidate(0x50000 + 0x700, X86Decoder.Role.SOURCE),
                new X86Decoder.Candidate(0x10000 + 0x800, X86Decoder.Role.DESTINATION),
                new X86Decoder.Candidate(0x30000 + 0x500, X86Decoder.Role.STACK));
        assertThat(insn("8b4604", REAL).candidates(regs, 0)).as("mov 4(%bp),%ax through SS")
                .contains(new X86Decoder.Candidate(0x30000 + 0x600 + 4, X86Decoder.Role.OPERAND));
    }

    @Test
    void opcodesSixtyFourBitModeDroppedAreUndefinedThere() {
        assertThat(insn("ce", L64).operation()).isInstanceOf(Operation.Undefined.class);
        assertThat(insn("17", L64).operation()).as("POP SS").isInstanceOf(Operation.Undefined.class);
        assertThat(insn("ce", P32).operation()).isInstanceOf(Operation.SoftwareInterrupt.class);
        assertThat(insn("ea00100000", REAL).operation()).isEqualTo(new Operation.FarTransfer(false, false, 0, 0x1000));
    }

    @Test
    void memoryOperandsComputeOffsetsAndLinearAddressesPerAddressSize() {
        X86Instruction.Registers regs = new X86Instruction.Registers() {
            public long gpr(int index) {
                return 0xFFFF_0000L + 0x1000L * index;
            }

            public long segmentBase(Sreg s) {
                return s == Sreg.SS ? 0x20000 : 0x10000;
            }
        };
        // mov -2(%bp,%di),%ax in real mode: (0x5000 + 0x7000 - 2) & 0xFFFF through SS.
        X86Instruction i = insn("8b43fe", REAL);
        assertThat(i.memory().offset(regs, 3)).isEqualTo(0xBFFE);
        assertThat(i.memory().linear(regs, 3)).isEqualTo(0x20000 + 0xBFFE);
        assertThat(insn("8b00", P32).memory().offset(regs, 0)).as("32-bit wrap").isEqualTo(0xFFFF_0000L);
        assertThat(insn("8b0510000000", L64).memory().offset(regs, 0x106)).as("RIP-relative: next RIP + 0x10").isEqualTo(0x116);
    }

    @Test
    void randomBytesNeverThrowInAnyMode() {
        Random r = new Random(7);
        byte[] code = new byte[20];
        for (ExecutionMode mode : ExecutionMode.values()) {
            for (int n = 0; n < 50_000; n++) {
                r.nextBytes(code);
                int len = r.nextInt(code.length + 1);
                DecodeResult d = X86Decoder.decode(java.util.Arrays.copyOf(code, len), 0, mode);
                if (d instanceof DecodeResult.Decoded(X86Instruction insn)) {
                    assertThat(insn.length()).isBetween(1, X86Decoder.MAX_LENGTH).isLessThanOrEqualTo(len);
                }
            }
        }
    }
}
