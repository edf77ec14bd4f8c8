package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.core.x86.Segment;
import dev.tdemu.core.x86.Sreg;
import dev.tdemu.emulator.machine.GuestMemory;
import dev.tdemu.emulator.machine.PageWalker;
import dev.tdemu.emulator.machine.PagingState;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.X86Mmr;
import dev.tdemu.emulator.unicorn.X86Reg;

/**
 * A vCPU's processor state as the VMM needs it to decode and walk on the guest's behalf, whatever
 * mode the guest is in: the operating mode and CPL as the engine's translated code sees them (its
 * hflags), the paging state, segment descriptors, and linear-to-physical translation. EFER is the
 * VMM's (every WRMSR to it is intercepted), except LMA, which the engine sets itself when the
 * guest turns paging on.
 */
public final class CpuState {
    /** QEMU's hflags bits (target/i386/cpu.h). */
    static final int HF_CPL_MASK = 3, HF_INHIBIT_IRQ = 1 << 3, HF_CS32 = 1 << 4, HF_PE = 1 << 7, HF_LMA = 1 << 14,
            HF_CS64 = 1 << 15, HF_VM = 1 << 17, HF_SS32 = 1 << 5;
    private static final long EFER_LMA = 1L << 10;
    static final long CR4_DE = 1L << 3;
    /** MAXPHYADDR of the CPU tdemu presents (CPUID 0x80000008 EAX[7:0]) and the engine implements. */
    public static final int PHYSICAL_ADDRESS_BITS = 40;

    private final Unicorn uc;
    private final GuestMemory memory;
    /** The guest's IA32_EFER as last written (LMA is the engine's). */
    private volatile long efer;

    CpuState(Unicorn uc, GuestMemory memory, long efer) {
        this.uc = uc;
        this.memory = memory;
        this.efer = efer & ~EFER_LMA;
    }

    /** Records a WRMSR to EFER the VMM let through (the engine got it too). */
    void eferWritten(long value) {
        efer = value & ~EFER_LMA;
    }

    public int hflags() {
        return uc.hflags();
    }

    /** IA32_EFER as the guest reads it. */
    public long efer() {
        return (hflags() & HF_LMA) != 0 ? efer | EFER_LMA : efer;
    }

    public ExecutionMode executionMode() {
        return executionMode(hflags());
    }

    static ExecutionMode executionMode(int hf) {
        if ((hf & HF_PE) == 0) {
            return ExecutionMode.REAL;
        }
        if ((hf & HF_CS64) != 0) {
            return ExecutionMode.LONG_64;
        }
        if ((hf & HF_VM) != 0) {
            return ExecutionMode.VIRTUAL_8086;
        }
        return (hf & HF_CS32) != 0 ? ExecutionMode.PROTECTED_32 : ExecutionMode.PROTECTED_16;
    }

    /** CPL, CR4.DE and long mode as the breakpoint rules need them. */
    public CpuMode cpuMode() {
        int hf = hflags();
        return new CpuMode(hf & HF_CPL_MASK, (uc.readReg(X86Reg.CR4) & CR4_DE) != 0, (hf & HF_LMA) != 0);
    }

    /** Whether the instruction just executed was STI or MOV SS/POP SS: interrupts stay blocked for one more instruction. */
    public boolean interruptShadow() {
        return (hflags() & HF_INHIBIT_IRQ) != 0;
    }

    public PagingState paging() {
        return new PagingState(uc.readReg(X86Reg.CR0), uc.readReg(X86Reg.CR3), uc.readReg(X86Reg.CR4), efer(),
                PHYSICAL_ADDRESS_BITS);
    }

