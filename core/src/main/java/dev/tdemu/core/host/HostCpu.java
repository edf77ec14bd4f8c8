package dev.tdemu.core.host;

import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.DrAccess;

import java.util.Optional;

/**
 * What Linux's hw_breakpoint keeps per physical CPU: {@code cpu_dr7} and {@code cpu_debugreg[4]},
 * the values the host wants in DR7 and DR0–3 whenever host code runs on this CPU.
 *
 * <p>Registering a breakpoint sets the slot's G bit and R/W/LEN fields, and GE (bit 9) like the
 * kernel's encoding; unregistering clears them and zeroes {@code cpu_debugreg[n]}.
 * {@link #cpuDr7()} includes bit 10 because it is a {@link Dr7}; comparing it with the physical
 * register is therefore exact.
 */
public final class HostCpu {

    private final int id;
    private Dr7 cpuDr7 = Dr7.RESET;
    private final long[] cpuDebugreg = new long[4];
    /** {@link #expectedHardware()} until the next change of cpu_debugreg or cpu_dr7. */
    private DebugRegisters expected;
    private final HostBreakpoint[] slots = new HostBreakpoint[4];
    private long debugctl;
    private final long[] drAddrMask = new long[4];

    public HostCpu(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    public Dr7 cpuDr7() {
        return cpuDr7;
    }

    public long cpuDebugreg(int slot) {
        return cpuDebugreg[checkSlot(slot)];
    }

    public Optional<HostBreakpoint> breakpoint(int slot) {
        return Optional.ofNullable(slots[checkSlot(slot)]);
    }

    /** Whether any host breakpoint is armed on this CPU: some G bit set in cpu_dr7. */
    public boolean hwBreakpointActive() {
        return cpuDr7.anyGlobalEnabled();
    }

    /** Puts the host's breakpoints back: DR0–3 ← cpu_debugreg, DR6 ← 0xFFFF0FF0, DR7 ← cpu_dr7. */
    public void hwBreakpointRestore(DrAccess cpu) {
        for (int n = 0; n < 4; n++) {
            cpu.setDebugreg(n, cpuDebugreg[n]);
        }
        cpu.setDebugreg(6, Dr6.RESET.value());
        cpu.setDebugreg(7, cpuDr7.value());
    }

    public void hwBreakpointRestore(DebugRegisterFile cpu) {
        hwBreakpointRestore((DrAccess) cpu);
    }

    // ---- IA32_DEBUGCTL: what perf/LBR/BTF/FREEZE_IN_SMM users of this CPU have set ----

    /** The DEBUGCTL value the host's own code (perf, ptrace BTF, freeze_on_smi) has set on this CPU. */
    public long debugctl() {
        return debugctl;
    }

    /**
     * The host changes DEBUGCTL on this CPU (update_debugctlmsr), e.g. from an IPI callback of perf:
     * the MSR is written and the value becomes what the host expects whenever it runs.
     */
    public void updateDebugctlmsr(long value, DrAccess cpu) {
        debugctl = value;
        cpu.updateDebugctlmsr(value);
    }

    // ---- AMD breakpoint address masks (arch/x86/kernel/cpu/amd.c, per-CPU dr_addr_mask) ----

    /** amd_get_dr_addr_mask(n): the mask the host has set for slot n (0 = exact address). */
    public long amdGetDrAddrMask(int slot) {
        return drAddrMask[checkSlot(slot)];
    }

    /** amd_set_dr_addr_mask(mask, n): remembers the mask and writes the MSR. */
    public void amdSetDrAddrMask(int slot, long mask, DebugRegisterFile cpu) {
        drAddrMask[checkSlot(slot)] = mask;
        cpu.setDrAddrMask(slot, mask);
    }

    // ---- boot and the #DB handler (arch/x86/kernel/cpu/common.c, traps.c) ----

    /**
     * initialize_debug_regs() (since 5f465c148c61 and fa7d0f83c5c4): DR0–3 ← 0, DR6 ← DR6_RESERVED
     * (0xFFFF0FF0), DR7 ← DR7_FIXED_1 (0x400), the architectural reset values.
     */
    public void initializeDebugRegs(DrAccess cpu) {
        for (int n = 0; n < 4; n++) {
            cpu.setDebugreg(n, 0);
        }
        cpu.setDebugreg(6, Dr6.RESET.value());
        cpu.setDebugreg(7, Dr7.RESET.value());
    }

    /**
     * clear_all_debug_regs(), before 5f465c148c61: every debug register ← 0. On a CPU with bus-lock
     * detection that clears DR6.BLD (active low), so the first #DB looks like a bus lock.
     */
    public void clearAllDebugRegs(DrAccess cpu) {
        for (int reg : new int[] {0, 1, 2, 3, 6, 7}) {
            cpu.setDebugreg(reg, 0);
        }
    }

    /**
     * The host's #DB handler reading DR6 (debug_read_reset_dr6): read DR6, write DR6_RESERVED back,
     * and flip the active-low bits to positive polarity, so that BLD read as 0 becomes DR_BUS_LOCK
     * set, which exc_debug reports as a bus lock ("took a bus_lock trap").
     */
    public HostDebugRead debugReadResetDr6(DrAccess cpu) {
        long raw = cpu.getDebugreg(6);
        cpu.setDebugreg(6, Dr6.RESET.value());
        long positive = raw ^ Dr6.FIXED_ONES;
        return new HostDebugRead(raw, positive, (positive & Dr6.BLD) != 0);
    }

    /**
     * What the host's #DB handler read.
     *
     * @param raw      DR6 as read
     * @param positive DR6 with the active-low bits flipped (dr6 ^= DR6_RESERVED)
     * @param busLock  whether exc_debug reports a bus lock (DR_BUS_LOCK in the positive value)
     */
    public record HostDebugRead(long raw, long positive, boolean busLock) {
    }

    /** The physical DRs the host expects while it runs: cpu_debugreg, DR6 reset value, cpu_dr7. */
    public DebugRegisters expectedHardware() {
        DebugRegisters e = expected;
        if (e == null) { // made again only after a breakpoint changed: every exit's trace record asks
            e = DebugRegisters.of(cpuDebugreg, Dr6.RESET, cpuDr7);
            expected = e;
        }
        return e;
    }

    /**
     * Takes the lowest free slot for {@code bp} in the per-CPU state only.
     *
     * @return the slot number
     * @throws BreakpointSlotsExhausted when all four slots are taken
     */
    public int registerBreakpoint(HostBreakpoint bp) {
        for (int n = 0; n < 4; n++) {
            if (slots[n] == null) {
                slots[n] = bp;
                cpuDebugreg[n] = bp.address();
                cpuDr7 = cpuDr7.withSlot(n, bp.type(), bp.length(), false, true).withGe(true);
                expected = null;
                return n;
            }
        }
        throw new BreakpointSlotsExhausted(id);
    }

    /** Registers {@code bp} and arms it on the CPU as the kernel does: DRn ← address, then DR7 ← cpu_dr7. */
    public int installBreakpoint(HostBreakpoint bp, DrAccess cpu) {
        int n = registerBreakpoint(bp);
        cpu.setDebugreg(n, bp.address());
        cpu.setDebugreg(7, cpuDr7.value());
        return n;
    }

    /** Frees {@code slot} in the per-CPU state; GE goes when no slot is left. */
    public void unregisterBreakpoint(int slot) {
        if (slots[checkSlot(slot)] == null) {
            throw new IllegalStateException("host CPU " + id + " has no breakpoint in slot " + slot);
        }
        slots[slot] = null;
        cpuDebugreg[slot] = 0;
        cpuDr7 = cpuDr7.withoutSlot(slot);
        if (!cpuDr7.anyEnabled()) {
            cpuDr7 = cpuDr7.withGe(false);
        }
        expected = null;
    }

    /** Unregisters {@code slot} and writes the new cpu_dr7 to the CPU. */
    public void uninstallBreakpoint(int slot, DrAccess cpu) {
        unregisterBreakpoint(slot);
        cpu.setDebugreg(7, cpuDr7.value());
    }

    private static int checkSlot(int slot) {
        if (slot < 0 || slot > 3) {
            throw new IllegalArgumentException("breakpoint slot is 0..3, not " + slot);
        }
        return slot;
    }
}
