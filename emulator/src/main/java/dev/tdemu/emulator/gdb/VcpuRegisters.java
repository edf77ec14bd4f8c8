package dev.tdemu.emulator.gdb;

import static dev.tdemu.gdbstub.registers.X86_64Registers.*;

import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Sreg;
import dev.tdemu.emulator.unicorn.UnicornException;
import dev.tdemu.emulator.unicorn.X86Mmr;
import dev.tdemu.emulator.unicorn.X86Reg;
import dev.tdemu.emulator.vm.DebugSession;
import dev.tdemu.gdbstub.registers.RegisterFile;
import dev.tdemu.gdbstub.registers.RegisterLayout;
import dev.tdemu.gdbstub.target.TargetException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * gdb's registers of one stopped vCPU ({@link RegisterLayout#x86_64()}), read from and written to
 * the engine and tdemu's machine model through the {@link DebugSession}. A write is checked as
 * the CPU checks the instruction that would make it (MOV to a segment register or to CRn, WRMSR,
 * LDMXCSR), all registers first and then all or nothing; a refusal names the register, the
 * exception the CPU would raise and why, and gdb 13 shows it ("Could not write register ...;
 * remote failure reply 'E.reason'").
 */
final class VcpuRegisters {
    static final int MSR_EFER = 0xC0000080, MSR_STAR = 0xC0000081, MSR_LSTAR = 0xC0000082,
            MSR_APIC_BASE = 0x1B, MSR_DEBUGCTL = 0x1D9;
    /** MXCSR bits software may set (LDMXCSR raises #GP for the others; MXCSR_MASK 0xffff). */
    static final long MXCSR_WRITABLE = 0xffff;

    /** gdb register numbers and the engine registers behind them (8 bytes or less). */
    private static final Map<Integer, X86Reg> PLAIN = new HashMap<>();
    private static final X86Reg[] XMM = new X86Reg[16], ST = new X86Reg[8];
    private static final Sreg[] SREGS = {Sreg.CS, Sreg.SS, Sreg.DS, Sreg.ES, Sreg.FS, Sreg.GS};

    static {
        X86Reg[] gprs = {X86Reg.RAX, X86Reg.RBX, X86Reg.RCX, X86Reg.RDX, X86Reg.RSI, X86Reg.RDI, X86Reg.RBP, X86Reg.RSP,
            X86Reg.R8, X86Reg.R9, X86Reg.R10, X86Reg.R11, X86Reg.R12, X86Reg.R13, X86Reg.R14, X86Reg.R15};
        for (int i = 0; i < 16; i++) {
            PLAIN.put(i, gprs[i]);
            XMM[i] = X86Reg.valueOf("XMM" + i);
        }
        for (int i = 0; i < 8; i++) {
            ST[i] = X86Reg.valueOf("ST" + i);
        }
        PLAIN.put(RIP, X86Reg.RIP);
        PLAIN.put(EFLAGS, X86Reg.RFLAGS);
        X86Reg[] segs = {X86Reg.CS, X86Reg.SS, X86Reg.DS, X86Reg.ES, X86Reg.FS, X86Reg.GS};
        for (int i = 0; i < 6; i++) {
            PLAIN.put(CS + i, segs[i]);
        }
        PLAIN.put(FS_BASE, X86Reg.FS_BASE);
        PLAIN.put(GS_BASE, X86Reg.GS_BASE);
        PLAIN.put(CR0, X86Reg.CR0);
        PLAIN.put(CR2, X86Reg.CR2);
        PLAIN.put(CR3, X86Reg.CR3);
        PLAIN.put(CR4, X86Reg.CR4);
        PLAIN.put(MXCSR, X86Reg.MXCSR);
        // x87: fioff/fooff are the offsets of the last x87 instruction and operand, fiseg/foseg
        // their segments (0 here, as on CPUs that deprecate them). The engine does not track the
        // last opcode: fop stays unavailable.
        PLAIN.put(FCTRL, X86Reg.FPCW);
        PLAIN.put(FSTAT, X86Reg.FPSW);
        PLAIN.put(FTAG, X86Reg.FPTAG);
        PLAIN.put(FISEG, X86Reg.FCS);
        PLAIN.put(FIOFF, X86Reg.FIP);
        PLAIN.put(FOSEG, X86Reg.FDS);
        PLAIN.put(FOOFF, X86Reg.FDP);
    }

    private final DebugSession session;
    private final RegisterLayout layout;

    VcpuRegisters(DebugSession session, RegisterLayout layout) {
        this.session = session;
        this.layout = layout;
    }

    /** The engine register behind a gdb register that is read as one number, if there is one. */
    static Optional<X86Reg> plain(int regnum) {
        return Optional.ofNullable(PLAIN.get(regnum));
    }

    // ---- reading

    /** Every register of {@code vcpu}; fop is unavailable (the engine does not track it). */
    RegisterFile read(int vcpu) {
        RegisterFile f = RegisterFile.empty(layout);
        for (var e : PLAIN.entrySet()) {
            f.setLong(e.getKey(), session.readRegister(vcpu, e.getValue()));
        }
        for (int i = 0; i < 16; i++) {
            f.setBytes(XMM0 + i, session.readRegisterBytes(vcpu, XMM[i]));
        }
        for (int i = 0; i < 8; i++) { // gdb's st0-st7 are ST(i), relative to TOP
            f.setBytes(ST0 + i, session.readRegisterBytes(vcpu, ST[i]));
        }
        f.setLong(CR8, session.cr8(vcpu)); // the TPR's class on a PC; 0 in tdemu's own machine, whose engine has no TPR
        f.setLong(EFER, session.readMsr(vcpu, MSR_EFER).orElse(0));
        DebugRegisters dr = session.guestDebugRegisters(vcpu);
        f.setLong(DR0, dr.dr0());
        f.setLong(DR1, dr.dr1());
        f.setLong(DR2, dr.dr2());
        f.setLong(DR3, dr.dr3());
        f.setLong(DR6, dr.dr6().value());
        f.setLong(DR7, dr.dr7().value());
        X86Mmr gdtr = session.readTableRegister(vcpu, X86Reg.GDTR);
        X86Mmr idtr = session.readTableRegister(vcpu, X86Reg.IDTR);
        f.setLong(GDTR_BASE, gdtr.base());
        f.setLong(GDTR_LIMIT, gdtr.limit());
        f.setLong(IDTR_BASE, idtr.base());
        f.setLong(IDTR_LIMIT, idtr.limit());
        f.setLong(LDTR, session.readTableRegister(vcpu, X86Reg.LDTR).selector());
        f.setLong(TR, session.readTableRegister(vcpu, X86Reg.TR).selector());
        // SYSCALL takes STAR and LSTAR from the engine, where they keep their reset value 0: the engine's MSR API
        // is closed once the guest runs (SvmGuestMode), and tdemu's model makes the guest's WRMSR of them #GP.
        // k_gs_base is unavailable: SWAPGS changes it inside the engine, and nothing outside can read it there.
        f.setLong(STAR, session.readMsr(vcpu, MSR_STAR).orElse(0));
        f.setLong(LSTAR, session.readMsr(vcpu, MSR_LSTAR).orElse(0));
        f.setLong(APIC_BASE, session.readMsr(vcpu, MSR_APIC_BASE).orElse(0));
        f.setLong(DEBUGCTL, session.readMsr(vcpu, MSR_DEBUGCTL).orElse(0));
        return f;
    }

    // ---- writing

    /**
     * Writes the registers in {@code values} that change, all or nothing. An unchanged register
     * is fine whatever it is (gdb writes back the whole file to change one register), and so is,
     * in a whole file, one this target cannot read (gdb sends back what it holds for it).
     */
    void write(int vcpu, RegisterFile values, boolean wholeFile) {
        RegisterFile current = read(vcpu);
        List<Runnable> writes = new ArrayList<>();
        for (int reg = 0; reg < layout.registerCount(); reg++) {
            Optional<byte[]> v = values.bytes(reg);
            if (v.isEmpty()) {
                continue;
            }
            Optional<byte[]> now = current.bytes(reg);
            if (now.isEmpty() ? wholeFile : Arrays.equals(now.get(), v.get())) {
                continue;
            }
            writes.add(planned(vcpu, reg, v.get(), values.getLong(reg), current));
        }
        for (Runnable w : writes) {
            w.run();
        }
    }

    /** The write of one changed register, checked now, done later; a refusal throws with the reason. */
    private Runnable planned(int vcpu, int reg, byte[] bytes, long value, RegisterFile current) {
        String name = layout.register(reg).name();
        if (reg <= R15 || reg == RIP || reg == EFLAGS) {
            X86Reg r = PLAIN.get(reg);
            return () -> session.writeRegister(vcpu, r, value);
        }
        if (reg >= XMM0 && reg <= XMM15) {
            return () -> session.writeRegisterBytes(vcpu, XMM[reg - XMM0], bytes);
        }
        if (reg >= ST0 && reg < ST0 + 8) {
            return () -> session.writeRegisterBytes(vcpu, ST[reg - ST0], bytes);
        }
        if (reg >= CS && reg <= GS) {
            return segment(vcpu, SREGS[reg - CS], (int) value, current);
        }
        boolean td = session.isTd();
        return switch (reg) {
            case MXCSR -> {
                if ((value & ~MXCSR_WRITABLE) != 0) {
                    throw refused("#GP(0): mxcsr 0x%x sets reserved bits (the writable ones are 0x%x)", value, MXCSR_WRITABLE);
                }
                yield () -> session.writeRegister(vcpu, X86Reg.MXCSR, value);
            }
            case FCTRL, FSTAT, FTAG, FISEG, FOSEG -> {
                if ((value & ~0xFFFFL) != 0) {
                    throw refused("%s is 16 bits wide in the x87 state; 0x%x does not fit", name, value);
                }
                yield () -> session.writeRegister(vcpu, PLAIN.get(reg), value);
            }
            case FIOFF, FOOFF -> () -> session.writeRegister(vcpu, PLAIN.get(reg), value);
            case FOP -> throw refused("fop is not available: the engine does not keep the last x87 opcode");
            case FS_BASE, GS_BASE -> {
                check(ControlRegisterChecks.canonical(name, value));
                yield () -> session.writeRegister(vcpu, PLAIN.get(reg), value);
            }
            case K_GS_BASE, STAR, LSTAR -> throw refused("tdemu's engine keeps %s to itself once the guest runs (its MSR "
                    + "interface is closed then, see SvmGuestMode), and tdemu's MSR model makes the guest's own WRMSR of it #GP(0)",
                    name);
            case CR2 -> () -> session.writeRegister(vcpu, X86Reg.CR2, value);
            case CR0, CR3, CR4, CR8, EFER -> {
                if (td) {
                    throw refused("tdemu does not let the debugger change a TD's %s (the TDX module's checks on TDH.VP.WR of it are "
                            + "not modelled)", name);
                }
                yield switch (reg) {
                    case CR0 -> {
                        check(ControlRegisterChecks.cr0(value | ControlRegisterChecks.CR0_ET, current.getLong(CR4)));
                        yield () -> session.writeRegister(vcpu, X86Reg.CR0, value | ControlRegisterChecks.CR0_ET);
                    }
                    case CR3 -> {
                        check(ControlRegisterChecks.cr3(value, session.pagingState(vcpu).maxPhysAddr()));
                        yield () -> session.writeRegister(vcpu, X86Reg.CR3, value);
                    }
                    case CR4 -> {
                        check(ControlRegisterChecks.cr4(current.getLong(CR4), value));
                        yield () -> session.writeRegister(vcpu, X86Reg.CR4, value);
                    }
                    case CR8 -> {
                        if (session.cr8IsTpr()) {
                            check(ControlRegisterChecks.cr8Tpr(value));
                            yield () -> session.setCr8(vcpu, (int) value);
                        }
                        check(ControlRegisterChecks.cr8(value));
                        yield () -> { };
                    }
                    default -> {
                        check(ControlRegisterChecks.efer(value));
                        yield () -> { };
                    }
                };
            }
            case DR0, DR1, DR2, DR3, DR6, DR7 -> throw refused("the debugger does not write the guest's %s (KVM keeps the "
                    + "guest's debug registers apart from the debugger's); set hardware breakpoints and watchpoints with hbreak, "
                    + "watch, rwatch and awatch", name);
            case GDTR_BASE, GDTR_LIMIT, IDTR_BASE, IDTR_LIMIT, LDTR, TR -> throw refused("%s is read-only for the debugger: the "
                    + "guest loads it (LGDT, LIDT, LLDT, LTR)", name);
            case APIC_BASE -> throw refused("apic_base is fixed at 0x%x in tdemu's MSR model", current.getLong(APIC_BASE));
            case DEBUGCTL -> throw refused("debugctl belongs to the KVM model under test (the VMCS's or the TD's "
                    + "IA32_DEBUGCTL): write it from the guest with WRMSR");
            default -> throw refused("%s cannot be written", name);
        };
    }

    /** A segment register load, checked through the guest's descriptor tables. */
    private Runnable segment(int vcpu, Sreg reg, int selector, RegisterFile current) {
        int cpl = (int) current.getLong(CS) & 3;
        SegmentLoad.Tables tables = tables(vcpu);
        // 64-bit mode unless the current CS says otherwise (the engine runs IA-32e mode only).
        SegmentLoad.Outcome cs = SegmentLoad.check(Sreg.CS, (int) current.getLong(CS), cpl, false, tables);
        boolean longMode = !(cs instanceof SegmentLoad.Outcome.Load l) || l.segment().longMode();
        if (!longMode && reg != Sreg.FS && reg != Sreg.GS) {
            throw refused("in compatibility mode %s's base and limit matter, and tdemu's engine cannot load them from the "
                    + "debugger (only fs and gs)", reg.name().toLowerCase());
        }
        return switch (SegmentLoad.check(reg, selector, cpl, longMode, tables)) {
            case SegmentLoad.Outcome.Refused r -> throw new TargetException(r.reason());
            // In 64-bit mode the engine takes the selector of CS, SS, DS and ES as it is (their bases and
            // limits do not count there; the checks above keep the attributes that do), and loads FS's and
            // GS's descriptors itself, setting their bases as MOV does.
            case SegmentLoad.Outcome.Load l -> () -> {
                try {
                    session.writeRegister(vcpu, X86Reg.valueOf(reg.name()), selector);
                } catch (UnicornException e) {
                    throw new TargetException(String.format("the engine refused %s 0x%x: %s", reg.name().toLowerCase(), selector,
                            e.getMessage()));
                }
            };
        };
    }

    /** The vCPU's GDT and LDT, read through its page tables. */
    SegmentLoad.Tables tables(int vcpu) {
        X86Mmr gdtr = session.readTableRegister(vcpu, X86Reg.GDTR);
        X86Mmr ldtr = session.readTableRegister(vcpu, X86Reg.LDTR);
        return new SegmentLoad.Tables() {
            public long gdtBase() { return gdtr.base(); }
            public int gdtLimit() { return gdtr.limit(); }
            public int ldtSelector() { return ldtr.selector(); }
            public long ldtBase() { return ldtr.base(); }
            public int ldtLimit() { return ldtr.limit(); }

            public long read64(long linear) {
                byte[] b;
                try {
                    b = session.readLinear(vcpu, linear, 8);
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException(e.getMessage());
                }
                long v = 0;
                for (int i = 7; i >= 0; i--) {
                    v = (v << 8) | (b[i] & 0xFFL);
                }
                return v;
            }
        };
    }

    private static void check(Optional<String> refusal) {
        if (refusal.isPresent()) {
            throw new TargetException(refusal.get());
        }
    }

    private static TargetException refused(String format, Object... args) {
        return new TargetException(String.format(format, args));
    }
}