    /**
     * The segment register with its descriptor cache, as loading its selector now would give it:
     * in real and virtual-8086 mode base = selector × 16; in protected mode the descriptor from the
     * GDT or LDT (read through the page tables). A guest that changed a descriptor after loading it
     * gets the new one here; tdemu's own guests and Multiboot kernels do not.
     */
    public Segment segment(Sreg sreg) {
        int selector = (int) uc.readReg(switch (sreg) {
            case ES -> X86Reg.ES;
            case CS -> X86Reg.CS;
            case SS -> X86Reg.SS;
            case DS -> X86Reg.DS;
            case FS -> X86Reg.FS;
            case GS -> X86Reg.GS;
        }) & 0xFFFF;
        ExecutionMode mode = executionMode();
        if (mode == ExecutionMode.REAL || mode == ExecutionMode.VIRTUAL_8086) {
            return Segment.real(selector);
        }
        Segment fromTable = descriptor(selector);
        if (mode == ExecutionMode.LONG_64 && sreg != Sreg.FS && sreg != Sreg.GS && fromTable != null) {
            return new Segment(selector, 0, fromTable.limit(), fromTable.accessRights()); // 64-bit mode ignores these bases
        }
        if (sreg == Sreg.FS || sreg == Sreg.GS) {
            long base = uc.readReg(sreg == Sreg.FS ? X86Reg.FS_BASE : X86Reg.GS_BASE);
            return fromTable == null ? new Segment(selector, base, 0, 0) : new Segment(selector, base, fromTable.limit(),
                    fromTable.accessRights());
        }
        return fromTable != null ? fromTable : new Segment(selector, 0, 0, 0);
    }

    /** The descriptor {@code selector} names in the GDT or LDT, or null (null selector, outside the table, unmapped). */
    Segment descriptor(int selector) {
        if ((selector & ~3) == 0) {
            return null;
        }
        X86Mmr table = uc.readMmr((selector & 4) != 0 ? X86Reg.LDTR : X86Reg.GDTR);
        long offset = selector & ~7L;
        if (offset + 7 > Integer.toUnsignedLong(table.limit())) {
            return null;
        }
        byte[] raw = readLinear(table.base() + offset, 8);
        if (raw.length < 8) {
            return null;
        }
        long d = 0;
        for (int i = 7; i >= 0; i--) {
            d = (d << 8) | (raw[i] & 0xFF);
        }
        return Segment.fromDescriptor(selector, d);
    }

    /** Linear to guest-physical through the guest's current paging mode; -1 when it does not translate. */
    public long toPhysical(long linear) {
        return PageWalker.lookup(memory, paging(), linear) instanceof PageWalker.Mapped m ? m.physical() : -1;
    }

    /** Up to {@code max} bytes at a linear address (fewer where the translation or RAM ends). */
    public byte[] readLinear(long linear, int max) {
        PagingState paging = paging();
        byte[] out = new byte[max];
        int n = 0;
        while (n < max) {
            if (!(PageWalker.lookup(memory, paging, linear + n) instanceof PageWalker.Mapped m)) {
                break;
            }
            int chunk = (int) Math.min(max - n, m.bytesToPageEnd());
            if (!memory.contains(m.physical(), chunk)) {
                break;
            }
            System.arraycopy(memory.readBytes(m.physical(), chunk), 0, out, n, chunk);
            n += chunk;
        }
        return n == max ? out : java.util.Arrays.copyOf(out, n);
    }

    /** The linear address of instruction pointer {@code rip}: CS's base plus RIP (the base is 0 in 64-bit mode). */
    public long codeLinear(long rip) {
        ExecutionMode mode = executionMode();
        if (mode == ExecutionMode.LONG_64) {
            return rip;
        }
        long base = segment(Sreg.CS).base();
        return (base + rip) & 0xFFFF_FFFFL;
    }

    /**
     * The instruction pointer of the instruction at linear address {@code linear}: the engine's
     * code hooks report linear addresses (CS's base plus EIP), which differ from RIP wherever CS's
     * base is not 0 (real mode, a based segment).
     */
    public long ripOfLinear(long linear) {
        if (executionMode() == ExecutionMode.LONG_64) {
            return linear;
        }
        return (linear - segment(Sreg.CS).base()) & 0xFFFF_FFFFL;
    }
}
