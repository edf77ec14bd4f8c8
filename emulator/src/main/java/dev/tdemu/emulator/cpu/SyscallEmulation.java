package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.pc.MsrIndex;
import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.X86Reg;

/**
 * SYSCALL as the SDM's pseudocode performs it on an Intel CPU. The engine never does: a SYSCALL
 * there only calls the SYSCALL hooks and moves RIP past the instruction, so a guest's SYSCALL
 * would fall through to the next instruction at its own privilege level. Only 64-bit mode with
 * IA32_EFER.SCE set has SYSCALL (compatibility and legacy mode are #UD on Intel): RCX and R11
 * take RIP and RFLAGS, RFLAGS is masked by IA32_FMASK, CS and SS come from IA32_STAR[47:32] at
 * CPL0, RIP from IA32_LSTAR. A single-step trap is owed when TF is still set once FMASK has
 * masked RFLAGS. (The engine loads CS and SS from the GDT entries STAR names, where
 * the CPU loads fixed flat descriptors; a kernel's GDT has those entries.)
 */
final class SyscallEmulation {
    private static final long EFER_SCE = 1, RF = 1L << 16;

    /** What the SYSCALL did. */
    sealed interface Outcome {
        /**
         * Completed: the guest continues at {@code rip}; {@code singleStep}: a single-step trap is
         * owed, taken before the handler's first instruction.
         */
        record Done(long rip, boolean singleStep) implements Outcome {}

        /** #UD instead; nothing changed. */
        record Undefined() implements Outcome {}
    }

    private SyscallEmulation() {}

    /** SYSCALL at {@code rip} (2 bytes, 0F 05). */
    static Outcome perform(GuestEngine g, long rip) {
        CpuState state = g.state();
        if (state.executionMode() != ExecutionMode.LONG_64 || (state.efer() & EFER_SCE) == 0) {
            return new Outcome.Undefined();
        }
        Unicorn uc = g.engine();
        long star = g.readEngineMsr(MsrIndex.IA32_STAR);
        long lstar = g.readEngineMsr(MsrIndex.IA32_LSTAR);
        long fmask = g.readEngineMsr(MsrIndex.IA32_FMASK);
        long rflags = uc.readReg(X86Reg.RFLAGS);
        int selector = (int) ((star >>> 32) & 0xFFFF);
        long fsBase = uc.readReg(X86Reg.FS_BASE), gsBase = uc.readReg(X86Reg.GS_BASE);
        uc.writeReg(X86Reg.RCX, rip + 2);
        uc.writeReg(X86Reg.R11, rflags & ~RF);
        uc.forceCpl(0); // the engine checks segment loads against its CPL
        uc.writeReg(X86Reg.SS, (selector + 8) & 0xFFFC);
        uc.writeReg(X86Reg.CS, selector & 0xFFFC);
        uc.writeReg(X86Reg.FS_BASE, fsBase);
        uc.writeReg(X86Reg.GS_BASE, gsBase);
        uc.writeReg(X86Reg.RFLAGS, (rflags & ~fmask & ~RF) | 2);
        uc.writeReg(X86Reg.RIP, lstar);
        // The trap follows TF as SYSCALL leaves it, after FMASK: an OS masks TF and its entry code
        // never sees a #DB (Linux's single_step_syscall selftest; KVM's emulator likewise).
        return new Outcome.Done(lstar, (rflags & ~fmask & Rflags.TF) != 0);
    }
}
