package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.Segment;
import dev.tdemu.core.x86.Sreg;
import dev.tdemu.emulator.machine.GuestMemory;
import dev.tdemu.emulator.machine.IdtDelivery;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.X86Mmr;
import dev.tdemu.emulator.unicorn.X86Reg;

/**
 * {@link IdtDelivery}'s view of a guest engine: reads the live state and commits the new context.
 * The mode comes from the engine (CR0, CR4, EFER, CPL from its hflags, the CS and SS descriptors),
 * so delivery follows a PC kernel into real mode, 16- and 32-bit protected mode and long mode.
 */
final class EngineIdtCpu implements IdtDelivery.Cpu {
    private final Unicorn uc;
    private final GuestMemory memory;
    private final CpuState state;
    private final X86Mmr idtr, gdtr, tr;

    EngineIdtCpu(GuestEngine g) {
        this.uc = g.engine();
        this.memory = g.memory();
        this.state = g.state();
        this.idtr = uc.readMmr(X86Reg.IDTR);
        this.gdtr = uc.readMmr(X86Reg.GDTR);
        this.tr = uc.readMmr(X86Reg.TR);
    }

    public long rsp() { return uc.readReg(X86Reg.RSP); }
    public long rflags() { return uc.readReg(X86Reg.RFLAGS); }
    public int cs() { return (int) uc.readReg(X86Reg.CS); }
    public int ss() { return (int) uc.readReg(X86Reg.SS); }
    /** The engine's CPL (in real mode 0, whatever CS's low bits). */
    public int cpl() { return state.hflags() & CpuState.HF_CPL_MASK; }
    public long idtBase() { return idtr.base(); }
    public int idtLimit() { return idtr.limit(); }
    public long gdtBase() { return gdtr.base(); }
    public int gdtLimit() { return gdtr.limit(); }
    public int trSelector() { return tr.selector(); }
    public long trBase() { return tr.base(); }
    public int trLimit() { return tr.limit(); }
    public long cr3() { return uc.readReg(X86Reg.CR3); }
    public GuestMemory memory() { return memory; }

    @Override
    public long cr0() { return uc.readReg(X86Reg.CR0); }

    @Override
    public long cr4() { return uc.readReg(X86Reg.CR4); }

    @Override
    public long efer() { return state.efer(); }

    @Override
    public int maxPhysAddr() { return CpuState.PHYSICAL_ADDRESS_BITS; }

    @Override
    public Segment csSegment() { return state.segment(Sreg.CS); }

    @Override
    public Segment ssSegment() { return state.segment(Sreg.SS); }

    /** The TSS type from TR's cached attributes (QEMU keeps the descriptor's type in bits 11:8). */
    @Override
    public int trType() { return (tr.flags() >>> 8) & 0xF; }

    @Override
    public void commit(long cr2, long rip, int cs, int newCpl, long rsp, int ss, long rflags) {
        if (cr2 != -1) {
            uc.writeReg(X86Reg.CR2, cr2);
        }
        if (ss != -1) {
            // The engine only loads segments the current CPL may, and takes CPL from SS: lower it
            // first, then 64-bit mode's null SS (RPL = new CPL) goes in as on a real interrupt.
            uc.forceCpl(newCpl);
            uc.writeReg(X86Reg.SS, ss);
        }
        uc.writeReg(X86Reg.CS, cs);
        // From compatibility mode the engine loads the 64-bit CS's cache but keeps decoding 32-bit
        // code (its hflags keep CS32 without CS64): say IA-32e 64-bit mode, as the CS cache does.
        if ((state.hflags() & CpuState.HF_LMA) != 0 && state.segment(Sreg.CS).longMode()
                && (state.hflags() & CpuState.HF_CS64) == 0) {
            uc.forceHflags(0, CpuState.HF_CS64 | CpuState.HF_CS32 | CpuState.HF_SS32);
        }
        uc.writeReg(X86Reg.RSP, rsp);
        uc.writeReg(X86Reg.RFLAGS, rflags);
        uc.writeReg(X86Reg.RIP, rip);
        uc.clearExceptionInFlight();
    }
}
