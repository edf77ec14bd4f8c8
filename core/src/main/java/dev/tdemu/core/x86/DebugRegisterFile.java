package dev.tdemu.core.x86;

import java.util.List;
import java.util.Optional;

/**
 * The debug state of one physical CPU: DR0–DR3, DR6, DR7, the IA32_DEBUGCTL MSR (kept here
 * because VM entry and exit load and clear it together with DR7) and, for AMD CPUs, the four
 * breakpoint address-mask MSRs (DR0_ADDR_MASK ..., which SEV-ES DebugSwap loads on #VMEXIT).
 *
 * <p>A CPU with bus-lock detection ({@link #withBusLockDetect()}) lets software write DR6 bit 11
 * (BLD, active low); on one without it that bit always reads 1.
 *
 * <p>Three kinds of writer use it: code running on the CPU through {@link #movToDr}/{@link #movFromDr}
 * (all architectural checks), the host kernel through {@link DrAccess} (ring 0, 64-bit, CR4.DE=1;
 * a value the kernel could not write is a bug in the model and throws), and the VMX/TDX "hardware"
 * through {@link #load}. Matching is delegated to {@link BreakpointMatcher} on a {@link #snapshot()}.
 */
public final class DebugRegisterFile implements DrAccess {

    private final long[] db = new long[4];
    private Dr6 dr6 = Dr6.RESET;
    private Dr7 dr7 = Dr7.RESET;
    private long debugctl;
    private final long[] drAddrMask = new long[4];
    private final boolean busLockDetect;
    /** {@link #snapshot()} until the next change: every exit takes several, and most exits change nothing. */
    private DebugRegisters snapshot;

    /** A CPU in reset state (DR0–3 = 0, DR6 = 0xFFFF0FF0, DR7 = 0x400, DEBUGCTL = 0), without bus-lock detection. */
    public DebugRegisterFile() {
        this(false);
    }

    private DebugRegisterFile(boolean busLockDetect) {
        this.busLockDetect = busLockDetect;
    }

    /** A CPU in reset state that implements bus-lock detection (DR6.BLD writable). */
    public static DebugRegisterFile withBusLockDetect() {
        return new DebugRegisterFile(true);
    }

    public boolean busLockDetect() {
        return busLockDetect;
    }

    public DebugRegisters snapshot() {
        DebugRegisters s = snapshot;
        if (s == null) {
            s = DebugRegisters.of(db, dr6, dr7);
            snapshot = s;
        }
        return s;
    }

    /** Overwrites DR0–3, DR6 and DR7 at once, as microcode or the TDX module does (no checks, no GD). */
    public void load(DebugRegisters regs) {
        if (regs.dr0() == db[0] && regs.dr1() == db[1] && regs.dr2() == db[2] && regs.dr3() == db[3]
                && regs.dr6().equals(dr6) && regs.dr7().equals(dr7)) {
            return; // the same values: the snapshot stays
        }
        for (int n = 0; n < 4; n++) {
            db[n] = regs.dr(n);
        }
        dr6 = busLockDetect ? regs.dr6() : new Dr6(regs.dr6().value());
        dr7 = regs.dr7();
        snapshot = null;
    }

    public long dr(int n) {
        return db[Dr7.checkSlot(n)];
    }

    public Dr6 dr6() {
        return dr6;
    }

    public Dr7 dr7() {
        return dr7;
    }

    /** Sets DR7 directly, as VM entry and exit do. */
    public void loadDr7(Dr7 value) {
        if (!value.equals(dr7)) { // VM entry and exit load DR7 every time, mostly with what it holds
            dr7 = value;
            snapshot = null;
        }
    }

    public long debugctl() {
        return debugctl;
    }

    /** Sets IA32_DEBUGCTL directly, as VM entry/exit, TDX module and WRMSR do. */
    public void setDebugctl(long value) {
        debugctl = value;
    }

    @Override
    public long getDebugctlmsr() {
        return debugctl;
    }

    @Override
    public void updateDebugctlmsr(long value) {
        debugctl = value;
    }

    /** The AMD breakpoint address mask of slot n (MSR DRn_ADDR_MASK); 0 = exact match. */
    public long drAddrMask(int n) {
        return drAddrMask[Dr7.checkSlot(n)];
    }

    /** Writes DRn_ADDR_MASK, as the host's amd_set_dr_addr_mask() and SEV-ES #VMEXIT do. */
    public void setDrAddrMask(int n, long mask) {
        drAddrMask[Dr7.checkSlot(n)] = mask;
    }

    /** A bus-lock #DB trap on this CPU: DR6.BLD is cleared (nothing happens without bus-lock detection). */
    public void busLockTrap() {
        if (busLockDetect) {
            dr6 = dr6.busLockTrap();
            snapshot = null;
        }
    }

    // ---- host kernel access (get_debugreg / set_debugreg) ----

    @Override
    public long getDebugreg(int reg) {
        return snapshot().read(checkHostReg(reg));
    }

    @Override
    public void setDebugreg(int reg, long value) {
        checkHostReg(reg);
        if ((reg == 6 || reg == 7) && (value >>> 32) != 0) {
            throw new IllegalArgumentException(String.format(
                    "set_debugreg(DR%d, 0x%x) would #GP: bits 63:32 are reserved", reg, value));
        }
        store(reg, value);
    }

