package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.core.x86.Segment;
import dev.tdemu.core.x86.Sreg;
import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.x86.Event;
import dev.tdemu.core.x86.EventDelivery;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.X86Reg;

/**
 * IRET, IRETD and IRETQ as the SDM's IRET pseudocode performs them, for a PC guest whose IRETs are
 * intercepted. The engine's own IRET (QEMU 5.0's) zeroes the base of FS and GS when a return to an
 * outer privilege level nulls their selectors; Intel CPUs clear only the selector, and kernels
 * keep per-CPU data in the GS base across user mode (kvm-unit-tests does). An intercepted IRET is
 * also where NMIs become unblocked. Real mode and protected mode (same and outer privilege,
 * IA-32e 64-bit and compatibility mode) are performed; a task return (NT in legacy protected
 * mode) and a return to virtual-8086 mode are not modelled and say so.
 */
final class IretEmulation {
    private static final long RF_ALWAYS = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x4000 | 0x10000 | 0x40000
            | 0x200000; // CF PF AF ZF SF TF DF OF NT RF AC ID
    private static final long IF = 0x200, IOPL = 0x3000, NT = 0x4000, VM = 0x20000, VIF = 0x80000, VIP = 0x100000;

    /** What the IRET did. */
    sealed interface Outcome {
        /** Completed: the guest continues at {@code rip}; {@code trapFlagBefore} (TF was set): a single-step trap is owed. */
        record Done(long rip, boolean trapFlagBefore) implements Outcome {}

        /** A fault instead (#GP, #SS or #NP with its error code); nothing changed. */
        record Fault(EventDelivery fault) implements Outcome {}

        /** Reading the stack at {@code linear} failed (a #PF the caller classifies); nothing changed. */
        record StackFault(long linear) implements Outcome {}
    }

    private IretEmulation() {}

