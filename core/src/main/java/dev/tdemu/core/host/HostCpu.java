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
    private final HostBreakpoint[] slots = new HostBreakpoint[4];

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

    /** The physical DRs the host expects while it runs: cpu_debugreg, DR6 reset value, cpu_dr7. */
    public DebugRegisters expectedHardware() {
        return DebugRegisters.of(cpuDebugreg.clone(), Dr6.RESET, cpuDr7);
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
