package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DataAccessKind;
import dev.tdemu.core.x86.DebugRegisters;
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
import java.util.Objects;
import java.util.function.LongUnaryOperator;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Makes one engine honour a set of debug registers, since the engine implements none of them:
 * <ul>
 *   <li>execute breakpoints: a one-address code hook per enabled execute slot, which reports the
 *       hit unless RFLAGS.RF suppresses it;</li>
 *   <li>data breakpoints: the physical pages holding enabled write or read/write ranges lose write
 *       (and read) permission, so the first access faults with RIP on the instruction, and a
 *       memory hook per range records the accesses made while the caller single-steps that
 *       instruction with the pages opened ({@link #openForStep}/{@link #closeAfterStep}).</li>
 * </ul>
 * Precise faults need every memory access to take the engine's slow path, which it does for code
 * translated while any memory hook exists. Adding or removing a memory hook otherwise means
 * flushing all translated code, which costs milliseconds; so the first data breakpoint on an
 * engine installs a "sync" memory hook (on the never-accessed hypervisor region) that stays for
 * the engine's life, after which range hooks come and go without flushes. An engine that never
 * arms a data breakpoint keeps the fast path. Only what changed between two arms is re-armed.
 */
final class DrEnforcer {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.cpu");
    static final long PAGE = 4096;

    /** Receives execute-breakpoint hits. */
    interface Sink {
        void executeBreakpoint(Unicorn uc, long rip);
    }

    private record Watch(long linear, int length, long physical, BreakpointType type) {}

    /** An access the engine made to a watched physical range while an instruction was stepped. */
    record PhysicalAccess(long physical, int size, DataAccessKind kind) {}

    /** What the armed state depends on: the breakpoint fields of the registers (not DR6). */
    private record Key(long dr0, long dr1, long dr2, long dr3, long dr7Slots, long cr3) {}

    private final Unicorn uc;
    private final Sink sink;
    private final long ramSize;
    private Key armed;
    private final long[] execAddress = new long[4];
    private final Hook[] execHooks = new Hook[4];
    private Hook syncHook;
    private final List<Hook> rangeHooks = new ArrayList<>();
    private final List<Watch> watches = new ArrayList<>();
    /** Pages whose protection this enforcer changed, with the protection they had before. */
    private final Map<Long, Protection> protectedPages = new HashMap<>();
    private final Map<Long, Protection> wanted = new HashMap<>();
    private final List<PhysicalAccess> recorded = new ArrayList<>();
    /** A data breakpoint's linear address had no translation when last armed: re-try on every arm. */
    private boolean unmappedWatch;
    private boolean recording;

    DrEnforcer(Unicorn uc, long ramSize, Sink sink) {
        this.uc = uc;
        this.ramSize = ramSize;
        this.sink = sink;
    }

    private static boolean isData(Dr7 dr7, int slot) {
        BreakpointType t = dr7.type(slot);
        return dr7.enabled(slot) && (t == BreakpointType.WRITE || t == BreakpointType.READ_WRITE);
    }

    private static Key key(DebugRegisters regs, long cr3) {
        Dr7 dr7 = regs.dr7();
        boolean anyData = false;
        for (int slot = 0; slot < 4; slot++) {
            anyData |= isData(dr7, slot);
        }
        // Enable, type and length fields only: GD, LE/GE and DR6 do not change what is armed.
        long slots = dr7.value() & 0xFFFF_00FFL;
        return new Key(regs.dr0(), regs.dr1(), regs.dr2(), regs.dr3(), slots, anyData ? cr3 : 0);
    }

    /**
     * Arms hooks and protections for {@code regs}; {@code toPhysical} translates a linear address
     * (-1 when unmapped). Nothing happens when nothing that matters changed.
     */
    void arm(DebugRegisters regs, long cr3, LongUnaryOperator toPhysical) {
        Key k = key(regs, cr3);
        if (k.equals(armed) && !unmappedWatch) {
            return;
        }
        armed = k;
        Dr7 dr7 = regs.dr7();
        for (int slot = 0; slot < 4; slot++) {
            boolean exec = dr7.enabled(slot) && dr7.type(slot) == BreakpointType.EXECUTE;
            long address = regs.dr(slot);
            if (execHooks[slot] != null && (!exec || execAddress[slot] != address)) {
                execHooks[slot].close();
                execHooks[slot] = null;
            }
            if (exec && execHooks[slot] == null) {
                execAddress[slot] = address;
                execHooks[slot] = uc.addCodeHook(address, address, (u, rip, size) -> sink.executeBreakpoint(u, rip));
            }
        }
        List<Watch> next = new ArrayList<>();
        unmappedWatch = false;
        for (int slot = 0; slot < 4; slot++) {
            if (!isData(dr7, slot)) {
                continue;
            }
            int length = dr7.length(slot).bytes();
            long start = regs.dr(slot) & -length;
            long physical = toPhysical.applyAsLong(start);
            if (physical < 0 || physical + length > ramSize) {
                LOG.debug("DR{} range 0x{} is not mapped to guest RAM now; not armed", slot, Long.toHexString(start));
                unmappedWatch = true;
                continue;
            }
            next.add(new Watch(start, length, physical, dr7.type(slot)));
        }
        if (!next.equals(watches)) {
            rearmWatches(next);
        }
        LOG.trace("armed execute hooks at {}, {} watch(es) for {}", execAddressesForLog(), watches.size(), regs);
    }

    private String execAddressesForLog() {
        List<String> a = new ArrayList<>();
        for (int slot = 0; slot < 4; slot++) {
            if (execHooks[slot] != null) {
                a.add("DR" + slot + "=0x" + Long.toHexString(execAddress[slot]));
            }
        }
        return a.toString();
    }

    private void rearmWatches(List<Watch> next) {
        if (!next.isEmpty() && syncHook == null) {
            // Once per engine: from now on translated code keeps exact RIPs for memory faults.
            syncHook = uc.addMemoryHook(EnumSet.of(MemType.READ, MemType.WRITE), SvmGuestMode.HV_BASE,
                    SvmGuestMode.HV_BASE, (u, type, addr, size, value) -> { });
        }
        rangeHooks.forEach(Hook::close);
        rangeHooks.clear();
        watches.clear();
        watches.addAll(next);
        wanted.clear();
        for (Watch w : watches) {
            // Accesses start up to 7 bytes below an overlapping range (the hook compares starts only).
            long lo = Math.max(0, w.physical - 7);
            rangeHooks.add(uc.addMemoryHook(EnumSet.of(MemType.READ, MemType.WRITE), lo, w.physical + w.length - 1,
                    (u, type, addr, size, value) -> onAccess(type, addr, size), false));
            boolean readsToo = w.type == BreakpointType.READ_WRITE;
            for (long page = w.physical & -PAGE; page < w.physical + w.length; page += PAGE) {
                Protection current = wanted.getOrDefault(page, Protection.RWX);
                wanted.put(page, new Protection(current.read() && !readsToo, false, true));
            }
        }
        for (var e : protectedPages.entrySet()) {
            if (!wanted.containsKey(e.getKey())) {
                uc.protect(e.getKey(), PAGE, e.getValue());
            }
        }
        protectedPages.keySet().retainAll(wanted.keySet());
        applyProtections();
    }

    private void applyProtections() {
        for (var e : wanted.entrySet()) {
            protectedPages.putIfAbsent(e.getKey(), Protection.RWX);
            uc.protect(e.getKey(), PAGE, e.getValue());
        }
    }

    void disarm() {
        for (int slot = 0; slot < 4; slot++) {
            if (execHooks[slot] != null) {
                execHooks[slot].close();
                execHooks[slot] = null;
            }
        }
        rearmWatches(List.of());
        armed = null;
    }

    /**
     * The guest changed its page tables without a CR3 write (INVLPG): linear data breakpoints
     * are translated again at the next arm.
     */
    void pageTablesChanged() {
        armed = null;
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

    /** Re-protects the watched pages; returns the accesses to watched physical ranges made meanwhile. */
    List<PhysicalAccess> closeAfterStep() {
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
                recorded.add(new PhysicalAccess(physical, size, type == MemType.WRITE ? DataAccessKind.WRITE : DataAccessKind.READ));
                return;
            }
        }
    }

    /**
     * The linear address of a physical access through the watch's own mapping: the best guess
     * when the instruction's operands do not say which linear address the access used.
     */
    long linearThroughWatch(long physical) {
        for (Watch w : watches) {
            if (physical >= (w.physical & -PAGE) && physical < (w.physical & -PAGE) + PAGE) {
                return w.linear + (physical - w.physical);
            }
        }
        return physical;
    }

    boolean hasWatches() {
        return !watches.isEmpty();
    }

    @Override
    public String toString() {
        return "DrEnforcer" + Objects.toString(armed);
    }
}
