package dev.tdemu.core.x86;

import java.util.List;
import java.util.Optional;

/**
 * Decides whether an access raises #DB, and what the #DB reports. The one place of tdemu that
 * matches accesses against DR0–DR3/DR7; the executor only asks.
 *
 * <p>Rules (SDM Vol. 3, debug registers), with the choices tdemu makes where the SDM leaves one:
 * <ul>
 *   <li>A slot's condition is its R/W type, LEN and address; whether the slot is enabled (L/G)
 *       decides only whether the condition can raise #DB.</li>
 *   <li>#DB is raised only when an enabled slot's condition is met (or single step, ICEBP, GD).
 *       Then B0–B3 report every slot whose condition was met by the same event, enabled or not
 *       (the SDM allows but does not require bits for disabled slots; tdemu always sets them).</li>
 *   <li>Instruction breakpoints (R/W=00) are faults, checked before the instruction at its first
 *       byte, and suppressed by RFLAGS.RF. RF suppresses nothing else.</li>
 *   <li>Execute slots need LEN=00; with any other LEN (undefined in the SDM) tdemu matches only the
 *       exact address.</li>
 *   <li>Data slots watch the LEN-byte range at the address aligned down to LEN; any byte of an
 *       access overlapping that range matches. R/W=01 matches writes, R/W=11 reads and writes,
 *       neither matches instruction fetches.</li>
 *   <li>I/O slots (R/W=10) match IN/OUT ports by the same range rule, only when CR4.DE=1; with
 *       CR4.DE=0 (undefined in the SDM) they never match.</li>
 *   <li>Data and I/O breakpoints and single step are traps reported together after the
 *       instruction: one #DB carrying every B bit met by the instruction's accesses plus BS.</li>
 *   <li>ICEBP (F1) is a trap #DB that reports no DR6 bit; INT3 is #BP and leaves DR6 alone.</li>
 * </ul>
 */
public final class BreakpointMatcher {

    private BreakpointMatcher() {
    }

    /** Bit n set for each slot n whose condition {@code access} meets, regardless of L/G enables. */
    public static int matchingSlots(DebugRegisters regs, Access access, CpuMode mode) {
        int mask = 0;
        for (int n = 0; n < 4; n++) {
            if (slotMatches(regs.dr(n), regs.dr7().type(n), regs.dr7().length(n), access, mode)) {
                mask |= 1 << n;
            }
        }
        return mask;
    }

    /** Whether one slot's condition (address, type, length) is met by {@code access}. */
    public static boolean slotMatches(long address, BreakpointType type, BreakpointLength length,
                                      Access access, CpuMode mode) {
        return switch (access) {
            case Access.InstructionFetch f -> type == BreakpointType.EXECUTE && f.linearAddress() == address;
            case Access.DataAccess d -> switch (type) {
                case WRITE -> d.kind() == DataAccessKind.WRITE && overlaps(address, length, d.linearAddress(), d.size());
                case READ_WRITE -> overlaps(address, length, d.linearAddress(), d.size());
                case EXECUTE, IO -> false;
            };
            case Access.IoAccess io -> type == BreakpointType.IO && mode.cr4De()
                    && overlaps(address, length, io.port(), io.size());
        };
    }

    /**
     * Whether the breakpoint range (address aligned down to {@code length}) shares a byte with the
     * {@code size}-byte access at {@code start}. Addresses wrap modulo 2^64, as linear addresses do.
     */
    public static boolean overlaps(long address, BreakpointLength length, long start, long size) {
        long rangeStart = address & -(long) length.bytes();
        // Two circular intervals intersect iff one starts inside the other.
        return Long.compareUnsigned(start - rangeStart, length.bytes()) < 0
                || Long.compareUnsigned(rangeStart - start, size) < 0;
    }

    /** Instruction-breakpoint check before executing the instruction at {@code linearAddress}. */
    public static Optional<DebugException> instructionFetch(DebugRegisters regs, long linearAddress,
                                                            boolean rf, CpuMode mode) {
        if (rf) {
            return Optional.empty();
        }
        int matched = matchingSlots(regs, new Access.InstructionFetch(linearAddress), mode);
        if ((matched & regs.dr7().enabledSlots()) == 0) {
            return Optional.empty();
        }
        return Optional.of(db(regs, EventClass.FAULT, PendingDebug.ofSlots(matched)));
    }

    /**
     * The trap #DB (if any) after an instruction completed: data and I/O breakpoints met by its
     * {@code accesses} (instruction fetches in the list are ignored) and single step when
     * {@code singleStep} (RFLAGS.TF was set when the instruction began).
     */
    public static Optional<DebugException> afterInstruction(DebugRegisters regs, List<? extends Access> accesses,
                                                            boolean singleStep, CpuMode mode) {
        int matched = 0;
        for (Access a : accesses) {
            if (!(a instanceof Access.InstructionFetch)) {
                matched |= matchingSlots(regs, a, mode);
            }
        }
        boolean enabledHit = (matched & regs.dr7().enabledSlots()) != 0;
        if (!enabledHit && !singleStep) {
            return Optional.empty();
        }
        PendingDebug pending = PendingDebug.ofSlots(matched);
        if (singleStep) {
            pending = pending.or(PendingDebug.singleStep());
        }
        return Optional.of(db(regs, EventClass.TRAP, pending));
    }

    public static Optional<DebugException> dataAccess(DebugRegisters regs, long linearAddress, int size,
                                                      DataAccessKind kind, CpuMode mode) {
        return afterInstruction(regs, List.of(new Access.DataAccess(linearAddress, size, kind)), false, mode);
    }

    public static Optional<DebugException> ioAccess(DebugRegisters regs, int port, int size, CpuMode mode) {
        return afterInstruction(regs, List.of(new Access.IoAccess(port, size)), false, mode);
    }

    /** A completed single step with no data access (BS only). */
    public static DebugException singleStep(DebugRegisters regs) {
        return db(regs, EventClass.TRAP, PendingDebug.singleStep());
    }

    /** ICEBP/INT1 (opcode F1): trap #DB without BS or any other DR6 bit. */
    public static DebugException icebp(DebugRegisters regs) {
        return db(regs, EventClass.TRAP, PendingDebug.NONE);
    }

    /** INT3 (opcode CC): #BP, a trap, not #DB; DR6 is not touched. */
    public static DebugException int3(DebugRegisters regs) {
        return new DebugException(ExceptionVector.BP, EventClass.TRAP, PendingDebug.NONE, regs.dr6());
    }

    /** General detect: a MOV to or from any DR while DR7.GD is set faults with #DB/BD. */
    public static Optional<DebugException> generalDetect(DebugRegisters regs) {
        if (!regs.dr7().gd()) {
            return Optional.empty();
        }
        return Optional.of(db(regs, EventClass.FAULT, PendingDebug.generalDetect()));
    }

    private static DebugException db(DebugRegisters regs, EventClass cls, PendingDebug pending) {
        return new DebugException(ExceptionVector.DB, cls, pending, regs.dr6().deliver(pending));
    }
}
