package dev.tdemu.emulator.unicorn;

import static dev.tdemu.emulator.unicorn.BindingGuests.machine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RegistersTest {
    private static final int IA32_EFER = 0xC0000080;
    private static final int IA32_KERNEL_GS_BASE = 0xC0000102;
    private static final int IA32_LSTAR = 0xC0000082;

    private BareMachine m;
    private Unicorn uc;

    @BeforeEach
    void open() {
        m = machine("binding-regloop");
        uc = m.engine();
    }

    @AfterEach
    void close() {
        m.close();
    }

    @Test
    void guestCodeSeesWrittenRegistersAndJavaSeesItsResults() {
        uc.writeReg(X86Reg.RDI, 3);
        uc.writeReg(X86Reg.RAX, 0);
        uc.writeReg(X86Reg.RBX, 0);
        uc.writeReg(X86Reg.RDX, 0);
        uc.emuStart(BindingGuests.BASE);
        // rax counts iterations; rbx ^= rax; rdx += rbx
        assertThat(uc.readReg(X86Reg.RAX)).isEqualTo(3);
        assertThat(uc.readReg(X86Reg.RBX)).isEqualTo(1 ^ 2 ^ 3);
        assertThat(uc.readReg(X86Reg.RDX)).isEqualTo(1 + (1 ^ 2) + (1 ^ 2 ^ 3));
        assertThat(uc.readReg(X86Reg.RCX)).isZero();
        // hlt ends the run with RIP after it: mov (3 bytes), add (4), xor, add, dec (3 each), jnz (2), hlt (1)
        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(BindingGuests.BASE + 19);
    }

    @Test
    void generalPurposeRegistersRoundTripInEveryWidth() {
        uc.writeReg(X86Reg.RAX, 0x1122334455667788L);
        assertThat(uc.readReg(X86Reg.RAX)).isEqualTo(0x1122334455667788L);
        assertThat(uc.readReg(X86Reg.EAX)).isEqualTo(0x55667788L);
        assertThat(uc.readReg(X86Reg.AX)).isEqualTo(0x7788);
        assertThat(uc.readReg(X86Reg.AL)).isEqualTo(0x88);
        assertThat(uc.readReg(X86Reg.AH)).isEqualTo(0x77);
        uc.writeReg(X86Reg.AH, 0xab);
        assertThat(uc.readReg(X86Reg.RAX)).isEqualTo(0x112233445566ab88L);
        uc.writeReg(X86Reg.R13, -1);
        uc.writeReg(X86Reg.R13W, 0x1234);
        assertThat(uc.readReg(X86Reg.R13)).isEqualTo(0xffffffffffff1234L);
        assertThat(uc.readReg(X86Reg.R13B)).isEqualTo(0x34);
        assertThat(uc.readReg(X86Reg.R13D)).isEqualTo(0xffff1234L);
        for (X86Reg r : new X86Reg[] {X86Reg.RBX, X86Reg.RCX, X86Reg.RDX, X86Reg.RSI, X86Reg.RDI, X86Reg.RBP, X86Reg.RSP,
            X86Reg.R8, X86Reg.R9, X86Reg.R10, X86Reg.R11, X86Reg.R12, X86Reg.R14, X86Reg.R15}) {
            long v = 0x0102030405060700L | r.ordinal();
            uc.writeReg(r, v);
            assertThat(uc.readReg(r)).as(r.name()).isEqualTo(v);
        }
    }

    @Test
    void batchReadAndWriteMatchSingleAccess() {
        X86Reg[] regs = {X86Reg.RAX, X86Reg.R15, X86Reg.ECX, X86Reg.SIL};
        uc.writeRegs(regs, new long[] {1, 2, 3, 4});
        assertThat(uc.readRegs(regs)).containsExactly(1, 2, 3, 4);
        assertThat(uc.readReg(X86Reg.R15)).isEqualTo(2);
    }

    @Test
    void ripFlagsAndSegmentRegisters() {
        uc.writeReg(X86Reg.RIP, 0x123456);
        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(0x123456);
        uc.writeReg(X86Reg.RFLAGS, 0x2 | 0x1 | 0x40); // reserved bit 1, CF, ZF
        assertThat(uc.readReg(X86Reg.RFLAGS) & 0xffff).isEqualTo(0x43);
        uc.writeReg(X86Reg.DS, 0x10);
        assertThat(uc.readReg(X86Reg.DS)).isEqualTo(0x10);
        uc.writeReg(X86Reg.FS_BASE, 0x7fff12345000L);
        uc.writeReg(X86Reg.GS_BASE, 0xffff880000000000L);
        assertThat(uc.readReg(X86Reg.FS_BASE)).isEqualTo(0x7fff12345000L);
        assertThat(uc.readReg(X86Reg.GS_BASE)).isEqualTo(0xffff880000000000L);
    }

    @Test
    void controlAndDebugRegisters() {
        assertThat(uc.readReg(X86Reg.CR0) & 1).as("CR0.PE: the engine starts in protected long mode").isEqualTo(1);
        uc.writeReg(X86Reg.CR2, 0xdead000);
        uc.writeReg(X86Reg.CR3, 0x5000);
        assertThat(uc.readReg(X86Reg.CR2)).isEqualTo(0xdead000);
        assertThat(uc.readReg(X86Reg.CR3)).isEqualTo(0x5000);
        assertThat(uc.readReg(X86Reg.DR6)).isEqualTo(0xffff0ff0L);
        assertThat(uc.readReg(X86Reg.DR7)).isEqualTo(0x400);
        uc.writeReg(X86Reg.DR0, 0x401000);
        uc.writeReg(X86Reg.DR3, 0xffffffff81000000L);
        assertThat(uc.readReg(X86Reg.DR0)).isEqualTo(0x401000);
        assertThat(uc.readReg(X86Reg.DR3)).isEqualTo(0xffffffff81000000L);
    }

    @Test
    void writingCr2LeavesCr3Alone() {
        // Unicorn 2.1 writes CR2 through cpu_x86_update_cr3, so the value also lands in CR3; the
        // binding puts CR3 back (delivering #PF with paging on would otherwise lose the page tables).
        uc.writeReg(X86Reg.CR3, 0x10000);
        uc.writeReg(X86Reg.CR2, 0x1234000);
        assertThat(uc.readReg(X86Reg.CR2)).isEqualTo(0x1234000);
        assertThat(uc.readReg(X86Reg.CR3)).isEqualTo(0x10000);
    }

    @Test
    void vectorAndFloatingPointRegisters() {
        byte[] xmm = HexFormat.of().parseHex("00112233445566778899aabbccddeeff");
        uc.writeRegBytes(X86Reg.XMM15, xmm);
        assertThat(uc.readRegBytes(X86Reg.XMM15)).isEqualTo(xmm);
        uc.writeRegBytes(X86Reg.XMM3, xmm);
        assertThat(uc.readRegBytes(X86Reg.XMM3)).isEqualTo(xmm);
        uc.writeReg(X86Reg.MXCSR, 0x1f80);
        assertThat(uc.readReg(X86Reg.MXCSR)).isEqualTo(0x1f80);
        // 1.0 in x87 extended precision: mantissa 0x8000000000000000, exponent 0x3fff
        byte[] one = HexFormat.of().parseHex("0000000000000080ff3f");
        uc.writeRegBytes(X86Reg.FP0, one);
        assertThat(uc.readRegBytes(X86Reg.FP0)).isEqualTo(one);
        uc.writeReg(X86Reg.FPCW, 0x37f);
        assertThat(uc.readReg(X86Reg.FPCW)).isEqualTo(0x37f);
    }

    /**
     * x87 state as the debugger shows it, after real x87 code: fninit, fld1, fldpi. ST(0) is the
     * top of the stack (pi), ST(1) the one before (1.0); TOP went 0 -> 7 -> 6; the full tag word
     * marks R6 and R7 valid and the rest empty (fninit emptied them all; before it, the engine's
     * reset state tags all eight "zero", 0x5555, as the SDM gives for a processor reset); the last
     * instruction's address is fldpi's (its opcode is not tracked by the engine).
     */
    @Test
    void x87StateAfterRealX87CodeReadsAsADebuggerShowsIt() {
        long code = BindingGuests.BASE + 0x800;
        assertThat(uc.readReg(X86Reg.FPTAG)).as("tag word before any x87 code").isEqualTo(0x5555);
        uc.write(code, new byte[] {(byte) 0xdb, (byte) 0xe3, (byte) 0xd9, (byte) 0xe8, (byte) 0xd9, (byte) 0xeb, (byte) 0xf4}); // fninit; fld1; fldpi; hlt
        uc.emuStart(code, 0, 3);
        byte[] one = HexFormat.of().parseHex("0000000000000080ff3f");
        byte[] pi = HexFormat.of().parseHex("35c26821a2da0fc90040");
        assertThat(uc.readRegBytes(X86Reg.ST0)).as("ST(0)").isEqualTo(pi);
        assertThat(uc.readRegBytes(X86Reg.ST1)).as("ST(1)").isEqualTo(one);
        assertThat((uc.readReg(X86Reg.FPSW) >> 11) & 7).as("FSW.TOP").isEqualTo(6);
        assertThat(uc.readReg(X86Reg.FPTAG)).as("tag word: R6 and R7 valid, the rest empty").isEqualTo(0x0fff);
        assertThat(uc.readReg(X86Reg.FPCW)).as("fninit's control word").isEqualTo(0x37f);
        assertThat(uc.readReg(X86Reg.FIP)).as("last x87 instruction: fldpi").isEqualTo(code + 4);
        assertThat(uc.readReg(X86Reg.FOP)).as("the engine does not track the last opcode (the debugger shows fop unavailable)").isZero();
        // fld qword [0x100900]: the operand's address is kept; FCS and FDS read 0, as on CPUs that deprecate them
        uc.write(code + 0x20, new byte[] {(byte) 0xdd, 0x04, 0x25, 0x00, 0x09, 0x10, 0x00, (byte) 0xf4});
        uc.emuStart(code + 0x20, 0, 1);
        assertThat(uc.readReg(X86Reg.FIP)).isEqualTo(code + 0x20);
        assertThat(uc.readReg(X86Reg.FDP)).as("last x87 operand").isEqualTo(0x100900);
        assertThat(uc.readReg(X86Reg.FCS)).isZero();
        assertThat(uc.readReg(X86Reg.FDS)).isZero();
    }

    @Test
    void msrsRoundTripAndEferShowsLongMode() {
        long efer = uc.readMsr(IA32_EFER);
        assertThat(efer & 0x500).as("EFER.LME|LMA").isEqualTo(0x500);
        uc.writeMsr(IA32_KERNEL_GS_BASE, 0xffff888012345678L);
        assertThat(uc.readMsr(IA32_KERNEL_GS_BASE)).isEqualTo(0xffff888012345678L);
        uc.writeMsr(IA32_LSTAR, 0xffffffff81800000L);
        assertThat(uc.readMsr(IA32_LSTAR)).isEqualTo(0xffffffff81800000L);
        // reading an MSR leaves the guest's RAX, RCX, RDX alone
        uc.writeRegs(new X86Reg[] {X86Reg.RAX, X86Reg.RCX, X86Reg.RDX}, new long[] {7, 8, 9});
        uc.readMsr(IA32_EFER);
        assertThat(uc.readRegs(X86Reg.RAX, X86Reg.RCX, X86Reg.RDX)).containsExactly(7, 8, 9);
    }

    @Test
    void memoryManagementRegistersRoundTrip() {
        uc.writeMmr(X86Reg.GDTR, X86Mmr.table(0x1000, 0x7f));
        assertThat(uc.readMmr(X86Reg.GDTR)).isEqualTo(X86Mmr.table(0x1000, 0x7f));
        uc.writeMmr(X86Reg.IDTR, X86Mmr.table(0xffffffff82000000L, 0xfff));
        assertThat(uc.readMmr(X86Reg.IDTR)).isEqualTo(X86Mmr.table(0xffffffff82000000L, 0xfff));
        X86Mmr tr = new X86Mmr(0x40, 0xfffffe0000003000L, 0x67, 0x8b00);
        uc.writeMmr(X86Reg.TR, tr);
        assertThat(uc.readMmr(X86Reg.TR)).isEqualTo(tr);
        X86Mmr ldtr = new X86Mmr(0x50, 0x2000, 0xff, 0x8200);
        uc.writeMmr(X86Reg.LDTR, ldtr);
        assertThat(uc.readMmr(X86Reg.LDTR)).isEqualTo(ldtr);
    }

    @Test
    void accessorsRefuseRegistersOfTheWrongShape() {
        assertThatThrownBy(() -> uc.readReg(X86Reg.XMM0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> uc.readReg(X86Reg.GDTR)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> uc.readMmr(X86Reg.RAX)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> uc.writeRegBytes(X86Reg.XMM0, new byte[8])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void registerIdsAreUnique() {
        assertThat(java.util.Arrays.stream(X86Reg.values()).mapToInt(X86Reg::ucId).distinct().count())
                .isEqualTo(X86Reg.values().length);
    }
}