    private static int checkHostReg(int reg) {
        if (reg < 0 || reg > 7 || reg == 4 || reg == 5) {
            throw new IllegalArgumentException("the host kernel (CR4.DE=1) has no DR" + reg);
        }
        return reg;
    }

    // ---- MOV DR executed by code running on this CPU ----

    /**
     * MOV to DR{@code reg} executed by the code running on this CPU. Checks in this order: CPL>0
     * → #GP(0); DR4/DR5 with CR4.DE=1 → #UD (with CR4.DE=0 they alias DR6/DR7); DR7.GD → #DB/BD
     * fault; in 64-bit mode a 1 in bits 63:32 of DR6/DR7 → #GP(0). Outside 64-bit mode the
     * operand is 32 bits. A fault leaves the registers unchanged; the caller delivers it.
     */
    public MovDrOutcome movToDr(CpuMode mode, int reg, long value) {
        Optional<MovDrOutcome> refused = checkMovDr(mode, reg);
        if (refused.isPresent()) {
            return refused.get();
        }
        int target = alias(reg);
        long operand = mode.longMode() ? value : value & 0xFFFF_FFFFL;
        if ((target == 6 || target == 7) && (operand >>> 32) != 0) {
            return new MovDrOutcome.Fault(ExceptionVector.GP);
        }
        store(target, operand);
        return new MovDrOutcome.Completed(snapshot().read(target));
    }

    /** MOV from DR{@code reg}; same checks as {@link #movToDr} except the reserved-bit one. */
    public MovDrOutcome movFromDr(CpuMode mode, int reg) {
        Optional<MovDrOutcome> refused = checkMovDr(mode, reg);
        if (refused.isPresent()) {
            return refused.get();
        }
        long value = snapshot().read(alias(reg));
        return new MovDrOutcome.Completed(mode.longMode() ? value : value & 0xFFFF_FFFFL);
    }

    private Optional<MovDrOutcome> checkMovDr(CpuMode mode, int reg) {
        if (reg < 0 || reg > 7) {
            throw new IllegalArgumentException("MOV DR encodes DR0..DR7, not DR" + reg);
        }
        if (mode.cpl() != 0) {
            return Optional.of(new MovDrOutcome.Fault(ExceptionVector.GP));
        }
        if ((reg == 4 || reg == 5) && mode.cr4De()) {
            return Optional.of(new MovDrOutcome.Fault(ExceptionVector.UD));
        }
        return BreakpointMatcher.generalDetect(snapshot()).map(MovDrOutcome.GeneralDetect::new);
    }

    /** DR4 and DR5 are DR6 and DR7 when CR4.DE=0 (callers have already refused them when CR4.DE=1). */
    public static int alias(int reg) {
        return switch (reg) {
            case 4 -> 6;
            case 5 -> 7;
            default -> reg;
        };
    }

    /** Writes one register; the snapshot goes only when a value changed (KVM rewrites DR7 on every entry and exit). */
    private void store(int reg, long value) {
        switch (reg) {
            case 0, 1, 2, 3 -> {
                if (db[reg] != value) {
                    db[reg] = value;
                    snapshot = null;
                }
            }
            case 6 -> {
                Dr6 d = busLockDetect ? Dr6.withBusLockDetect(value) : new Dr6(value);
                if (!d.equals(dr6)) {
                    dr6 = d;
                    snapshot = null;
                }
            }
            case 7 -> {
                if (dr7.value() != value) {
                    dr7 = new Dr7(value);
                    snapshot = null;
                }
            }
            default -> throw new IllegalArgumentException("no DR" + reg);
        }
    }

    // ---- #DB delivery and matching ----

    /**
     * Delivers {@code exception} through this CPU's IDT: a #DB ORs its conditions into DR6
     * ({@link Dr6#deliver}) and clears DR7.GD, which the CPU does on entry to every #DB handler so
     * that the handler may use MOV DR. A #BP changes nothing here. A #DB that causes a VM exit
     * instead is not delivered and must not be passed here.
     */
    public void deliver(DebugException exception) {
        if (!exception.isDb()) {
            return;
        }
        dr6 = dr6.deliver(exception.pending());
        dr7 = dr7.withGd(false);
        snapshot = null;
    }

    public Optional<DebugException> checkInstructionFetch(long linearAddress, boolean rf, CpuMode mode) {
        return BreakpointMatcher.instructionFetch(snapshot(), linearAddress, rf, mode);
    }

    public Optional<DebugException> checkDataAccess(long linearAddress, int size, DataAccessKind kind, CpuMode mode) {
        return BreakpointMatcher.dataAccess(snapshot(), linearAddress, size, kind, mode);
    }

    public Optional<DebugException> checkIoAccess(int port, int size, CpuMode mode) {
        return BreakpointMatcher.ioAccess(snapshot(), port, size, mode);
    }

    public Optional<DebugException> checkAfterInstruction(List<? extends Access> accesses, boolean singleStep,
                                                          CpuMode mode) {
        return BreakpointMatcher.afterInstruction(snapshot(), accesses, singleStep, mode);
    }

    public DebugException singleStep() {
        return BreakpointMatcher.singleStep(snapshot());
    }

    public DebugException icebp() {
        return BreakpointMatcher.icebp(snapshot());
    }

    public DebugException int3() {
        return BreakpointMatcher.int3(snapshot());
    }

    @Override
    public String toString() {
        return snapshot() + String.format(" DEBUGCTL=0x%x", debugctl);
    }
}
