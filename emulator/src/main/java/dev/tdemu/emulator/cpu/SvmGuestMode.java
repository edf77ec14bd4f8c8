package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.Segment;
import dev.tdemu.emulator.unicorn.EmuResult;
import dev.tdemu.emulator.unicorn.Protection;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.X86Mmr;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Puts an engine into the guest mode of the engine's own (QEMU) SVM model, so that the
 * instructions a hypervisor must see are intercepted by the engine itself, precisely and wherever
 * the code came from: every MOV to/from DR0–DR7 (which must never reach the engine: a DR7 write
 * that arms an execute breakpoint crashes it), CPUID, HLT, RDMSR/WRMSR and MOV to CR3. An
 * intercept arrives at the interrupt hook as vector {@link #VMEXIT_BASE} + SVM exit code with RIP
 * on the instruction; the engine never performs the #VMEXIT world switch, so the guest state stays
 * loaded and the hook resumes it by writing RIP.
 *
 * <p>One VMRUN, executed by a few bytes of bootstrap code in the hypervisor region, loads the
 * vCPU's entry state from a VMCB. The hypervisor region lives in engine-physical memory above any
 * guest RAM and is made inaccessible to guest code after the bootstrap (the engine's own VMCB
 * accesses bypass page protections).
 *
 * <p>After the bootstrap nobody may read or write an MSR of the engine through the register API:
 * with MSR intercepts active the engine runs its intercept check there too, and the resulting
 * #VMEXIT longjmps out of the API call and kills the process. The VMM keeps the MSR state itself.
 */
public final class SvmGuestMode {
    /** Engine-physical base of the hypervisor region: far above any guest RAM tdemu supports. */
    public static final long HV_BASE = 0x80_0000_0000L;
    public static final long HV_SIZE = 0x10000;
    static final long BOOT_CODE = HV_BASE;
    static final long VMCB = HV_BASE + 0x1000;
    static final long HSAVE = HV_BASE + 0x2000;
    static final long MSRPM = HV_BASE + 0x3000;   // 8 KiB: every MSR intercepted
    static final long IOPM = HV_BASE + 0x6000;    // 12 KiB (the engine ignores I/O intercepts)

    /** An intercept reaches the interrupt hook as this plus the SVM exit code. */
    public static final int VMEXIT_BASE = 0x100;
    public static final int EXIT_READ_CR8 = 0x008;
    public static final int EXIT_WRITE_CR3 = 0x013;
    public static final int EXIT_WRITE_CR4 = 0x014;
    public static final int EXIT_WRITE_CR8 = 0x018;
    public static final int EXIT_READ_DR0 = 0x020;
    public static final int EXIT_WRITE_DR0 = 0x030;
    public static final int EXIT_RDTSC = 0x06E;
    public static final int EXIT_CPUID = 0x072;
    public static final int EXIT_IRET = 0x074;
    public static final int EXIT_HLT = 0x078;
    public static final int EXIT_INVLPG = 0x079;
    public static final int EXIT_MSR = 0x07c;
    public static final int EXIT_VMRUN = 0x080;
    public static final int EXIT_VMMCALL = 0x081;
    public static final int EXIT_RDTSCP = 0x087;

    private static final long INTERCEPT_CPUID = 1L << 18, INTERCEPT_HLT = 1L << 24, INTERCEPT_INVLPG = 1L << 25,
            INTERCEPT_MSR = 1L << 28,
            INTERCEPT_VMRUN = 1L << 32, INTERCEPT_VMMCALL = 1L << 33;
    private static final long MSR_EFER = 0xC0000080L, MSR_VM_HSAVE_PA = 0xC0010117L, EFER_SVME = 1L << 12;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Which instructions, beyond the ones tdemu always needs, the guest's VMCB intercepts. */
    public record Intercepts(boolean rdtsc, boolean iret, boolean cr8, boolean cr4) {
        /** tdemu's own guests: the engine's TSC is the guest's, the engine's IRET is theirs, no APIC behind CR8. */
        public static final Intercepts TDEMU = new Intercepts(false, false, false, false);
        /**
         * A PC: RDTSC and RDTSCP exit, so the TSC follows the machine's virtual clock; IRET exits,
         * because the engine's clears the FS and GS bases when it nulls their selectors; MOV to and
         * from CR8 exit, because CR8 is the local APIC's TPR, which the engine does not have; MOV
         * to CR4 exits, because the engine sets any bit, where the CPU refuses what CPUID does not offer.
         */
        public static final Intercepts PC = new Intercepts(true, true, true, true);
    }

    private static final long INTERCEPT_RDTSC = 1L << 14, INTERCEPT_IRET = 1L << 20, INTERCEPT_RDTSCP = 1L << 39;

    private final Unicorn uc;
    private final MemorySegment msrpm;

    private SvmGuestMode(Unicorn uc, MemorySegment msrpm) {
        this.uc = uc;
        this.msrpm = msrpm;
    }

    /** Whether an interrupt-hook vector is an SVM intercept, and which exit code. */
    public static boolean isIntercept(int vector) {
        return vector >= VMEXIT_BASE;
    }

    /**
     * Maps the hypervisor region into {@code uc} (host memory owned by {@code arena}), runs VMRUN
     * with the vCPU's entry state and leaves the engine in guest mode at {@code state.rip()}.
     */
    public static SvmGuestMode enter(Unicorn uc, Arena arena, VcpuEntry state, Intercepts intercepts) {
        MemorySegment hv = arena.allocate(HV_SIZE, 4096);
        uc.mapPtr(HV_BASE, hv, Protection.RWX);
        long vmcb = VMCB - HV_BASE;
        // Control area: the intercepts.
        hv.set(U16, vmcb + 0x00, (short) (intercepts.cr8() ? 1 << 8 : 0));              // MOV from CR8
        hv.set(U16, vmcb + 0x02, (short) ((1 << 3) | (intercepts.cr4() ? 1 << 4 : 0) | (intercepts.cr8() ? 1 << 8 : 0))); // MOV to CR3, CR4, CR8
        hv.set(U16, vmcb + 0x04, (short) 0xFF);       // MOV from DR0..DR7
        hv.set(U16, vmcb + 0x06, (short) 0xFF);       // MOV to DR0..DR7
        hv.set(U64, vmcb + 0x0C, INTERCEPT_CPUID | INTERCEPT_HLT | INTERCEPT_INVLPG | INTERCEPT_MSR | INTERCEPT_VMRUN
                | INTERCEPT_VMMCALL | (intercepts.rdtsc() ? INTERCEPT_RDTSC | INTERCEPT_RDTSCP : 0)
                | (intercepts.iret() ? INTERCEPT_IRET : 0));
        hv.set(U64, vmcb + 0x40, IOPM);
        hv.set(U64, vmcb + 0x48, MSRPM);
        hv.set(U32, vmcb + 0x58, 1);                  // ASID
        hv.asSlice(MSRPM - HV_BASE, 0x2000).fill((byte) 0xFF);
        hv.asSlice(IOPM - HV_BASE, 0x3000).fill((byte) 0xFF);
        // Save area: the vCPU's architectural entry state.
        segment(hv, vmcb + 0x400, state.es());
        segment(hv, vmcb + 0x410, state.cs());
        segment(hv, vmcb + 0x420, state.ss());
        segment(hv, vmcb + 0x430, state.ds());
        hv.set(U32, vmcb + 0x464, state.gdtLimit());
        hv.set(U64, vmcb + 0x468, state.gdtBase());
        hv.set(U32, vmcb + 0x484, state.idtLimit());
        hv.set(U64, vmcb + 0x488, state.idtBase());
        hv.set(ValueLayout.JAVA_BYTE, vmcb + 0x4CB, (byte) state.cs().dpl()); // CPL
        hv.set(U64, vmcb + 0x4D0, state.efer() | EFER_SVME);
        hv.set(U64, vmcb + 0x548, state.cr4());
        hv.set(U64, vmcb + 0x550, state.cr3());
        hv.set(U64, vmcb + 0x558, state.cr0());
        hv.set(U64, vmcb + 0x560, 0x400);                      // the engine's own DR7 stays inert
        hv.set(U64, vmcb + 0x568, 0xFFFF0FF0L);
        hv.set(U64, vmcb + 0x570, state.rflags());
        hv.set(U64, vmcb + 0x578, state.rip());
        hv.set(U64, vmcb + 0x5D8, state.rsp());
        hv.set(U64, vmcb + 0x5F8, state.rax());
        // Bootstrap: mov $VMCB, %rax; vmrun; hlt (the hlt is never reached: the guest runs next).
        byte[] boot = {0x48, (byte) 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0x0F, 0x01, (byte) 0xD8, (byte) 0xF4};
        MemorySegment.copy(boot, 0, hv, ValueLayout.JAVA_BYTE, 0, boot.length);
        hv.set(U64, 2, VMCB);

        uc.writeMsr((int) MSR_EFER, uc.readMsr((int) MSR_EFER) | EFER_SVME);
        if ((uc.readMsr((int) MSR_EFER) & EFER_SVME) == 0) {
            throw new EngineSetupException("the Unicorn engine's CPU model has no SVM: tdemu needs it to intercept "
                    + "guest MOV DR precisely (Unicorn 2.1's default x86-64 model has it)");
        }
        uc.writeMsr((int) MSR_VM_HSAVE_PA, HSAVE);
        // VMRUN loads CR0 before CR4, and the engine refuses to turn on long-mode paging while
        // CR4.PAE is clear: give the host side the guest's CR4 first, or paging silently stays off.
        uc.writeReg(X86Reg.CR4, state.cr4());
        // Stop right at the guest's first instruction: VMRUN jumps there.
        long firstLinear = state.cs().base() + state.rip();
        var arrived = uc.addCodeHook(firstLinear, firstLinear, (u, address, size) -> u.emuStop());
        try {
            // Bounded: the bootstrap ends at the guest's first instruction or, if VMRUN failed, at its hlt.
            EmuResult r = uc.emuStart(BOOT_CODE);
            long rip = uc.readReg(X86Reg.RIP);
            if (rip != state.rip()) {
                throw new EngineSetupException(String.format(
                        "VMRUN bootstrap did not reach the guest entry 0x%x (stopped at 0x%x, %s)", state.rip(), rip, r));
            }
        } finally {
            arrived.close();
        }
        // VMRUN does not load TR, FS, GS or the other GPRs (VMLOAD would): set them as the entry says.
        if (state.tr() != null) {
            Segment tr = state.tr();
            uc.writeMmr(X86Reg.TR, new X86Mmr(tr.selector(), tr.base(), (int) tr.limit(), svmAttributes(tr) << 8 & 0xFF00));
        }
        uc.writeReg(X86Reg.FS, state.fs().selector());
        uc.writeReg(X86Reg.GS, state.gs().selector());
        uc.writeReg(X86Reg.RBX, state.rbx());
        uc.writeReg(X86Reg.RDI, state.rdi());
        uc.writeReg(X86Reg.RSI, state.rsi());
        // x87 and SSE as KVM's vCPU reset leaves them (fx_init): FNINIT's control word, every x87
        // register empty, all SSE exceptions masked. The engine's own reset leaves MXCSR 0 (every
        // SSE exception unmasked) and the tag word 0x5555.
        uc.writeReg(X86Reg.FPCW, 0x37F);
        uc.writeReg(X86Reg.FPTAG, 0xFFFF);
        uc.writeReg(X86Reg.MXCSR, 0x1F80);
        if (uc.readReg(X86Reg.CR0) != state.cr0() || uc.readReg(X86Reg.CR3) != state.cr3()) {
            throw new EngineSetupException(String.format("VMRUN left CR0=0x%x CR3=0x%x instead of 0x%x, 0x%x",
                    uc.readReg(X86Reg.CR0), uc.readReg(X86Reg.CR3), state.cr0(), state.cr3()));
        }
        // Guest code must not reach the VMCB, the MSR bitmap or the bootstrap.
        uc.protect(HV_BASE, HV_SIZE, Protection.NONE);
        return new SvmGuestMode(uc, hv.asSlice(MSRPM - HV_BASE, 0x2000));
    }

    /**
     * Reads an MSR the engine itself keeps (EFER, STAR, LSTAR, the segment bases, ...) between runs.
     * The MSR intercept check runs on the engine's API path too and would exit guest mode from inside
     * the call (which kills the process), so the MSR's read bit in the permission map is cleared
     * around the call: the engine checks the map in memory on every access.
     */
    public long readEngineMsr(int msr) {
        int bit = permissionBit(msr, false);
        clear(bit);
        try {
            long value = uc.readMsr(msr);
            return msr == (int) MSR_EFER ? value & ~EFER_SVME : value; // SVME is tdemu's, never the guest's
        } finally {
            set(bit);
        }
    }

    /** Writes an MSR the engine itself acts on (see {@link #readEngineMsr}); EFER keeps the engine's SVME. */
    public void writeEngineMsr(int msr, long value) {
        int bit = permissionBit(msr, true);
        clear(bit);
        try {
            uc.writeMsr(msr, msr == (int) MSR_EFER ? value | EFER_SVME : value);
        } finally {
            set(bit);
        }
    }

    /** The bit of the MSR permission map for {@code msr} (AMD APM vol. 2, "MSR intercepts"). */
    static int permissionBit(int msr, boolean write) {
        long m = Integer.toUnsignedLong(msr);
        long index; // the MSR's two-bit slot: 0x0000-0x1FFF, then 0xC0000000-0xC0001FFF, then 0xC0010000-0xC0011FFF
        if (m <= 0x1FFF) {
            index = m;
        } else if (m >= 0xC000_0000L && m <= 0xC000_1FFFL) {
            index = 0x2000 + (m - 0xC000_0000L);
        } else if (m >= 0xC001_0000L && m <= 0xC001_1FFFL) {
            index = 0x4000 + (m - 0xC001_0000L);
        } else {
            throw new IllegalArgumentException(String.format("MSR 0x%x has no permission-map bit", msr));
        }
        return (int) (index * 2 + (write ? 1 : 0));
    }

    private void clear(int bit) {
        byte b = msrpm.get(ValueLayout.JAVA_BYTE, bit >>> 3);
        msrpm.set(ValueLayout.JAVA_BYTE, bit >>> 3, (byte) (b & ~(1 << (bit & 7))));
    }

    private void set(int bit) {
        byte b = msrpm.get(ValueLayout.JAVA_BYTE, bit >>> 3);
        msrpm.set(ValueLayout.JAVA_BYTE, bit >>> 3, (byte) (b | (1 << (bit & 7))));
    }

    /** The 12-bit VMCB segment attributes: descriptor bits 40-47 and 52-55. */
    private static int svmAttributes(Segment s) {
        return (s.accessRights() & 0xFF) | ((s.accessRights() >>> 4) & 0xF00);
    }

    private static void segment(MemorySegment hv, long at, Segment s) {
        hv.set(U16, at, (short) s.selector());
        hv.set(U16, at + 2, (short) svmAttributes(s));
        hv.set(U32, at + 4, (int) s.limit());
        hv.set(U64, at + 8, s.base());
    }
}
