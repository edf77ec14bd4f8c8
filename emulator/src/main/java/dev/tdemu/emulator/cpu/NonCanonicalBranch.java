package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.Sreg;
import dev.tdemu.emulator.machine.Operation;
import dev.tdemu.emulator.machine.PageWalker;
import dev.tdemu.emulator.machine.X86Instruction;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.util.OptionalLong;

/**
 * A near branch to a non-canonical address faults on the branch itself (SDM vol. 2, JMP, CALL,
 * RET, Jcc, LOOP: "#GP(0) if the target address is in a non-canonical form"): RIP stays on it,
 * and a CALL pushes nothing, a RET pops nothing. The engine instead completes the branch and
 * raises #GP(0) when it fetches at the target. Here that branch is found and undone: it is the
 * last instruction of the last block the engine started ({@link GuestEngine#lastBlockStart()}),
 * since a branch ends a translated block and the block at the target was never started.
 *
 * <p>Only a branch whose own target, computed from the state it left, is the faulting address
 * is undone; anything else (no block recorded, a far transfer, code that changed since) leaves
 * the engine's fault as it is. What a CALL stored below the stack pointer stays there (the
 * overwritten bytes are not known); RSP is restored.
 */
final class NonCanonicalBranch {
    /** The most instructions the engine puts in a translated block (QEMU's TCG_MAX_INSNS). */
    private static final int MAX_BLOCK_INSTRUCTIONS = 512;
    private static final int RSP = 4, RCX = 1;
    private static final long CR4_LA57 = 1L << 12;

    private NonCanonicalBranch() {
    }

    /**
     * When the engine's #GP(0) at {@code rip} was a fetch at the non-canonical target of the
     * branch that ended its last block: the state before that branch is restored (RSP, RCX, RIP)
     * and the branch's RIP returned; else empty and nothing changed.
     */
    static OptionalLong undo(GuestEngine g, long rip) {
        if (!g.state().executionMode().is64Bit() || PageWalker.isCanonical(rip, (g.engine().readReg(X86Reg.CR4) & CR4_LA57) != 0)) {
            return OptionalLong.empty();
        }
        long block = g.lastBlockStart();
        if (block < 0) {
            return OptionalLong.empty();
        }
        long at = block;
        for (int n = 0; n < MAX_BLOCK_INSTRUCTIONS; n++) {
            X86Instruction insn = g.instructionAt(at);
            if (insn == null) {
                return OptionalLong.empty();
            }
            if (insn.operation() instanceof Operation.NearBranch branch) {
                return undoBranch(g, insn, branch, at, rip) ? OptionalLong.of(at) : OptionalLong.empty();
            }
            at = insn.nextRip(at);
        }
        return OptionalLong.empty();
    }

    /** Undoes {@code insn} at {@code at} if its target was {@code target}; whether it did. */
    private static boolean undoBranch(GuestEngine g, X86Instruction insn, Operation.NearBranch branch, long at, long target) {
        Unicorn uc = g.engine();
        long next = insn.nextRip(at);
        long rsp = uc.readReg(X86Reg.RSP);
        long rcx = uc.readReg(X86Reg.RCX);
        long rspBefore = switch (branch.kind()) {
            case CALL -> rsp + 8;
            case RET -> rsp - 8 - branch.popBytes();
            default -> rsp;
        };
        long rcxBefore = rcx;
        if (branch.kind() == Operation.BranchKind.LOOP) {
            rcxBefore = insn.addressSize() == 4 ? (rcx + 1) & 0xFFFF_FFFFL : rcx + 1;
        }
        if (branch.kind() == Operation.BranchKind.CALL && !readQword(g, rsp).equals(OptionalLong.of(next))) {
            return false; // the engine's push of the return address is not there: not this CALL
        }
        long rspForOperand = rspBefore, rcxForOperand = rcxBefore;
        X86Instruction.Registers before = new X86Instruction.Registers() {
            @Override
            public long gpr(int index) {
                return index == RSP ? rspForOperand : index == RCX ? rcxForOperand : uc.readReg(PhysicalCpu.gpr(index));
            }

            @Override
            public long segmentBase(Sreg segment) {
                return g.state().segment(segment).base();
            }
        };
        OptionalLong branchTarget;
        if (branch.kind() == Operation.BranchKind.RET) {
            branchTarget = readQword(g, rspBefore);
        } else if (!branch.indirect()) {
            branchTarget = OptionalLong.of(next + insn.immediate());
        } else if (insn.memory() == null) {
            branchTarget = OptionalLong.of(before.gpr(insn.register(X86Instruction.RegisterField.MODRM_RM)));
        } else {
            branchTarget = insn.memory().scaledDisp8() ? OptionalLong.empty()
                    : readQword(g, insn.memory().linear(before, next));
        }
        if (branchTarget.isEmpty() || branchTarget.getAsLong() != target) {
            return false;
        }
        uc.writeReg(X86Reg.RSP, rspBefore);
        uc.writeReg(X86Reg.RCX, rcxBefore);
        uc.writeReg(X86Reg.RIP, at);
        return true;
    }

    /** The qword at linear {@code linear} as the CPU reads it (RAM or device memory), or empty where it cannot be read. */
    private static OptionalLong readQword(GuestEngine g, long linear) {
        byte[] bytes = g.readLinearAsCpu(linear, 8);
        return bytes == null ? OptionalLong.empty()
                : OptionalLong.of(java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
    }
}
