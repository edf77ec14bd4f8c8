package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.core.x86.Sreg;
import dev.tdemu.emulator.machine.X86Decoder;
import dev.tdemu.emulator.machine.X86Instruction;
import dev.tdemu.emulator.unicorn.X86Reg;

/**
 * RET far (CB, CA imm16) in real and virtual-8086 mode. While a read hook exists (tdemu's, which
 * makes RIP exact at device-memory loads: {@link GuestEngine#mapMmio}), Unicorn 2.1.1 translates
 * it wrongly: it writes the popped offset to EIP, then, before it pops the selector, writes the
 * RET's own IP back to EIP (its "sync EIP before a load"). CS and SP come out right, EIP does not:
 * the guest goes on at the new CS with the RET's IP. (Protected mode is done by a helper, which
 * the sync does not reach.) So each such RET the engine translates gets a code hook; the hook
 * notes the offset and selector it pops, and the run stops at the next block's start, where RIP
 * is set to the offset ({@link GuestEngine}).
 */
final class RealModeFarReturn {
    private static final int RETF_IMM16 = 0xCA, RETF = 0xCB;
    private static final long CR0_PE = 1, RFLAGS_VM = 1L << 17;

    private RealModeFarReturn() {
    }

    /** Where the RET far about to run at {@code retfIp} goes: CS's new base plus the wrong IP, and the right IP. */
    record Target(long wrongLinear, long ip) {}

    /**
     * The linear address of the RET far that ends the block of {@code size} bytes at linear
     * {@code start}, translated in real or virtual-8086 mode, or -1 when the block ends otherwise.
     */
    static long endingBlock(dev.tdemu.emulator.unicorn.Unicorn uc, CpuState state, long start, int size) {
        // Two register reads first: the mode from hflags costs a context save, on every translation.
        if ((uc.readReg(X86Reg.CR0) & CR0_PE) != 0 && (uc.readReg(X86Reg.RFLAGS) & RFLAGS_VM) == 0) {
            return -1;
        }
        ExecutionMode mode = state.executionMode();
        if (mode != ExecutionMode.REAL && mode != ExecutionMode.VIRTUAL_8086 || size <= 0) {
            return -1;
        }
        byte[] code = state.readLinear(start, size);
        int at = 0;
        while (at < size) {
            X86Instruction insn = X86Decoder.decode(code, at, mode).instructionOrNull();
            if (insn == null) {
                return -1;
            }
            if (at + insn.length() == size) {
                return isFarReturn(insn) ? start + at : -1;
            }
            at += insn.length();
        }
        return -1;
    }

    private static boolean isFarReturn(X86Instruction insn) {
        return insn.encoding() == X86Instruction.Encoding.LEGACY && insn.map() == 0
                && (insn.opcode() == RETF || insn.opcode() == RETF_IMM16);
    }

    /**
     * The RET far at {@code rip} is about to run in real or virtual-8086 mode: where the engine
     * will send it and where it should go (the offset and selector on the stack), or null when it
     * is not one (other code at the hooked address, another mode) or its stack cannot be read.
     */
    static Target about(GuestEngine g, long rip) {
        CpuState state = g.state();
        ExecutionMode mode = state.executionMode();
        if (mode != ExecutionMode.REAL && mode != ExecutionMode.VIRTUAL_8086) {
            return null;
        }
        X86Instruction insn = g.instructionAt(rip);
        if (insn == null || !isFarReturn(insn)) {
            return null;
        }
        int size = insn.operandSize();
        long rsp = g.engine().readReg(X86Reg.RSP);
        long sp = (state.hflags() & HF_SS32) != 0 ? rsp & 0xFFFF_FFFFL : rsp & 0xFFFF;
        byte[] popped = g.readLinearAsCpu(state.segment(Sreg.SS).base() + sp, size + 2);
        if (popped == null) {
            return null;
        }
        long ip = 0;
        for (int i = size - 1; i >= 0; i--) {
            ip = ip << 8 | (popped[i] & 0xFF);
        }
        int selector = (popped[size] & 0xFF) | (popped[size + 1] & 0xFF) << 8;
        return new Target(((long) selector << 4) + rip, ip);
    }

    /** QEMU's hflags bit for SS.B (a 32-bit stack pointer). */
    private static final int HF_SS32 = 1 << 5;
}
