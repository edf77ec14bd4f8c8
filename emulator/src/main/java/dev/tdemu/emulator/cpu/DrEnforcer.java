package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.Access;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DataAccessKind;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.emulator.unicorn.Hook;
import dev.tdemu.emulator.unicorn.MemType;
import dev.tdemu.emulator.unicorn.Protection;
import dev.tdemu.emulator.unicorn.Unicorn;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongUnaryOperator;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Makes one engine honour a set of debug registers, since the engine implements none of them:
 * <ul>
 *   <li>execute breakpoints: a one-address code hook per enabled execute slot, which reports the
 *       hit unless RFLAGS.RF suppresses it (then RF is cleared, as after the instruction);</li>
 *   <li>data breakpoints: the physical pages holding enabled write or read/write ranges lose write
 *       (and read) permission, so the first access faults with RIP on the instruction; a memory hook
 *       over the ranges keeps those faults precise (the engine syncs RIP before memory accesses only
 *       while a memory hook exists) and records the accesses made while the caller single-steps the
 *       instruction with the pages opened ({@link #openForStep}/{@link #closeAfterStep}).</li>
 * </ul>
 * Hooks and protections exist only while a slot is enabled: an unhit execute hook costs nothing,
 * but any memory hook sends every load and store through the engine's slow path.
 */
final class DrEnforcer {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.cpu");
    static final long PAGE = 4096;

    /** Receives execute-breakpoint hits. */
    interface Sink {
        void executeBreakpoint(Unicorn uc, long rip);
    }

    private record Watch(int slot, long linear, int length, long physical, BreakpointType type) {}

    private final Unicorn uc;
    private final Sink sink;
    private final long ramSize;
    private DebugRegisters armed;
    private long armedCr3 = -1;
    private final List<Hook> execHooks = new ArrayList<>();
    private final List<Hook> memoryHooks = new ArrayList<>();
    private final List<Watch> watches = new ArrayList<>();
    /** Pages whose protection this enforcer changed, with the protection they had before. */
    private final Map<Long, Protection> protectedPages = new HashMap<>();
    private final List<Access.DataAccess> recorded = new ArrayList<>();
    private boolean recording;

    DrEnforcer(Unicorn uc, long ramSize, Sink sink) {
        this.uc = uc;
        this.ramSize = ramSize;
        this.sink = sink;
    }

    /**
     * Arms hooks and protections for {@code regs}; {@code toPhysical} translates a linear address
     * (-1 when unmapped). Nothing happens when neither the registers nor CR3 changed.
     */
    void arm(DebugRegisters regs, long cr3, LongUnaryOperator toPhysical) {
        // DR6 enforces nothing: a #DB that only changed DR6 must not cost a re-arm (a new memory
        // hook drops every translation).
        regs = regs.withDr6(Dr6.RESET);
        if (regs.equals(armed) && (cr3 == armedCr3 || watches.isEmpty() && !hasEnabledData(regs))) {
            return;
        }
        disarm();
        armed = regs;
        armedCr3 = cr3;
        Dr7 dr7 = regs.dr7();
        for (int slot = 0; slot < 4; slot++) {
            if (!dr7.enabled(slot)) {
                continue;
            }
            long address = regs.dr(slot);
            BreakpointType type = dr7.type(slot);
            if (type == BreakpointType.EXECUTE) {
                execHooks.add(uc.addCodeHook(address, address, (u, rip, size) -> onExecute(u, rip)));
            } else if (type == BreakpointType.WRITE || type == BreakpointType.READ_WRITE) {
                int length = dr7.length(slot).bytes();
                long start = address & -length;
                long physical = toPhysical.applyAsLong(start);
                if (physical < 0 || physical >= ramSize) {
                    LOG.debug("DR{} range 0x{} is not mapped to guest RAM now; not armed", slot, Long.toHexString(start));
                    continue;
                }
                watches.add(new Watch(slot, start, length, physical, type));
            }
        }
        if (!watches.isEmpty()) {
            for (Watch w : watches) {
                // Accesses start up to 7 bytes below an overlapping range (the hook compares starts only).
                long lo = Math.max(0, w.physical - 7);
                memoryHooks.add(uc.addMemoryHook(EnumSet.of(MemType.READ, MemType.WRITE), lo, w.physical + w.length - 1,
                        (u, type, addr, size, value) -> onAccess(type, addr, size)));
                boolean readsToo = w.type == BreakpointType.READ_WRITE;
                for (long page = w.physical & -PAGE; page < w.physical + w.length; page += PAGE) {
                    restrict(page, readsToo);
                }
            }
            applyProtections();
        }
        LOG.trace("armed {} execute hook(s), {} watch(es) for {}", execHooks.size(), watches.size(), regs);
    }

    private static boolean hasEnabledData(DebugRegisters regs) {
        for (int slot = 0; slot < 4; slot++) {
            if (regs.dr7().enabled(slot) && regs.dr7().type(slot) != BreakpointType.EXECUTE
                    && regs.dr7().type(slot) != BreakpointType.IO) {
                return true;
            }
        }
        return false;
    }

    private final Map<Long, Protection> wanted = new HashMap<>();

    private void restrict(long page, boolean readsToo) {
        Protection current = wanted.getOrDefault(page, Protection.RWX);
        wanted.put(page, new Protection(current.read() && !readsToo, false, true));
    }

    private void applyProtections() {
        for (var e : wanted.entrySet()) {
            protectedPages.putIfAbsent(e.getKey(), Protection.RWX);
            uc.protect(e.getKey(), PAGE, e.getValue());
        }
    }

    void disarm() {
        execHooks.forEach(Hook::close);
        execHooks.clear();
        memoryHooks.forEach(Hook::close);
        memoryHooks.clear();
        for (var e : protectedPages.entrySet()) {
            uc.protect(e.getKey(), PAGE, e.getValue());
        }
        protectedPages.clear();
        wanted.clear();
        watches.clear();
        armed = null;
        armedCr3 = -1;
    }

    /** Whether {@code physical} lies on a page this enforcer protects for a data breakpoint. */
    boolean isWatchedPage(long physical) {
        return protectedPages.containsKey(physical & -PAGE);
    }

    /** Gives the watched pages their normal protection and starts recording accesses. */
    void openForStep() {
        recorded.clear();
        recording = true;
        for (var e : protectedPages.entrySet()) {
            uc.protect(e.getKey(), PAGE, e.getValue());
        }
    }

    /** Re-protects the watched pages; returns the accesses to watched ranges made meanwhile, as linear accesses. */
    List<Access.DataAccess> closeAfterStep() {
        recording = false;
        applyProtections();
        return List.copyOf(recorded);
    }

    private void onAccess(MemType type, long physical, int size) {
        if (!recording) {
            return;
        }
        for (Watch w : watches) {
            if (physical < w.physical + w.length && physical + size > w.physical) {
                // Physical to linear through the watch's own mapping: an alias is taken as the watched address.
                long linear = w.linear + (physical - w.physical);
                recorded.add(new Access.DataAccess(linear, size, type == MemType.WRITE ? DataAccessKind.WRITE : DataAccessKind.READ));
                return;
            }
        }
    }

    private void onExecute(Unicorn u, long rip) {
        sink.executeBreakpoint(u, rip);
    }

    boolean hasWatches() {
        return !watches.isEmpty();
    }
}
