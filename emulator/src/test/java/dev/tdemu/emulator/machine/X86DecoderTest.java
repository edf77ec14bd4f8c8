package dev.tdemu.emulator.machine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class X86DecoderTest {
    /** Register i holds 0x1000 * (i + 1); FS and GS have bases of their own. */
    static final X86Decoder.Registers REGS = new X86Decoder.Registers() {
        public long gpr(int index) {
            return 0x1000L * (index + 1);
        }

        public long segmentBase(int segment) {
            return segment == X86Decoder.SEG_FS ? 0x7000_0000L : segment == X86Decoder.SEG_GS ? 0x8000_0000L : 0;
        }
    };

    record Sample(byte[] bytes, String text) {}

    static List<Sample> samples() throws IOException {
        try (InputStream in = X86DecoderTest.class.getResourceAsStream("/x86/decoder-samples.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).lines()
                    .filter(l -> !l.startsWith("#") && !l.isBlank())
                    .map(l -> new Sample(HexFormat.of().parseHex(l.substring(0, l.indexOf('|'))), l.substring(l.indexOf('|') + 1)))
                    .toList();
        }
    }

    /** GNU objdump's lengths for legacy, REX, VEX, EVEX, x87, 0F/0F38/0F3A encodings, with and without immediates. */
    @Test
    void everySampleDecodesToTheLengthObjdumpGives() throws IOException {
        List<Sample> samples = samples();
        assertThat(samples).hasSizeGreaterThan(100);
        for (Sample s : samples) {
            X86Decoder.Instruction insn = X86Decoder.decode(s.bytes(), 0);
            assertThat(insn).as(s.text()).isNotNull();
            assertThat(insn.length()).as(s.text()).isEqualTo(s.bytes().length);
        }
    }

    /** The same samples back to back, as code is laid out: each decode starts where the last ended. */
    @Test
    void aStreamOfSamplesDecodesInstructionByInstructionAndRipRelativeTargetsMatchObjdump() throws IOException {
        List<Sample> samples = samples();
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        samples.forEach(s -> all.writeBytes(s.bytes()));
        byte[] code = all.toByteArray();
        Pattern target = Pattern.compile("\\(%rip\\).*# ([0-9a-f]+) ");
        int offset = 0;
        int ripRelative = 0;
        for (Sample s : samples) {
            X86Decoder.Instruction insn = X86Decoder.decode(code, offset);
            assertThat(insn.length()).as("%s at %d", s.text(), offset).isEqualTo(s.bytes().length);
            Matcher m = target.matcher(s.text() + " ");
            if (m.find() && !s.text().startsWith("lea")) {
                assertThat(insn.memory()).as(s.text()).isNotNull();
                assertThat(insn.memory().base()).isEqualTo(X86Decoder.RIP);
                assertThat(insn.effectiveAddress(REGS, offset)).as(s.text()).isEqualTo(Long.parseLong(m.group(1), 16));
                ripRelative++;
            }
            offset += insn.length();
        }
        assertThat(offset).isEqualTo(code.length);
        assertThat(ripRelative).isGreaterThanOrEqualTo(5);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', value = {
        "8b549810 | mov 0x10(%rax,%rbx,4),%edx | 0x11010",
        "488b04cd00000000 | mov 0x0(,%rcx,8),%rax | 0x10000",
        "8b042544332211 | mov 0x11223344,%eax | 0x11223344",
        "4c8b9424ccedffff | mov -0x1234(%rsp),%r10 | 0x3dcc",
        "8b4512 | mov 0x12(%rbp),%eax | 0x6012",
        "49c74508ffffffff | movq $-1,0x8(%r13) | 0xe008",
        "64488b042528000000 | mov %fs:0x28,%rax | 0x70000028",
        "65488b18 | mov %gs:(%rax),%rbx | 0x80001000",
        "678b08 | mov (%eax),%ecx | 0x1000",
        "a08877665544332211 | movabs 0x1122334455667788,%al | 0x1122334455667788",
        "f0480fb18b00010000 | lock cmpxchg %rcx,0x100(%rbx) | 0x4100",
        "62f1fe48 7f00 | vmovdqu64 %zmm0,(%rax) | 0x1000",
    })
    void effectiveAddressesFollowBaseIndexScaleDisplacementSegmentAndAddressSize(String hex, String text, String expected) {
        byte[] code = HexFormat.of().parseHex(hex.replace(" ", ""));
        X86Decoder.Instruction insn = X86Decoder.decode(code, 0);
        assertThat(insn.length()).as(text).isEqualTo(code.length);
        assertThat(insn.effectiveAddress(REGS, 0)).as(text).isEqualTo(Long.parseUnsignedLong(expected.substring(2), 16));
    }

    @Test
    void registerOperandsHaveNoMemoryAndStringInstructionsNameRsiAndRdi() {
        assertThat(X86Decoder.decode(HexFormat.of().parseHex("4889c3"), 0).memory()).as("mov %rax,%rbx").isNull();
        X86Decoder.Instruction movsb = X86Decoder.decode(HexFormat.of().parseHex("f3a4"), 0);
        assertThat(movsb.isString()).isTrue();
        assertThat(movsb.rep()).isTrue();
        assertThat(movsb.candidates(REGS, 0)).extracting(X86Decoder.Candidate::linear)
                .contains(REGS.gpr(X86Decoder.RSI), REGS.gpr(X86Decoder.RDI), REGS.gpr(X86Decoder.RSP));
    }

    @Test
    void truncatedBytesAndOverlongPrefixRunsDecodeToNull() {
        assertThat(X86Decoder.decode(HexFormat.of().parseHex("48"), 0)).isNull();
        assertThat(X86Decoder.decode(HexFormat.of().parseHex("c705a0010000"), 0)).as("immediate missing").isNull();
        assertThat(X86Decoder.decode(HexFormat.of().parseHex("666666666666666666666666666666" + "90"), 0))
                .as("16 bytes").isNull();
    }

    /** Random bytes never throw: the decoder answers an instruction or null. */
    @Test
    void randomBytesNeverThrow() {
        java.util.Random r = new java.util.Random(3);
        byte[] code = new byte[32];
        for (int i = 0; i < 200_000; i++) {
            r.nextBytes(code);
            X86Decoder.Instruction insn = X86Decoder.decode(code, 0);
            if (insn != null) {
                assertThat(insn.length()).isBetween(1, X86Decoder.MAX_LENGTH);
            }
        }
    }
}
