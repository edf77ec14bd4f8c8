package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.Segment;
import dev.tdemu.emulator.boot.EntryState32;

import dev.tdemu.emulator.machine.BootStructures;

/**
 * The architectural state a vCPU first enters its guest with, whatever the mode: tdemu's own
 * guests start in 64-bit long mode (docs/guest-abi.md), a Multiboot kernel in 32-bit protected mode
 * with paging off (the Multiboot specification), an application processor in real mode at its
 * SIPI vector. {@link SvmGuestMode} loads it with one VMRUN.
 *
 * @param efer the guest's IA32_EFER (the engine additionally keeps SVME, which the guest never sees)
 * @param tr   the task register, or null to leave it as the engine's reset left it
 */
public record VcpuEntry(long rip, long rsp, long rflags, long cr0, long cr3, long cr4, long efer,
                        Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss, Segment tr,
                        long gdtBase, int gdtLimit, long idtBase, int idtLimit,
                        long rax, long rbx, long rdi, long rsi) {

    /** tdemu's own ABI: 64-bit long mode, CPL0, identity paging (docs/guest-abi.md). */
    public static VcpuEntry longMode(BootStructures.EntryState s) {
        Segment data = new Segment(s.ds(), 0, 0xFFFF_FFFFL, Segment.G | Segment.DB | Segment.P | Segment.S
                | Segment.TYPE_WRITABLE_OR_READABLE);
        Segment code = new Segment(s.cs(), 0, 0xFFFF_FFFFL, Segment.G | Segment.L | Segment.P | Segment.S | Segment.TYPE_CODE
                | Segment.TYPE_WRITABLE_OR_READABLE);
        Segment tr = new Segment(s.tr(), s.trBase(), 0x67, Segment.P | 0xB);
        return new VcpuEntry(s.rip(), s.rsp(), s.rflags(), s.cr0(), s.cr3(), s.cr4(), s.efer(), code, data, data,
                new Segment(0, 0, 0, 0), new Segment(0, 0, 0, 0), data, tr, s.gdtBase(), s.gdtLimit(), 0, 0,
                0, 0, s.rdi(), s.rsi());
    }

    /** A Multiboot kernel's entry: 32-bit protected mode, paging off, EAX = the magic, EBX = the information. */
    public static VcpuEntry multiboot(EntryState32 s) {
        return new VcpuEntry(s.eip(), s.esp(), s.eflags(), s.cr0(), 0, s.cr4(), s.efer(), s.cs(), s.ds(), s.es(), s.fs(),
                s.gs(), s.ss(), null, s.gdtBase(), s.gdtLimit(), s.idtBase(), s.idtLimit(), s.eax(), s.ebx(), 0, 0);
    }
}
