package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DataAccessKind;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.emulator.machine.GuestMemory;
import dev.tdemu.emulator.machine.PageWalker;
import dev.tdemu.emulator.unicorn.Hook;
import dev.tdemu.emulator.unicorn.MemType;
import dev.tdemu.emulator.unicorn.Protection;
import dev.tdemu.emulator.unicorn.TlbFillHook;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.X86Reg;
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
 *   <li>data breakpoints: while any is armed the engine runs in virtual-TLB mode and this class
 *       fills its TLB ({@link #fill}), walking the guest's page tables as the CPU does. A fill for
 *       a physical page holding an enabled write (or read/write) range is refused for writes (and
 *       reads), so the run ends exactly at the accessing instruction, before it ran; so is a fill
 *       whose access would fault or needs a paging rule the walk does not model. The caller then
 *       single-steps that one instruction with the engine's own page walk ({@link #openForStep},
 *       {@link #closeAfterStep}), which raises the exact #PF when there is one, while a memory
 *       hook per watched range records the accesses it makes.</li>
 * </ul>
 * Every other page gets a full TLB entry, so code that does not touch a watched page runs at the
 * engine's full speed; and no memory hook exists outside single steps, because any memory hook
 * slows every load and store. An engine that never arms a data breakpoint never leaves the
 * engine's own TLB mode. Only what changed between two arms is re-armed.
 */
final class DrEnforcer {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.cpu");
    static final long PAGE = 4096;
    private static final long CR0_WP = 1L << 16;
    /** CR4.SMEP, SMAP, PKE: paging rules for user pages that {@link PageWalker#walkForAccess} leaves to the engine. */
    private static final long CR4_USER_PAGE_GUARDS = (1L << 20) | (1L << 21) | (1L << 22);
    private static final X86Reg[] FILL_STATE = {X86Reg.CR3, X86Reg.CS, X86Reg.CR0, X86Reg.CR4};

    /** Receives execute-breakpoint hits. */
    interface Sink {
        void executeBreakpoint(Unicorn uc, long rip);
    }

    /** What hot-page mode needs from the engine's owner (see {@link #onHotAccess}). */
    interface HotPage {
        /**
         * Whether the instruction at {@code rip} is the one making this access to {@code physical}:
         * an instruction whose loads and stores the engine precedes with a RIP update, whose
         * memory operand, string or stack address maps to {@code physical}.
         */
        boolean accessedBy(long rip, long physical, int size, boolean write, long value);

        /** Ends the run with RIP on the instruction (written by the hook), as a refused fill would. */
        void stopBefore(long rip);

        /** Ends the run at the start of the next translated block. */
        void stopAtNextBlock();
    }

    /** Consecutive quiet steps on watched pages, within {@link #HOT_WINDOW_NANOS}, that make the pages hot. */
    static final int HOT_AFTER_STEPS = 64;
    static final long HOT_WINDOW_NANOS = 50_000_000L;
    /** Hot-page mode is left after this long and the pages measured again (its memory hooks slow every store). */
    static final long HOT_PERIOD_NANOS = 1_000_000_000L;

    private record Watch(long linear, int length, long physical, BreakpointType type) {}

    /** An access the engine made to a watched physical range while an instruction was stepped. */
    record PhysicalAccess(long physical, int size, DataAccessKind kind) {}

    /** What the armed state depends on: the breakpoint fields of the registers (not DR6). */
    private record Key(long dr0, long dr1, long dr2, long dr3, long dr7Slots, long cr3) {}

    private final Unicorn uc;
    private final Sink sink;
    private final GuestMemory memory;
    private Key armed;
    /** The registers {@link #arm} last saw, and whether they armed a data breakpoint (whose key has CR3 in it). */
    private DebugRegisters armedRegs;
    private boolean armedData;
    private final long[] execAddress = new long[4];
    private final Hook[] execHooks = new Hook[4];
    private Hook fillHook;
    /** Whether the engine is in virtual-TLB mode (some data breakpoint is armed) outside a step. */
    private boolean virtualTlb;
    private final List<Watch> watches = new ArrayList<>();
    /** Physical pages holding watched ranges, each with whether reads are watched too. */
    private final Map<Long, Boolean> watchedPages = new HashMap<>();
    /** The recording hooks of the step in progress (closed as soon as the step's run ends). */
    private final List<Hook> stepHooks = new ArrayList<>();
    private final List<PhysicalAccess> recorded = new ArrayList<>();
    /** A data breakpoint's linear address had no translation when last armed: re-try on every arm. */
    private boolean unmappedWatch;
    private boolean recording;
    /** The kind of access whose fill was refused during the current run, or null. */
    private MemType refused;
    private long fills, refusals;

    // Hot-page mode (see the class comment).
    private final HotPage hotPage;
    private boolean hotAllowed = true;
    /** Hot-page mode is on: one memory hook per watch, the engine's own TLB. */
    private boolean hot;
    private final List<Hook> hotHooks = new ArrayList<>();
    private long hotSince;
    /** A hot-page hit could not be attributed to an instruction: no hot-page mode until the watches change. */
    private boolean hotBanned;
    private int quietSteps;
    /** The last refused fill was for a watched page (not for an access the walk does not allow). */
    private boolean refusedWatchedPage;
    private long quietSince;
    /** The hit that stopped the current run before its instruction, with the bytes its store is about to replace. */
    private record HotHit(long rip, long physical, byte[] old) {}
    private HotHit hotHit;
    /** Hits that could not be attributed: reported as a trap at the next block boundary. */
    private final List<PhysicalAccess> lateHits = new ArrayList<>();
    private long hotEntries, hotHits, lateHitCount;

    DrEnforcer(Unicorn uc, GuestMemory memory, Sink sink) {
        this(uc, memory, sink, null);
    }

    DrEnforcer(Unicorn uc, GuestMemory memory, Sink sink, HotPage hotPage) {
        this.uc = uc;
        this.memory = memory;
        this.sink = sink;
        this.hotPage = hotPage;
    }

    private static boolean isData(Dr7 dr7, int slot) {
        BreakpointType t = dr7.type(slot);
        return dr7.enabled(slot) && (t == BreakpointType.WRITE || t == BreakpointType.READ_WRITE);
    }

    private static boolean anyData(Dr7 dr7) {
        boolean anyData = false;
        for (int slot = 0; slot < 4; slot++) {
            anyData |= isData(dr7, slot);
        }
        return anyData;
    }

    private static Key key(DebugRegisters regs, java.util.function.LongSupplier cr3) {
        Dr7 dr7 = regs.dr7();
        // Enable, type and length fields only: GD, LE/GE and DR6 do not change what is armed.
        long slots = dr7.value() & 0xFFFF_00FFL;
        return new Key(regs.dr0(), regs.dr1(), regs.dr2(), regs.dr3(), slots, anyData(dr7) ? cr3.getAsLong() : 0);
    }

    /**
     * Arms execute hooks and data watches for {@code regs}; {@code toPhysical} translates a linear address
     * (-1 when unmapped). Nothing happens when nothing that matters changed.
     */
    /**
     * Whether {@link #arm} would do nothing for {@code regs}: the same snapshot as armed (the
     * physical registers' snapshot stays the same object until they change) and no data
     * breakpoint, whose translation CR3 or the page tables could have changed.
     */
    boolean armedFor(DebugRegisters regs) {
        return regs == armedRegs && !armedData && !unmappedWatch;
    }

    /**
     * Whether nothing of the data-breakpoint machinery waits for the end of a run: no data
     * breakpoint armed (so no hot page, late hit, refusal or kept bytes), only execute hooks or
     * nothing. A run may then go on from inside a hook as if a new one had started.
     */
    boolean quietBetweenRuns() {
        return !armedData && !unmappedWatch && !hot && hotHit == null && lateHits.isEmpty() && refused == null;
    }

    void arm(DebugRegisters regs, java.util.function.LongSupplier cr3, LongUnaryOperator toPhysical) {
        // The physical registers' snapshot is the same object until they change: then, with no
        // data breakpoint (CR3 does not matter), nothing can have changed. Every entry comes here.
        if (armedFor(regs)) {
            return;
        }
        Key k = key(regs, cr3); // CR3 is read only when a data breakpoint makes it matter (a register read per entry)
        armedRegs = regs;
        armedData = k.cr3() != 0 || anyData(regs.dr7());
        if (k.equals(armed) && !unmappedWatch) {
            updateHotMode();
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
            if (physical < 0 || physical + length > memory.size()) {
                LOG.debug("DR{} range 0x{} is not mapped to guest RAM now; not armed", slot, Long.toHexString(start));
                unmappedWatch = true;
                continue;
            }
            next.add(new Watch(start, length, physical, dr7.type(slot)));
        }
        if (!next.equals(watches)) {
            rearmWatches(next);
        }
        updateHotMode();
        if (LOG.isTraceEnabled()) { // the addresses' text is made only for the log
            LOG.trace("armed execute hooks at {}, {} watch(es) for {}", execAddressesForLog(), watches.size(), regs);
        }
    }

    /** Whether an execute hook (an armed instruction breakpoint) sits at {@code linear}; on the engine's thread. */
    boolean executeHookAt(long linear) {
        for (int slot = 0; slot < execHooks.length; slot++) {
            if (execHooks[slot] != null && execAddress[slot] == linear) {
                return true;
            }
        }
        return false;
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
        leaveHot();
        hotBanned = false;
        quietSteps = 0;
        watches.clear();
        watches.addAll(next);
        watchedPages.clear();
        for (Watch w : watches) {
            watchedPages.merge(w.physical & -PAGE, w.type == BreakpointType.READ_WRITE, Boolean::logicalOr);
        }
        setVirtualTlb(!watches.isEmpty());
    }

    /** Enters hot-page mode when the watched pages proved hot, leaves it when its period is over. */
    private void updateHotMode() {
        if (hot && (hotBanned || System.nanoTime() - hotSince > HOT_PERIOD_NANOS)) {
            leaveHot();
            setVirtualTlb(!watches.isEmpty());
        } else if (!hot && hotPage != null && hotAllowed && !hotBanned && !watches.isEmpty() && quietSteps >= HOT_AFTER_STEPS) {
            enterHot();
        }
    }

    /**
     * Hot-page mode: a memory hook per watched range (widened 7 bytes below: the engine compares
     * an access's start only) and the engine's own TLB. Adding the hooks drops every translation,
     * and code translated while they exist takes the engine's slow path for every store (and every
     * load, for a read/write watch) and updates RIP before each; the hooks' range check is in the
     * engine, so an access to the watched page outside the ranges never reaches Java.
     */
    private void enterHot() {
        quietSteps = 0;
        if (virtualTlb) {
            uc.useVirtualTlb(false);
            virtualTlb = false;
        }
        for (Watch w : watches) {
            EnumSet<MemType> types = w.type == BreakpointType.READ_WRITE ? EnumSet.of(MemType.READ, MemType.WRITE)
                    : EnumSet.of(MemType.WRITE);
            long lo = Math.max(0, w.physical - 7);
            hotHooks.add(uc.addMemoryHook(types, lo, w.physical + w.length - 1,
                    (u, type, addr, size, value) -> onHotAccess(type, addr, size, value), true));
        }
        hot = true;
        hotSince = System.nanoTime();
        hotEntries++;
        LOG.debug("watched page(s) are hot: memory hooks on {} range(s)", watches.size());
    }

    private void leaveHot() {
        if (!hot) {
            return;
        }
        hotHooks.forEach(Hook::close);
        hotHooks.clear();
        hot = false;
        quietSteps = 0;
        LOG.debug("hot-page mode left");
    }

    /**
     * A hooked access in hot-page mode, before it is made. An access that overlaps no watched
     * range returns at once. One that does is a hit: when the instruction at RIP (the engine
     * updated it before the access) is the one making it, the hit stops the run with RIP there
     * (writing RIP makes the engine keep it when it leaves, which it does right after this access)
     * and the bytes a store is about to replace are kept, so {@link #afterRun} can put them back:
     * the guest is then exactly before that instruction, which the caller single-steps as after a
     * refused fill. A hit the RIP does not explain (an instruction the engine does not update RIP
     * for: LOCK, XCHG, x87, SSE, microcoded ones) is reported at the next block boundary instead,
     * and hot-page mode ends for these watches.
     */
    private void onHotAccess(MemType type, long physical, int size, long value) {
        if (recording) {
            onAccess(type, physical, size);
            return;
        }
        if (hotHit != null || !overlapsWatch(physical, size, type)) {
            return;
        }
        hotHits++;
        long rip = uc.readReg(X86Reg.RIP);
        boolean write = type == MemType.WRITE;
        boolean onePage = (physical & (PAGE - 1)) + size <= PAGE;
        if (onePage && memory.contains(physical, size) && hotPage.accessedBy(rip, physical, size, write, value)) {
            hotHit = new HotHit(rip, physical, write ? memory.readBytes(physical, size) : null);
            uc.writeReg(X86Reg.RIP, rip);
            hotPage.stopBefore(rip);
            return;
        }
        lateHitCount++;
        lateHits.add(new PhysicalAccess(physical, size, write ? DataAccessKind.WRITE : DataAccessKind.READ));
        hotBanned = true;
        LOG.warn("a data breakpoint hit on a hot page at physical 0x{} was made by an instruction tdemu cannot locate "
                + "(RIP 0x{} does not make it): reported at the end of its translated block", Long.toHexString(physical),
                Long.toHexString(rip));
        hotPage.stopAtNextBlock();
    }

    private boolean overlapsWatch(long physical, int size, MemType type) {
        for (Watch w : watches) {
            if (physical < w.physical + w.length && physical + size > w.physical
                    && (type == MemType.WRITE || w.type == BreakpointType.READ_WRITE)) {
                return true;
            }
        }
        return false;
    }

    /** After every run: undoes the store of a hot-page hit (see {@link #onHotAccess}). */
    void afterRun() {
        HotHit h = hotHit;
        hotHit = null;
        if (h != null && h.old() != null) {
            memory.writeBytes(h.physical(), h.old());
        }
    }

    /** Hits reported late (see {@link #onHotAccess}), once. */
    List<PhysicalAccess> takeLateHits() {
        if (lateHits.isEmpty()) {
            return List.of();
        }
        List<PhysicalAccess> out = List.copyOf(lateHits);
        lateHits.clear();
        return out;
    }

    boolean isHot() {
        return hot;
    }

    /** Tests of the single-step path switch hot-page mode off. */
    void allowHotPages(boolean allowed) {
        hotAllowed = allowed;
    }

    /** Enters or leaves virtual-TLB mode; in it, empties the TLB so every page is filled again for the new watches. */
    private void setVirtualTlb(boolean on) {
        if (on && fillHook == null) {
            fillHook = uc.addTlbFillHook((u, page, type) -> fill(page, type));
        }
        if (on != virtualTlb) {
            uc.useVirtualTlb(on);
            virtualTlb = on;
        } else if (on) {
            uc.flushTlb();
        }
    }

    /**
     * The TLB entry for linear {@code page}, as the guest's page tables give it, minus what a
     * watch or the CPU's own rules require to stop at: {@link TlbFillHook#REFUSE} for a write to a
     * watched page (or any data access to a read/write-watched one) and for an access the page
     * walk does not allow. A fetch or read on a write-watched page gets an entry without write.
     */
    private long fill(long page, MemType type) {
        fills++;
        long[] state = uc.readRegs(FILL_STATE);
        PageWalker.AccessType access = switch (type) {
            case WRITE -> PageWalker.AccessType.WRITE;
            case FETCH -> PageWalker.AccessType.FETCH;
            default -> PageWalker.AccessType.READ;
        };
        PageWalker.AccessContext ctx = new PageWalker.AccessContext((int) (state[1] & 3), (state[2] & CR0_WP) != 0,
                (state[3] & CR4_USER_PAGE_GUARDS) != 0);
        Boolean readsWatched = null;
        PageWalker.Grant grant = PageWalker.walkForAccess(memory, state[0], page, access, ctx);
        if (grant != null) {
            readsWatched = watchedPages.get(grant.physicalPage());
            boolean stop = readsWatched != null
                    && (access == PageWalker.AccessType.WRITE || access == PageWalker.AccessType.READ && readsWatched);
            if (!stop) {
                boolean read = readsWatched == null || !readsWatched;
                boolean write = grant.writable() && readsWatched == null;
                return TlbFillHook.entry(grant.physicalPage(), new Protection(read, write, true));
            }
        }
        refusedWatchedPage = grant != null;
        refusals++;
        refused = type;
        return TlbFillHook.REFUSE;
    }

    /**
     * The kind of access ({@link MemType#READ}, {@link MemType#WRITE}, {@link MemType#FETCH})
     * whose fill was refused since the last call (the run then ended at it), or null.
     */
    MemType takeRefusal() {
        MemType r = refused;
        refused = null;
        return r;
    }

    void disarm() {
        for (int slot = 0; slot < 4; slot++) {
            if (execHooks[slot] != null) {
                execHooks[slot].close();
                execHooks[slot] = null;
            }
        }
        endStepHooks();
        rearmWatches(List.of());
        armed = null;
        armedRegs = null;
    }

    /**
     * The guest changed its page tables without a CR3 write (INVLPG): linear data breakpoints
     * are translated again at the next arm.
     */
    void pageTablesChanged() {
        armed = null;
        armedRegs = null;
    }

    /**
     * Prepares to single-step the instruction at RIP after a refused fill: the engine's own page
     * walk (so a fault is exact), and a memory hook per watched range that records the accesses.
     * The engine checks for memory hooks when the code runs, not when it is translated (measured:
     * a hook added without a flush is called by code translated before it), so no translation is
     * dropped for the step; dropping one per step would fill the engine's translation buffer.
     */
    void openForStep() {
        recorded.clear();
        recording = true;
        if (hot) {
            return; // the hot-page hooks record
        }
        if (virtualTlb) {
            uc.useVirtualTlb(false);
        }
        for (Watch w : watches) {
            // Accesses start up to 7 bytes below an overlapping range (the hook compares starts only).
            long lo = Math.max(0, w.physical - 7);
            stepHooks.add(uc.addMemoryHook(EnumSet.of(MemType.READ, MemType.WRITE), lo, w.physical + w.length - 1,
                    (u, type, addr, size, value) -> onAccess(type, addr, size), false));
        }
    }

    /**
     * Removes the step's recording hooks. Called as soon as the step's run has stopped (from the
     * hook that stops it): the engine forgets deleted hooks only when a run ends, and until then
     * every load and store pays for them.
     */
    void endStepHooks() {
        if (!stepHooks.isEmpty()) {
            stepHooks.forEach(Hook::close);
            stepHooks.clear();
        }
    }

    /** Ends a step: returns to virtual-TLB mode and returns the accesses to watched physical ranges it made. */
    List<PhysicalAccess> closeAfterStep() {
        recording = false;
        endStepHooks();
        if (virtualTlb) {
            uc.useVirtualTlb(true);
        }
        if (refusedWatchedPage) {
            countStep(recorded.isEmpty());
            refusedWatchedPage = false;
        }
        return List.copyOf(recorded);
    }

    /** Counts steps on watched pages that met no watched range; enough of them in a short time make the pages hot. */
    private void countStep(boolean quiet) {
        if (hot || !quiet) {
            quietSteps = 0;
            return;
        }
        long now = System.nanoTime();
        if (quietSteps == 0 || now - quietSince > HOT_WINDOW_NANOS) {
            quietSteps = 0;
            quietSince = now;
        }
        quietSteps++;
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

    String stateForReport() {
        return watches.size() + " data breakpoint(s) armed" + (virtualTlb ? " (virtual TLB)" : "") + (hot ? " (hot page)" : "")
                + ", " + fills + " TLB fill(s), " + refusals + " refused, hot-page mode entered " + hotEntries + " time(s), "
                + hotHits + " hot hit(s), " + lateHitCount + " reported late";
    }

    /** TLB fills handled and refused so far (virtual-TLB mode only). */
    long fills() {
        return fills;
    }

    long refusals() {
        return refusals;
    }

    @Override
    public String toString() {
        return "DrEnforcer" + Objects.toString(armed);
    }
}