    static Outcome perform(GuestEngine g, long rip, int operandSize) {
        Unicorn uc = g.engine();
        CpuState state = g.state();
        ExecutionMode mode = state.executionMode();
        long oldFlags = uc.readReg(X86Reg.RFLAGS);
        boolean tf = (oldFlags & Rflags.TF) != 0;
        int cpl = state.hflags() & CpuState.HF_CPL_MASK;
        Segment ss = state.segment(Sreg.SS);
        long rsp = uc.readReg(X86Reg.RSP);
        long spMask = mode == ExecutionMode.LONG_64 ? -1L : ss.defaultBig() ? 0xFFFF_FFFFL : 0xFFFFL;
        Stack stack = new Stack(state, ss.base(), rsp, spMask, operandSize);
        long newRip = stack.pop();
        int newCs = (int) (stack.pop() & 0xFFFF);
        long popped = stack.pop();
        if (stack.faultAt >= 0) {
            return new Outcome.StackFault(stack.faultAt);
        }
        if (mode == ExecutionMode.REAL || mode == ExecutionMode.VIRTUAL_8086) {
            if (mode == ExecutionMode.VIRTUAL_8086) {
                throw new NotModelledException("CPU", "IRET in virtual-8086 mode");
            }
            long flags = operandSize == 2 ? (oldFlags & ~0xFFFFL) | (popped & 0xFFFF)
                    : (popped & 0x257FD5) | (oldFlags & (VM | VIF | VIP)) | 2;
            uc.writeReg(X86Reg.CS, newCs);
            uc.writeReg(X86Reg.RSP, (rsp & ~spMask) | (stack.pointer & spMask));
            uc.writeReg(X86Reg.RFLAGS, flags | 2);
            uc.writeReg(X86Reg.RIP, newRip & 0xFFFF);
            return new Outcome.Done(newRip & 0xFFFF, tf);
        }
        boolean longMode = (state.hflags() & CpuState.HF_LMA) != 0;
        if ((oldFlags & NT) != 0 && !longMode) {
            throw new NotModelledException("CPU", "IRET with EFLAGS.NT set (a return from a nested task)");
        }
        if ((popped & VM) != 0 && !longMode && cpl == 0) {
            throw new NotModelledException("CPU", "IRET to virtual-8086 mode");
        }
        // The returning code segment (SDM IRET, "RETURN-FROM-PROTECTED-MODE" checks).
        int newCpl = newCs & 3;
        if ((newCs & ~3) == 0) {
            return gp(0, rip);
        }
        Segment cs = state.descriptor(newCs);
        if (cs == null || !cs.code() || newCpl < cpl) {
            return gp(newCs & ~3, rip);
        }
        if (cs.conforming() ? cs.dpl() > newCpl : cs.dpl() != newCpl) {
            return gp(newCs & ~3, rip);
        }
        if (!cs.present()) {
            return new Outcome.Fault(Event.fault(ExceptionVector.NP).errorCode(newCs & ~3).at(rip));
        }
        boolean to64 = longMode && cs.longMode();
        if (cs.longMode() && cs.defaultBig()) {
            return gp(newCs & ~3, rip);
        }
        // In 64-bit mode IRET always pops SS:RSP; elsewhere only when returning to an outer level.
        boolean popStack = mode == ExecutionMode.LONG_64 || newCpl > cpl;
        long newRsp = 0;
        int newSs = -1;
        if (popStack) {
            newRsp = stack.pop();
            newSs = (int) (stack.pop() & 0xFFFF);
            if (stack.faultAt >= 0) {
                return new Outcome.StackFault(stack.faultAt);
            }
            boolean nullSsAllowed = longMode && to64 && newCpl != 3;
            if ((newSs & ~3) == 0) {
                if (!nullSsAllowed) {
                    return gp(0, rip);
                }
            } else {
                Segment s = state.descriptor(newSs);
                if (s == null || (newSs & 3) != newCpl || !s.writableData() || s.dpl() != newCpl) {
                    return gp(newSs & ~3, rip);
                }
                if (!s.present()) {
                    return new Outcome.Fault(Event.fault(ExceptionVector.SS).errorCode(newSs & ~3).at(rip));
                }
            }
        }
        // RFLAGS: IOPL only at CPL0, IF only at CPL <= IOPL, VIF/VIP only at CPL0; the rest always.
        int iopl = (int) ((oldFlags & IOPL) >>> 12);
        long mask = RF_ALWAYS | (cpl == 0 ? IOPL | VIF | VIP : 0) | (cpl <= iopl ? IF : 0);
        if (operandSize == 2) {
            mask &= 0xFFFF;
        }
        long flags = (oldFlags & ~mask) | (popped & mask) | 2;
        long fsBase = uc.readReg(X86Reg.FS_BASE), gsBase = uc.readReg(X86Reg.GS_BASE);
        if (newCpl != cpl) {
            uc.forceCpl(newCpl); // the engine checks segment loads against its CPL
        }
        if (newSs >= 0) {
            uc.writeReg(X86Reg.SS, newSs);
        }
        uc.writeReg(X86Reg.CS, newCs);
        long ripMask = to64 ? -1L : cs.defaultBig() ? 0xFFFF_FFFFL : 0xFFFFL;
        if (popStack) {
            uc.writeReg(X86Reg.RSP, newRsp);
        } else {
            uc.writeReg(X86Reg.RSP, (rsp & ~spMask) | (stack.pointer & spMask));
        }
        uc.writeReg(X86Reg.RFLAGS, flags);
        uc.writeReg(X86Reg.RIP, newRip & ripMask);
        if (newCpl > cpl) {
            // Returning outward: data segments the new level may not use are nulled. Intel clears only
            // the selector; FS and GS keep their bases (64-bit code uses them with null selectors).
            for (Sreg r : new Sreg[] {Sreg.ES, Sreg.DS, Sreg.FS, Sreg.GS}) {
                Segment seg = state.segment(r);
                boolean usableAtNewLevel = seg.code() && seg.conforming() || seg.dpl() >= newCpl;
                if ((seg.selector() & ~3) != 0 && !usableAtNewLevel) {
                    uc.writeReg(register(r), 0);
                }
            }
            uc.writeReg(X86Reg.FS_BASE, fsBase);
            uc.writeReg(X86Reg.GS_BASE, gsBase);
        }
        return new Outcome.Done(newRip & ripMask, tf);
    }

    private static Outcome gp(int errorCode, long rip) {
        return new Outcome.Fault(Event.fault(ExceptionVector.GP).errorCode(errorCode).at(rip));
    }

    private static X86Reg register(Sreg r) {
        return switch (r) {
            case ES -> X86Reg.ES;
            case CS -> X86Reg.CS;
            case SS -> X86Reg.SS;
            case DS -> X86Reg.DS;
            case FS -> X86Reg.FS;
            case GS -> X86Reg.GS;
        };
    }

    /** Pops slots of {@code size} bytes from SS:rSP through the guest's paging; the first failure is a #PF. */
    private static final class Stack {
        final CpuState state;
        final long base, mask;
        final int size;
        long pointer;
        long faultAt = -1;

        Stack(CpuState state, long base, long pointer, long mask, int size) {
            this.state = state;
            this.base = base;
            this.pointer = pointer;
            this.mask = mask;
            this.size = size;
        }

        long pop() {
            if (faultAt >= 0) {
                return 0;
            }
            long linear = base + (pointer & mask);
            byte[] b = state.readLinear(linear, size);
            if (b.length < size) {
                faultAt = linear + b.length;
                return 0;
            }
            long v = 0;
            for (int i = size - 1; i >= 0; i--) {
                v = (v << 8) | (b[i] & 0xFF);
            }
            pointer += size;
            return v;
        }
    }
}
