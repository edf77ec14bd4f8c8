package dev.tdemu.emulator.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.UndeclaredThrowableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One Unicorn 2.1 engine in x86-64 mode (long mode, CPL0, paging off until the guest's CR0/CR3
 * say otherwise), driven through java.lang.foreign.
 *
 * <h2>Threads</h2>
 * An engine belongs to one thread at a time: everything except {@link #stop()} must be called by
 * the thread that runs it (hooks run on that thread, inside {@link #emuStart}). {@link #emuStart}
 * refuses to be re-entered and {@link #close()} refuses to run while emulation is in progress;
 * other cross-thread misuse is not detected and may crash the process.
 *
 * <h2>Exceptions in hooks</h2>
 * A Throwable thrown by a hook (including an Error) never crosses into native code: the upcall
 * records it, returns a safe default to the engine (no value, 0, false: stop), and calls
 * {@code uc_emu_stop}; further hooks of that run are skipped. When the engine returns,
 * {@link #emuStart} rethrows the first such Throwable as is (RuntimeException or Error; a checked
 * exception smuggled out of a hook comes wrapped in {@link UndeclaredThrowableException}), with
 * later ones and any engine error attached as suppressed. The engine stays usable.
 *
 * <h2>Stopping from another thread</h2>
 * {@link #stop()} is a request that cannot be lost: it makes the {@link #emuStart} that is running,
 * or else the next one, return {@link EmuResult#STOPPED}. See {@link #stop(Duration)}.
 *
 * <h2>Translated code</h2>
 * The engine translates guest code into blocks and caches them. Host writes ({@link #write}) do not
 * invalidate translations: call {@link #removeCache} after writing code. Adding or removing a code,
 * block or memory hook refreshes the translations it affects by itself: a code hook on a bounded
 * range at once (inside a run: from the next block on), block, memory and unbounded code hooks by
 * dropping all translations — which during a run waits until the run ends, so such a hook added
 * from another hook only sees code translated later in that run.
 */
@SuppressWarnings("restricted") // this is the FFM binding: restricted methods are its job
public final class Unicorn implements AutoCloseable {
    static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.unicorn");
    private static final int BATCH_MAX = 32;
    /** The engine's translated-code buffer (see the constructor). */
    static final int TCG_BUFFER_BYTES = 32 << 20;

    private final MemorySegment uc;
    /**
     * Engine-lifetime native buffers and the interrupt dispatcher's stub. An automatic arena: its
     * segments need no atomic acquire/release around each critical downcall, which a shared arena's
     * would (that doubled the cost of readReg); the engine keeps it reachable while open.
     */
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment regBuf;
    private final MemorySegment mmrBuf;
    private final MemorySegment msrBuf;
    private final MemorySegment hookHandleBuf;
    private final MemorySegment batchIds;
    private final MemorySegment batchPtrs;
    private final MemorySegment batchValues;
    private final long contextSize;
    private ContextLayout layout;
    private CpuContext exceptionContext;

    private final Map<Hook, Boolean> hooks = new LinkedHashMap<>();

    private final java.util.List<SwitchableBlockHook> switchables = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Arena> deferredFrees = new ArrayList<>();
    /** Memory the engine's translations may use until it is closed (switchable hooks' trampolines). */
    private final List<Runnable> afterClose = new ArrayList<>();
    /** A hook change during a run needs all translations dropped, which is only safe once the run is over. */
    private boolean deferredFlush;
    private final Set<CpuContext> contexts = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Host memory behind uc_mem_map_ptr, kept reachable while mapped. */
    private final Map<Long, MemorySegment> hostMemory = new LinkedHashMap<>();

    /** First Throwable thrown by a hook during the current run; read by every upcall. */
    Throwable hookFailure;

    /** The native side of every code hook on an address range (see {@link #addDispatchedCodeHook}), made with the first. */
    private MemorySegment codeDispatchStub;
    private final Map<Long, Hook> dispatchedCodeHooks = new java.util.concurrent.ConcurrentHashMap<>();
    private long nextCodeHookId = 1;

    /** The engine's one native UC_HOOK_INTR hook, installed with the first interrupt or invalid-instruction hook. */
    private boolean interruptDispatcher;
    private Hook[] interruptHooks = new Hook[0];
    /** RIP an invalid-instruction hook left after handling an instruction; the engine then still raises #UD there. */
    private long handledInvalidAt;
    private boolean invalidHandled;
    /** Vector of an exception raised while no interrupt hook was registered, or -1. */
    private int unhandledVector = -1;
    private long unhandledRip;

    // Stop protocol (see stop()): the runner publishes `running` before reading `stopRequests`,
    // the stopper bumps `stopRequests` before reading `running` — one of them sees the other.
    private volatile boolean running;
    private volatile Thread runner;
    private final AtomicLong stopRequests = new AtomicLong();
    private volatile long stopsAcknowledged;
    /** Set by {@link #emuStop()} during a run: the run ended because a hook asked. */
    private boolean hookStopped;
    /** Runs the engine ended by a stale stop nobody requested, which emuStart ran again (see there). */
    private long phantomStops;
    /** Threads inside stop(); the runner waits for their in-flight uc_emu_stop before acknowledging. */
    private final AtomicInteger activeStoppers = new AtomicInteger();
    private final Object stopLock = new Object();
    private long stopLockHandoffs;
    private volatile boolean closed;

    private Unicorn(ContextLayout layout) {
        MemorySegment handle;
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment out = tmp.allocate(ADDRESS);
            check("uc_open(UC_ARCH_X86, UC_MODE_64)", (int) Uc.OPEN.invokeExact(Uc.UC_ARCH_X86, Uc.UC_MODE_64, out));
            handle = out.get(ADDRESS, 0);
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        this.uc = handle;
        this.layout = layout;
        regBuf = arena.allocate(64, 16);
        mmrBuf = arena.allocate(Uc.MMR_SIZE, 8);
        msrBuf = arena.allocate(Uc.MSR_SIZE, 8);
        hookHandleBuf = arena.allocate(JAVA_LONG);
        batchIds = arena.allocate(JAVA_INT, BATCH_MAX);
        batchPtrs = arena.allocate(ADDRESS, BATCH_MAX);
        batchValues = arena.allocate(JAVA_LONG, BATCH_MAX);
        for (int i = 0; i < BATCH_MAX; i++) {
            batchPtrs.setAtIndex(ADDRESS, i, batchValues.asSlice(8L * i, 8));
        }
        try {
            // Before the engine initialises: its translation buffer defaults to 1 GiB, whose pages
            // the first full flush touches (measured: 130 ms to 2 s per engine, mostly in the
            // kernel). The buffer never fills during a run: see installTranslationBudget.
            check("uc_ctl(UC_CTL_TCG_BUFFER_SIZE)",
                    (int) Uc.CTL_INT.invokeExact(uc, Uc.ctlWrite(Uc.UC_CTL_TCG_BUFFER_SIZE, 1), TCG_BUFFER_BYTES));
            // Runs the engine's lazy initialisation now, on this thread, so that a stop() from
            // another thread can never race it.
            contextSize = (long) Uc.CONTEXT_SIZE.invokeExact(uc);
            // Exits enabled with none registered: uc_emu_start's `until` never ends a run (exits
            // through `until` crash the engine after 524,288 of them). Runs end by hlt or stop.
            check("uc_ctl(UC_CTL_UC_USE_EXITS, 1)",
                    (int) Uc.CTL_INT.invokeExact(uc, Uc.ctlWrite(Uc.UC_CTL_UC_USE_EXITS, 1), 1));
        } catch (Throwable t) {
            closeEngineQuietly();
            if (t instanceof UnicornException e) {
                throw e;
            }
            throw new AssertionError(t);
        }
        LOG.debug("opened engine {}", this);
        installTranslationBudget();
    }

    // ------------------------------------------------------------------------------------------
    // Translation budget

    /**
     * The engine's translated-code buffer must never fill during a run: its own flush then frees
     * code it is still about to patch or run (measured with guests that rewrite their own code:
     * SIGSEGV in tb_set_jmp_target, SIGBUS near cpu_io_recompile, or a run that loops for ever and
     * no longer honours stops, always right after the buffer's first fill). So every translation
     * is counted, with a deliberately high estimate of the host code it produced, and once half
     * the buffer may be used the run is stopped at the next block (before it runs), the whole
     * buffer is flushed between runs, where that is safe, and the run goes on from where it was.
     * The estimate is about four times what the engine really produces (measured: 75,000 blocks
     * of 3.5 instructions fill 32 MiB, about 450 bytes per block; estimated here at 2,150), so the
     * engine's own flush is out of reach by a margin of eight.
     */
    private void installTranslationBudget() {
        try {
            MethodHandle target = java.lang.invoke.MethodHandles.lookup().findVirtual(Unicorn.class, "translated",
                    java.lang.invoke.MethodType.methodType(void.class, MemorySegment.class, MemorySegment.class,
                            MemorySegment.class, MemorySegment.class)).bindTo(this);
            MemorySegment stub = Uc.LINKER.upcallStub(target, Uc.CB_EDGE, arena);
            check("uc_hook_add(UC_HOOK_EDGE_GENERATED)", (int) Uc.HOOK_ADD.invokeExact(uc, hookHandleBuf,
                    Uc.UC_HOOK_EDGE_GENERATED, stub, MemorySegment.NULL, 1L, 0L));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Estimated host bytes per translated block and per guest instruction in it (see {@link #installTranslationBudget}). */
    static final long TB_ESTIMATE_BYTES = 1024, INSN_ESTIMATE_BYTES = 320;
    /** Estimated bytes translated since the buffer was last flushed. */
    private long translatedSinceFlush;
    private boolean budgetStop;
    private long budgetFlushes;

    /** Told of every block the engine translates: its first linear address and its size in bytes. */
    @FunctionalInterface
    public interface TranslationListener {
        void translated(long pc, int size);
    }

    private volatile TranslationListener translationListener;

    /**
     * Calls {@code listener} (on the engine's thread, during a run) for every block the engine
     * translates from then on; null for none. It must not throw and must not call the engine's
     * API other than register reads.
     */
    public void setTranslationListener(TranslationListener listener) {
        translationListener = listener;
    }

    /** The edge-generated upcall: called for every newly translated block. Must not throw. */
    private void translated(MemorySegment engine, MemorySegment current, MemorySegment previous, MemorySegment user) {
        try {
            MemorySegment tb = current.reinterpret(16);
            int icount = tb.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, Uc.UC_TB_ICOUNT) & 0xFFFF;
            TranslationListener listener = translationListener;
            if (listener != null) {
                listener.translated(tb.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, Uc.UC_TB_PC),
                        tb.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, Uc.UC_TB_SIZE) & 0xFFFF);
            }
            translatedSinceFlush += TB_ESTIMATE_BYTES + icount * INSN_ESTIMATE_BYTES;
            if (translatedSinceFlush >= TCG_BUFFER_BYTES / 2 && running && !budgetStop) {
                budgetStop = true;
                int ignored = (int) Uc.EMU_STOP.invokeExact(uc);
            }
        } catch (Throwable t) {
            // nothing may escape into the engine; a miscount only makes the flush come later
        }
    }

    /** Flushes the translation buffer when the budget says it may be half full. Between runs only. */
    private void flushIfBudgetSpent() {
        budgetStop = false;
        if (translatedSinceFlush >= TCG_BUFFER_BYTES / 2) {
            flushNow();
            budgetFlushes++;
            LOG.debug("translation budget spent: flushed the engine's translations ({} so far)", budgetFlushes);
        }
    }

    /** How many times the translation buffer was flushed because the budget was spent. */
    public long budgetFlushes() {
        return budgetFlushes;
    }

    /**
     * Opens an x86-64 engine. The first call in a process loads libunicorn.so.2, checks that it is
     * at least 2.1 and calibrates the engine-state helpers ({@link #exceptionErrorCode()},
     * {@link #clearExceptionInFlight()}).
     *
     * @throws UnicornUnavailableException when the engine is missing, too old, or cannot be calibrated
     */
    public static Unicorn open() {
        UcLibrary.require();
        return new Unicorn(ContextLayout.get());
    }

    /** An engine without calibrated helpers: only for the calibration itself. */
    static Unicorn openUncalibrated() {
        UcLibrary.require();
        return new Unicorn(null);
    }

    void useLayout(ContextLayout layout) {
        this.layout = layout;
    }

    /** The version of the loaded engine. */
    public static UnicornVersion engineVersion() {
        return UcLibrary.version();
    }

    // ------------------------------------------------------------------------------------------
    // Memory

    /** Maps {@code size} bytes of engine-owned, zeroed memory at {@code address} (both page aligned). */
    public void map(long address, long size, Protection protection) {
        checkOpen();
        try {
            check(op("uc_mem_map", address, size, protection),
                    (int) Uc.MEM_MAP.invokeExact(uc, address, size, protection.bits()));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * Maps host memory at {@code address}: guest accesses go straight to {@code host}, which Java
     * may read and write directly (a host write to code still needs {@link #removeCache}). The
     * segment must be native, page aligned in size, and stay alive while mapped: the engine keeps
     * it reachable, but closing its arena while mapped crashes the process.
     */
    public void mapPtr(long address, MemorySegment host, Protection protection) {
        checkOpen();
        if (!host.isNative()) {
            throw new IllegalArgumentException("mapPtr needs native memory, not a heap segment");
        }
        long size = host.byteSize();
        try {
            check(op("uc_mem_map_ptr", address, size, protection),
                    (int) Uc.MEM_MAP_PTR.invokeExact(uc, address, size, protection.bits(), host));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        hostMemory.put(address, host);
    }

    /**
     * Maps {@code [address, address + size)} (page aligned) as device memory: every guest access there
     * calls {@code handler} on the engine's thread, inside the instruction. The handler lives as long as
     * the engine.
     */
    public void mapMmio(long address, long size, MmioHandler handler) {
        checkOpen();
        java.util.Objects.requireNonNull(handler, "handler");
        try {
            var lookup = java.lang.invoke.MethodHandles.lookup();
            MethodHandle read = lookup.findVirtual(Unicorn.class, "mmioRead", java.lang.invoke.MethodType.methodType(long.class,
                    MmioHandler.class, MemorySegment.class, long.class, int.class, MemorySegment.class)).bindTo(this).bindTo(handler);
            MethodHandle write = lookup.findVirtual(Unicorn.class, "mmioWrite", java.lang.invoke.MethodType.methodType(void.class,
                    MmioHandler.class, MemorySegment.class, long.class, int.class, long.class, MemorySegment.class))
                    .bindTo(this).bindTo(handler);
            MemorySegment readStub = Uc.LINKER.upcallStub(read, Uc.CB_MMIO_READ, arena);
            MemorySegment writeStub = Uc.LINKER.upcallStub(write, Uc.CB_MMIO_WRITE, arena);
            check(op("uc_mmio_map", address, size, null), (int) Uc.MMIO_MAP.invokeExact(uc, address, size, readStub,
                    MemorySegment.NULL, writeStub, MemorySegment.NULL));
            mmioRegions.put(address, new MmioRegion(address, size, handler));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Device memory mapped with {@link #mapMmio}, by start address. */
    private final java.util.NavigableMap<Long, MmioRegion> mmioRegions = new java.util.concurrent.ConcurrentSkipListMap<>();

    /** One region of device memory and the handler behind it. */
    public record MmioRegion(long address, long size, MmioHandler handler) {
        public boolean contains(long at, long length) {
            return at >= address && length >= 0 && at - address <= size - length;
        }
    }

    /**
     * The device memory holding all of {@code [address, address + length)}, for an access the VMM
     * makes for the guest outside a run (uc_mem_read cannot reach it: its downcall is critical and
     * may not call back into Java); empty when no single region holds it.
     */
    public java.util.Optional<MmioRegion> mmioRegion(long address, long length) {
        var e = mmioRegions.floorEntry(address);
        return e != null && e.getValue().contains(address, length) ? java.util.Optional.of(e.getValue()) : java.util.Optional.empty();
    }

    /** The MMIO read upcall: nothing may escape into the engine; a failure stops the run (all-ones meanwhile). */
    private long mmioRead(MmioHandler handler, MemorySegment engine, long offset, int size, MemorySegment user) {
        try {
            if (hookFailure == null) {
                return handler.read(this, offset, size);
            }
        } catch (Throwable t) {
            try {
                hookFailed(t);
            } catch (Throwable ignored) {
                // nothing may escape
            }
        }
        return -1L;
    }

    private void mmioWrite(MmioHandler handler, MemorySegment engine, long offset, int size, long value, MemorySegment user) {
        try {
            if (hookFailure == null) {
                handler.write(this, offset, size, value);
            }
        } catch (Throwable t) {
            try {
                hookFailed(t);
            } catch (Throwable ignored) {
                // nothing may escape
            }
        }
    }

    public void unmap(long address, long size) {
        checkOpen();
        try {
            check(op("uc_mem_unmap", address, size, null), (int) Uc.MEM_UNMAP.invokeExact(uc, address, size));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        hostMemory.entrySet().removeIf(m -> Long.compareUnsigned(m.getKey(), address) >= 0
                && Long.compareUnsigned(m.getKey() + m.getValue().byteSize(), address + size) <= 0);
    }

    /** Changes the protection of a page-aligned range (never from inside a FETCH_PROT hook: the engine crashes). */
    public void protect(long address, long size, Protection protection) {
        checkOpen();
        try {
            check(op("uc_mem_protect", address, size, protection),
                    (int) Uc.MEM_PROTECT.invokeExact(uc, address, size, protection.bits()));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Reads {@code dst.length} bytes of guest-physical memory. */
    public void read(long address, byte[] dst) {
        read(address, MemorySegment.ofArray(dst));
    }

    public byte[] read(long address, int size) {
        byte[] b = new byte[size];
        read(address, b);
        return b;
    }

    /** Reads {@code dst.byteSize()} bytes of guest-physical memory into {@code dst} (heap or native). */
    public void read(long address, MemorySegment dst) {
        checkOpen();
        int err;
        try {
            err = (int) Uc.MEM_READ.invokeExact(uc, address, dst, dst.byteSize());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (err != 0) {
            throw new UnicornException(op("uc_mem_read", address, dst.byteSize(), null), err);
        }
    }

    /** Writes guest-physical memory, ignoring its protection. Does not invalidate translated code. */
    public void write(long address, byte[] src) {
        write(address, MemorySegment.ofArray(src));
    }

    public void write(long address, MemorySegment src) {
        checkOpen();
        int err;
        try {
            err = (int) Uc.MEM_WRITE.invokeExact(uc, address, src, src.byteSize());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (err != 0) {
            throw new UnicornException(op("uc_mem_write", address, src.byteSize(), null), err);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Registers

    /** Reads a register of up to 8 bytes, zero-extended. */
    public long readReg(X86Reg reg) {
        checkOpen();
        if (!reg.isScalar()) {
            throw new IllegalArgumentException(reg + " is not a scalar register; use readRegBytes or readMmr");
        }
        int err;
        try {
            err = (int) Uc.REG_READ.invokeExact(uc, reg.ucId(), regBuf);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (err != 0) {
            throw new UnicornException("uc_reg_read(" + reg + ")", err);
        }
        return regBuf.get(JAVA_LONG, 0) & reg.mask();
    }

    /** Writes a register of up to 8 bytes (the low {@code reg.bytes()} bytes of {@code value}). */
    public void writeReg(X86Reg reg, long value) {
        checkOpen();
        if (!reg.isScalar()) {
            throw new IllegalArgumentException(reg + " is not a scalar register; use writeRegBytes or writeMmr");
        }
        // Unicorn 2.1 writes CR1/CR2 through cpu_x86_update_cr3: the value lands in CR3 too. Keep CR3.
        long cr3 = reg == X86Reg.CR2 ? readReg(X86Reg.CR3) : 0;
        regBuf.set(JAVA_LONG, 0, value);
        int err;
        try {
            err = (int) Uc.REG_WRITE.invokeExact(uc, reg.ucId(), regBuf);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (err != 0) {
            throw new UnicornException(String.format("uc_reg_write(%s, 0x%x)", reg, value), err);
        }
        if (reg == X86Reg.CR2 && readReg(X86Reg.CR3) != cr3) {
            writeReg(X86Reg.CR3, cr3);
        }
    }

    /** Reads any register except the MMRs as its raw little-endian bytes (16 for XMM, 10 for x87). */
    public byte[] readRegBytes(X86Reg reg) {
        checkOpen();
        if (reg.kind() == X86Reg.Kind.MMR) {
            throw new IllegalArgumentException(reg + " is a memory-management register; use readMmr");
        }
        int err;
        try {
            err = (int) Uc.REG_READ.invokeExact(uc, reg.ucId(), regBuf);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (err != 0) {
            throw new UnicornException("uc_reg_read(" + reg + ")", err);
        }
        return regBuf.asSlice(0, reg.bytes()).toArray(JAVA_BYTE);
    }

    public void writeRegBytes(X86Reg reg, byte[] value) {
        checkOpen();
        if (reg.kind() == X86Reg.Kind.MMR) {
            throw new IllegalArgumentException(reg + " is a memory-management register; use writeMmr");
        }
        if (value.length != reg.bytes()) {
            throw new IllegalArgumentException(reg + " takes " + reg.bytes() + " bytes, not " + value.length);
        }
        MemorySegment.copy(value, 0, regBuf, JAVA_BYTE, 0, value.length);
        int err;
        try {
            err = (int) Uc.REG_WRITE.invokeExact(uc, reg.ucId(), regBuf);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (err != 0) {
            throw new UnicornException("uc_reg_write(" + reg + ")", err);
        }
    }

    /** Reads several scalar registers in one call ({@code uc_reg_read_batch}). */
    public long[] readRegs(X86Reg... regs) {
        checkOpen();
        if (regs.length > BATCH_MAX) {
            throw new IllegalArgumentException("at most " + BATCH_MAX + " registers per batch");
        }
        for (int i = 0; i < regs.length; i++) {
            if (!regs[i].isScalar()) {
                throw new IllegalArgumentException(regs[i] + " is not a scalar register");
            }
            batchIds.setAtIndex(JAVA_INT, i, regs[i].ucId());
        }
        int err;
        try {
            err = (int) Uc.REG_READ_BATCH.invokeExact(uc, batchIds, batchPtrs, regs.length);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (err != 0) {
            throw new UnicornException("uc_reg_read_batch(" + regs.length + " registers)", err);
        }
        long[] out = new long[regs.length];
        for (int i = 0; i < regs.length; i++) {
            out[i] = batchValues.getAtIndex(JAVA_LONG, i) & regs[i].mask();
        }
        return out;
    }

    /** Writes several scalar registers in one call ({@code uc_reg_write_batch}). */
    public void writeRegs(X86Reg[] regs, long[] values) {
        checkOpen();
        if (regs.length != values.length || regs.length > BATCH_MAX) {
            throw new IllegalArgumentException("need as many values as registers, at most " + BATCH_MAX);
        }
        for (int i = 0; i < regs.length; i++) {
            if (!regs[i].isScalar()) {
                throw new IllegalArgumentException(regs[i] + " is not a scalar register");
            }
            batchIds.setAtIndex(JAVA_INT, i, regs[i].ucId());
            batchValues.setAtIndex(JAVA_LONG, i, values[i]);
        }
        int err;
        try {
            err = (int) Uc.REG_WRITE_BATCH.invokeExact(uc, batchIds, batchPtrs, regs.length);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (err != 0) {
            throw new UnicornException("uc_reg_write_batch(" + regs.length + " registers)", err);
        }
    }

    /** Reads GDTR, IDTR, LDTR or TR. */
    public X86Mmr readMmr(X86Reg reg) {
        checkOpen();
        requireMmr(reg);
        mmrBuf.fill((byte) 0);
        int err;
        try {
            err = (int) Uc.REG_READ.invokeExact(uc, reg.ucId(), mmrBuf);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (err != 0) {
            throw new UnicornException("uc_reg_read(" + reg + ")", err);
        }
        return new X86Mmr(Short.toUnsignedInt(mmrBuf.get(JAVA_SHORT, Uc.MMR_SELECTOR)), mmrBuf.get(JAVA_LONG, Uc.MMR_BASE),
                mmrBuf.get(JAVA_INT, Uc.MMR_LIMIT), mmrBuf.get(JAVA_INT, Uc.MMR_FLAGS));
    }

    /** Writes GDTR, IDTR (base and 16-bit limit), LDTR or TR (all four fields, no descriptor load). */
    public void writeMmr(X86Reg reg, X86Mmr value) {
        checkOpen();
        requireMmr(reg);
        mmrBuf.fill((byte) 0);
        mmrBuf.set(JAVA_SHORT, Uc.MMR_SELECTOR, (short) value.selector());
        mmrBuf.set(JAVA_LONG, Uc.MMR_BASE, value.base());
        mmrBuf.set(JAVA_INT, Uc.MMR_LIMIT, value.limit());
        mmrBuf.set(JAVA_INT, Uc.MMR_FLAGS, value.flags());
        int err;
        try {
            err = (int) Uc.REG_WRITE.invokeExact(uc, reg.ucId(), mmrBuf);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (err != 0) {
            throw new UnicornException("uc_reg_write(" + reg + ", " + value + ")", err);
        }
    }

    private static void requireMmr(X86Reg reg) {
        if (reg.kind() != X86Reg.Kind.MMR) {
            throw new IllegalArgumentException(reg + " is not GDTR, IDTR, LDTR or TR");
        }
    }

    /** Reads an MSR through the engine's RDMSR (EFER is 0xC0000080). Unknown MSRs read as 0. */
    public long readMsr(int msr) {
        checkOpen();
        msrBuf.fill((byte) 0);
        msrBuf.set(JAVA_INT, Uc.MSR_RID, msr);
        int err;
        try {
            err = (int) Uc.REG_READ.invokeExact(uc, Uc.UC_X86_REG_MSR, msrBuf);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (err != 0) {
            throw new UnicornException(String.format("uc_reg_read(MSR 0x%x)", msr), err);
        }
        return msrBuf.get(JAVA_LONG, Uc.MSR_VALUE);
    }

    /** Writes an MSR through the engine's WRMSR. Writes to MSRs the engine does not model are ignored. */
    public void writeMsr(int msr, long value) {
        checkOpen();
        msrBuf.fill((byte) 0);
        msrBuf.set(JAVA_INT, Uc.MSR_RID, msr);
        msrBuf.set(JAVA_LONG, Uc.MSR_VALUE, value);
        int err;
        try {
            err = (int) Uc.REG_WRITE.invokeExact(uc, Uc.UC_X86_REG_MSR, msrBuf);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (err != 0) {
            throw new UnicornException(String.format("uc_reg_write(MSR 0x%x, 0x%x)", msr, value), err);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Running

    /** Runs from {@code begin} with no time or instruction limit. */
    public EmuResult emuStart(long begin) {
        return emuStart(begin, 0, 0);
    }

    /**
     * Runs guest code from {@code begin} until a {@code hlt}, a hook's {@link #emuStop()}, a
     * {@link #stop()} from another thread, the timeout ({@code timeoutMicros}, 0 = none; the engine
     * starts a timer thread per call) or {@code count} instructions (0 = no limit; ignored by
     * already translated code).
     *
     * @return why the engine returned
     * @throws UnicornException when the engine stops with an error (unmapped access, invalid
     *         instruction without a hook that handles it, CPU exception without an interrupt hook ...)
     * @throws RuntimeException or Error: the first one a hook threw, as is (see the class comment)
     * @throws IllegalStateException when called from a hook (runs do not nest)
     */
    public EmuResult emuStart(long begin, long timeoutMicros, long count) {
        checkOpen();
        if (running) {
            throw new IllegalStateException("emuStart called while the engine is running (runs do not nest; "
                    + "one thread per engine)");
        }
        runner = Thread.currentThread();
        running = true;
        long requested = stopRequests.get();
        if (requested != stopsAcknowledged) {
            // A stop() arrived while no run was in progress: honour it without entering the engine,
            // leaving RIP where this run would have started.
            stopsAcknowledged = requested;
            endRun();
            writeReg(X86Reg.RIP, begin);
            return EmuResult.STOPPED;
        }
        int err;
        try {
            long from = begin;
            while (true) {
                hookStopped = false;
                flushIfBudgetSpent();
                err = (int) Uc.EMU_START.invokeExact(uc, from, 0L, timeoutMicros, count);
                if (budgetStop && err == 0 && hookFailure == null && unhandledVector < 0 && !hookStopped
                        && stopRequests.get() == stopsAcknowledged) {
                    // Stopped only for the translation budget, at a block boundary before the
                    // block ran: flush and go on from there.
                    from = readReg(X86Reg.RIP);
                    continue;
                }
                // A uc_emu_stop that lands after a run has ended on its own but before the engine
                // marks it done stays pending inside the engine and ends the next run at a block
                // boundary (usually its first block, before any instruction; sometimes the first
                // block that is not chained to the one before), although nobody asked for that run
                // to stop. Such a phantom stop looks like nothing else: no request, no hook stop, no
                // error, no limit, and the run did not end at a HLT (the only way a run ends by
                // itself). Continue from where it ended; a block boundary is a precise state.
                if (err != 0 || hookFailure != null || unhandledVector >= 0 || hookStopped || timeoutMicros != 0
                        || count != 0 || stopRequests.get() != stopsAcknowledged) {
                    break;
                }
                long rip = readReg(X86Reg.RIP);
                if (rip != from && endedAtHlt(rip)) {
                    break;
                }
                phantomStops++;
                from = rip;
            }
        } catch (Throwable t) {
            endRun();
            throw new AssertionError(t);
        }
        Throwable failure = hookFailure;
        hookFailure = null;
        int unhandled = unhandledVector;
        unhandledVector = -1;
        invalidHandled = false;
        long seen = stopRequests.get();
        boolean stopped = seen != stopsAcknowledged;
        if (failure == null && err == 0 && unhandled < 0) {
            stopsAcknowledged = seen; // a run that throws leaves stop requests pending for the next one
            if (activeStoppers.get() != 0) {
                // A stopper may have checked "running and not acknowledged" just before the line
                // above and be about to call uc_emu_stop: let that call land before this thread can
                // start another run, or it would end the next run for nothing.
                synchronized (stopLock) {
                    stopLockHandoffs++;
                }
            }
        }
        endRun();
        if (failure != null) {
            if (err != 0) {
                failure.addSuppressed(engineError(begin, err));
            }
            LOG.debug("a hook threw {}; rethrowing from emuStart", failure.toString());
            if (failure instanceof RuntimeException re) {
                throw re;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            throw new UndeclaredThrowableException(failure, "a hook threw a checked exception");
        }
        if (err != 0) {
            throw engineError(begin, err);
        }
        if (unhandled >= 0) {
            throw new UnicornException(String.format("uc_emu_start(0x%x) ended at RIP 0x%x on CPU exception vector %d "
                    + "(no interrupt hook)", begin, unhandledRip, unhandled), UcError.EXCEPTION.code());
        }
        if (stopped) {
            return EmuResult.STOPPED;
        }
        if (timeoutMicros != 0 && timedOut()) {
            return EmuResult.TIMED_OUT;
        }
        return EmuResult.COMPLETED;
    }

    private void endRun() {
        running = false;
        runner = null;
        if (deferredFlush) {
            deferredFlush = false;
            flushTranslations();
        }
        if (!deferredFrees.isEmpty()) {
            for (Arena a : deferredFrees) {
                a.close();
            }
            deferredFrees.clear();
        }
    }

    private UnicornException engineError(long begin, int err) {
        String rip;
        try {
            rip = "0x" + Long.toHexString(readReg(X86Reg.RIP));
        } catch (RuntimeException e) {
            rip = "unknown";
        }
        return new UnicornException(String.format("uc_emu_start(0x%x) ended at RIP %s", begin, rip), err);
    }

    private boolean timedOut() {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment result = tmp.allocate(JAVA_LONG);
            int err = (int) Uc.QUERY.invokeExact(uc, Uc.UC_QUERY_TIMEOUT, result);
            return err == 0 && result.get(JAVA_LONG, 0) != 0;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * Whether the run in progress was asked to stop (from a hook, or by {@link #stop()} from any
     * thread) and has not ended yet. For hooks that would otherwise let the engine run on: a RIP
     * written inside a hook makes the engine drop a stop requested before it in the same run.
     */
    public boolean stopRequested() {
        return hookStopped || stopRequests.get() != stopsAcknowledged;
    }

    /**
     * Stops the current run from inside a hook ({@code uc_emu_stop}). From code, interrupt,
     * invalid-instruction and memory-event hooks the run ends right after the hook (in a code hook
     * the hooked instruction stays unexecuted); from IN/OUT hooks only at the end of the translated
     * block, unless a code hook covers the next instruction (see {@link OutHook}). Not for other
     * threads: use {@link #stop()}.
     */
    public void emuStop() {
        checkOpen();
        hookStopped = true;
        try {
            check("uc_emu_stop", (int) Uc.EMU_STOP.invokeExact(uc));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@link #stop(Duration)} without a time limit. */
    public void stop() {
        stop(null);
    }

    /**
     * Requests that emulation stop; callable from any thread. The request is counted and cannot be
     * lost: the {@link #emuStart} running now returns {@link EmuResult#STOPPED}, or, when none is
     * running, the next one returns {@link EmuResult#STOPPED} at once without executing anything.
     * A stop requested after a run ended therefore carries over to the next run; discard it with
     * {@link #clearStopRequests()} if that is not wanted. Several requests before a run consume
     * together.
     *
     * <p>The engine drops a {@code uc_emu_stop} that lands while {@code uc_emu_start} is still
     * setting up, so while a run is in progress this method re-issues {@code uc_emu_stop}
     * (spinning briefly, then backing off up to 0.2 ms) until the runner has acknowledged the
     * request by leaving {@link #emuStart}. Called from a hook on the running thread it just stops
     * the current run.
     *
     * @param timeout how long to wait for the runner to acknowledge; null waits without limit
     * @return true when the request is delivered (the runner left or was not in emuStart), false
     *         when the runner did not leave within {@code timeout} (the request stays pending)
     */
    public boolean stop(Duration timeout) {
        long ticket = stopRequests.incrementAndGet();
        if (Thread.currentThread() == runner) {
            emuStop();
            return true;
        }
        long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        activeStoppers.incrementAndGet(); // before reading stopsAcknowledged: pairs with emuStart's ack
        try {
            for (int round = 0; ; round++) {
                synchronized (stopLock) {
                    if (closed || !running || stopsAcknowledged >= ticket) {
                        return true;
                    }
                    try {
                        int ignored = (int) Uc.EMU_STOP.invokeExact(uc);
                    } catch (Throwable t) {
                        throw new AssertionError(t);
                    }
                }
                if (timeout != null && System.nanoTime() - deadline >= 0) {
                    return false;
                }
                if (round < 100) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(round < 1000 ? 10_000 : 200_000);
                }
            }
        } finally {
            activeStoppers.decrementAndGet();
        }
    }

    /** Discards stop requests no run has consumed yet; returns whether there were any. */
    public boolean clearStopRequests() {
        if (running) {
            throw new IllegalStateException("clearStopRequests while the engine is running");
        }
        long requested = stopRequests.get();
        boolean pending = requested != stopsAcknowledged;
        stopsAcknowledged = requested;
        return pending;
    }

    /** Whether the byte before {@code rip} is a HLT (0xF4), i.e. the run may have ended by halting. */
    private boolean endedAtHlt(long rip) {
        // Checked after every run that ends by itself: read into the register buffer, no allocation.
        int err;
        try {
            err = (int) Uc.MEM_READ.invokeExact(uc, rip - 1, regBuf, 1L);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        // unreadable: do not guess, report the run as ended
        return err != 0 || regBuf.get(JAVA_BYTE, 0) == (byte) 0xF4;
    }

    /** How many phantom stops {@link #emuStart} absorbed (a stale engine stop that ended a run before it began). */
    public long phantomStops() {
        return phantomStops;
    }

    /** Whether a run is in progress (some thread is inside {@link #emuStart}). */
    public boolean isRunning() {
        return running;
    }

    // ------------------------------------------------------------------------------------------
    // Translation cache

    /**
     * Drops the translated code of guest range [{@code begin}, {@code endExclusive}): needed after
     * a host write to code. Addresses are virtual (translated through the guest's page tables).
     */
    public void removeCache(long begin, long endExclusive) {
        checkOpen();
        try {
            check(String.format("uc_ctl(UC_CTL_TB_REMOVE_CACHE, 0x%x, 0x%x)", begin, endExclusive),
                    (int) Uc.CTL_TWO_LONGS.invokeExact(uc, Uc.ctlWrite(Uc.UC_CTL_TB_REMOVE_CACHE, 2), begin, endExclusive));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** For calls a hook of this engine's own run must not make: {@code what} explains why. */
    private void requireBetweenRuns(String what) {
        if (running && Thread.currentThread() == runner) {
            throw new IllegalStateException(what + "; call it after emuStart returns");
        }
    }

    /** Drops all translated code. Not from a hook: that crashes the engine (hook changes defer it by themselves). */
    public void flushTranslations() {
        checkOpen();
        requireBetweenRuns("flushTranslations during a run would crash the engine");
        flushNow();
    }

    /** The flush itself; the caller makes sure no run is inside the engine. */
    private void flushNow() {
        translatedSinceFlush = 0;
        try {
            check("uc_ctl(UC_CTL_TB_FLUSH)", (int) Uc.CTL_NO_ARGS.invokeExact(uc, Uc.ctlWrite(Uc.UC_CTL_TB_FLUSH, 0)));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Hooks

    /**
     * Calls {@code hook} before each instruction whose address lies in [{@code begin}, {@code end}]
     * (inclusive). Translations of that range are dropped so the hook takes effect at once. A hook
     * on one address that is never reached costs nothing; each hooked instruction walks the whole
     * code-hook list, so keep code hooks few.
     */
    public Hook addCodeHook(long begin, long end, CodeHook hook) {
        Hook.Invalidation invalidation = Long.compareUnsigned(begin, end) <= 0 && end != -1L ? Hook.Invalidation.RANGE
                : Hook.Invalidation.ALL;
        return addDispatchedCodeHook("code hook " + range(begin, end), hook, begin, end, invalidation);
    }

    /**
     * A code hook whose native side is the engine's one code-hook stub, which finds the Java
     * callback by the hook's number (its user data). A guest's code scan places a hook on every
     * port I/O candidate, a thousand or more per engine; an upcall stub each would fill the JVM's
     * code cache once a few dozen vCPUs have their own engines.
     */
    private Hook addDispatchedCodeHook(String description, CodeHook callback, long begin, long end,
                                       Hook.Invalidation invalidation) {
        checkOpen();
        java.util.Objects.requireNonNull(callback, "hook");
        if (codeDispatchStub == null) {
            codeDispatchStub = Uc.LINKER.upcallStub(MethodHandles.insertArguments(Upcalls.CODE_DISPATCH, 0, this),
                    Uc.CB_CODE, arena);
        }
        Hook h = new Hook(this, description, invalidation, begin, end, callback);
        long id = nextCodeHookId++;
        try {
            int err = (int) Uc.HOOK_ADD.invokeExact(uc, hookHandleBuf, Uc.UC_HOOK_CODE, codeDispatchStub,
                    MemorySegment.ofAddress(id), begin, end);
            check("uc_hook_add(" + description + ")", err);
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        h.handle = hookHandleBuf.get(JAVA_LONG, 0);
        h.dispatchId = id;
        h.arena = Arena.ofShared(); // owns nothing native; closed like any hook's
        h.stub = codeDispatchStub.address();
        dispatchedCodeHooks.put(id, h);
        hooks.put(h, Boolean.TRUE);
        refreshTranslations(h);
        LOG.trace("added {}", h);
        return h;
    }

    /** Called by the engine's code-hook stub (see {@link #addDispatchedCodeHook}). */
    void dispatchCode(long address, int size, long id) {
        Hook h = dispatchedCodeHooks.get(id);
        if (h == null || !h.live()) {
            return;
        }
        try {
            ((CodeHook) h.callback).onInstruction(this, address, size);
        } catch (Throwable t) {
            Upcalls.failed(this, t);
        }
    }

    /** Calls {@code hook} before every instruction (about 23 ns per instruction). */
    public Hook addCodeHook(CodeHook hook) {
        return add("code hook (all)", Uc.UC_HOOK_CODE, -1, Upcalls.CODE, Uc.CB_CODE, hook, 1, 0, Hook.Invalidation.ALL);
    }

    /** Calls {@code hook} at the start of each basic block that begins in [{@code begin}, {@code end}]. */
    public Hook addBlockHook(long begin, long end, BlockHook hook) {
        return add("block hook " + range(begin, end), Uc.UC_HOOK_BLOCK, -1, Upcalls.BLOCK, Uc.CB_CODE, hook, begin, end,
                Hook.Invalidation.ALL);
    }

    public Hook addBlockHook(BlockHook hook) {
        return add("block hook (all)", Uc.UC_HOOK_BLOCK, -1, Upcalls.BLOCK, Uc.CB_CODE, hook, 1, 0, Hook.Invalidation.ALL);
    }

    /**
     * A block hook on every block that is switched on and off from any thread, even during a run,
     * without dropping translated code: see {@link SwitchableBlockHook}. Starts off. Add it before
     * the first run (adding it drops every translation once).
     */
    public SwitchableBlockHook addSwitchableBlockHook(BlockHook hook) {
        SwitchableBlockHook s = SwitchableBlockHook.install(this, hook);
        switchables.add(s);
        return s;
    }

    /**
     * A block hook on every block whose native callback is {@code callback} (a trampoline of
     * {@link SwitchableBlockHook}) instead of its Java upcall stub; the stub ({@link Hook#stub})
     * is what the trampoline jumps to while the hook is on.
     */
    Hook addBlockHookCalledThrough(MemorySegment callback, BlockHook hook) {
        return add("switchable block hook (all)", Uc.UC_HOOK_BLOCK, -1, Upcalls.BLOCK, Uc.CB_CODE, hook, 1, 0,
                Hook.Invalidation.ALL, callback);
    }

    /** Runs {@code unmap} once the engine is closed (memory translated code may still use until then). */
    void unmapAfterClose(Runnable unmap) {
        afterClose.add(unmap);
    }

    /**
     * Calls {@code hook} for every interrupt and exception (see {@link InterruptHook}). All interrupt
     * hooks share one native hook and run in the order they were added. Without any, a CPU
     * exception ends the run with {@link UcError#EXCEPTION}.
     */
    public Hook addInterruptHook(InterruptHook hook) {
        checkOpen();
        java.util.Objects.requireNonNull(hook, "hook");
        ensureInterruptDispatcher();
        Hook h = new Hook(this, "interrupt hook", Hook.Invalidation.NONE, 1, 0, hook);
        Hook[] grown = java.util.Arrays.copyOf(interruptHooks, interruptHooks.length + 1);
        grown[grown.length - 1] = h;
        interruptHooks = grown;
        hooks.put(h, Boolean.TRUE);
        return h;
    }

    /** Installs the engine's single UC_HOOK_INTR hook; its stub lives as long as the engine. */
    private void ensureInterruptDispatcher() {
        if (interruptDispatcher) {
            return;
        }
        try {
            MemorySegment stub = Uc.LINKER.upcallStub(MethodHandles.insertArguments(Upcalls.INTR_DISPATCH, 0, this),
                    Uc.CB_INTR, arena);
            check("uc_hook_add(interrupt dispatcher)", (int) Uc.HOOK_ADD.invokeExact(uc, hookHandleBuf, Uc.UC_HOOK_INTR,
                    stub, MemorySegment.NULL, 1L, 0L));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        interruptDispatcher = true;
    }

    /** Called by the native interrupt hook (see {@link Upcalls}). */
    void dispatchInterrupt(int vector) {
        if (invalidHandled) {
            invalidHandled = false;
            // The engine raises #UD after an invalid-instruction hook handled the instruction; that
            // one was dealt with already.
            if (vector == 6 && readReg(X86Reg.RIP) == handledInvalidAt) {
                return;
            }
        }
        Hook[] hs = interruptHooks;
        if (hs.length == 0) {
            unhandledVector = vector;
            unhandledRip = readReg(X86Reg.RIP);
            emuStop();
            return;
        }
        for (Hook h : hs) {
            if (h.live()) {
                ((InterruptHook) h.callback).onInterrupt(this, vector);
            }
        }
    }

    /** An invalid-instruction hook returned true: remember where it left RIP. */
    void invalidInstructionHandled() {
        invalidHandled = true;
        handledInvalidAt = readReg(X86Reg.RIP);
    }

    /**
     * Calls {@code hook} for successful accesses of the given types ({@link MemType#READ},
     * {@link MemType#WRITE}, {@link MemType#READ_AFTER}; not {@link MemType#FETCH}, which the engine
     * never reports for x86) whose start address
     * lies in [{@code begin}, {@code end}] (guest-physical, inclusive). While any memory hook exists,
     * newly translated loads and stores take the engine's slow path; all translations are dropped
     * when memory hooks come and go.
     */
    public Hook addMemoryHook(Set<MemType> types, long begin, long end, MemoryHook hook) {
        return addMemoryHook(types, begin, end, hook, true);
    }

    /**
     * A memory hook whose addition and removal flush translated code ({@code flush}) or not. The
     * engine calls memory hooks from code translated before them too (measured with Unicorn
     * 2.1.1: a hook added without a flush is called by a block translated and run before it);
     * what the translation decides is whether RIP is exact when a protection fault stops a
     * memory access. A flush costs about as much as thousands of VM exits.
     */
    public Hook addMemoryHook(Set<MemType> types, long begin, long end, MemoryHook hook, boolean flush) {
        if (types.contains(MemType.FETCH)) {
            throw new IllegalArgumentException("UC_HOOK_MEM_FETCH never fires for x86 in Unicorn 2.1; "
                    + "use a code hook to see instruction addresses");
        }
        int bits = memHookBits(types, true);
        return add("memory hook " + types + " " + range(begin, end), bits, -1, Upcalls.MEM, Uc.CB_MEM, hook, begin, end,
                flush ? Hook.Invalidation.ALL : Hook.Invalidation.NONE);
    }


    /**
     * Calls {@code hook} for unmapped or protection-violating accesses of the given types
     * ({@code *_UNMAPPED}, {@code *_PROT}) in [{@code begin}, {@code end}]; see {@link InvalidMemoryHook}.
     */
    public Hook addInvalidMemoryHook(Set<MemType> types, long begin, long end, InvalidMemoryHook hook) {
        int bits = memHookBits(types, false);
        return add("invalid-memory hook " + types + " " + range(begin, end), bits, -1, Upcalls.EVENTMEM, Uc.CB_EVENTMEM,
                hook, begin, end, Hook.Invalidation.NONE);
    }

    /**
     * Calls {@code hook} on every TLB miss while the engine is in virtual-TLB mode (see
     * {@link TlbFillHook}); in the engine's default mode it is never called.
     */
    public Hook addTlbFillHook(TlbFillHook hook) {
        return add("TLB-fill hook", Uc.UC_HOOK_TLB_FILL, -1, Upcalls.TLB_FILL, Uc.CB_TLB_FILL, hook, 1, 0,
                Hook.Invalidation.NONE);
    }

    /**
     * Switches the engine's TLB between its CPU's own page walk (the default) and virtual-TLB
     * mode, where {@link TlbFillHook}s translate every page (with none, virtual = physical).
     * Translated code is kept; the TLB is flushed. Measured: microseconds. Not from a hook.
     */
    public void useVirtualTlb(boolean virtual) {
        checkOpen();
        requireBetweenRuns("the TLB mode cannot change during a run");
        try {
            check("uc_ctl(UC_CTL_TLB_TYPE)", (int) Uc.CTL_INT.invokeExact(uc, Uc.ctlWrite(Uc.UC_CTL_TLB_TYPE, 1),
                    virtual ? Uc.UC_TLB_VIRTUAL : Uc.UC_TLB_CPU));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        flushTlb(); // the engine keeps the old mode's entries otherwise (measured)
    }

    /** Empties the engine's TLB (translated code stays). Measured: a few microseconds. Not from a hook. */
    public void flushTlb() {
        checkOpen();
        requireBetweenRuns("flushTlb during a run");
        try {
            check("uc_ctl(UC_CTL_TLB_FLUSH)", (int) Uc.CTL_NO_ARGS.invokeExact(uc, Uc.ctlWrite(Uc.UC_CTL_TLB_FLUSH, 0)));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    public Hook addInHook(InHook hook) {
        return add("IN hook", Uc.UC_HOOK_INSN, Uc.UC_X86_INS_IN, Upcalls.IN, Uc.CB_IN, hook, 1, 0, Hook.Invalidation.NONE);
    }

    public Hook addOutHook(OutHook hook) {
        return add("OUT hook", Uc.UC_HOOK_INSN, Uc.UC_X86_INS_OUT, Upcalls.OUT, Uc.CB_OUT, hook, 1, 0, Hook.Invalidation.NONE);
    }

    public Hook addCpuidHook(CpuidHook hook) {
        return add("CPUID hook", Uc.UC_HOOK_INSN, Uc.UC_X86_INS_CPUID, Upcalls.CPUID, Uc.CB_CPUID, hook, 1, 0,
                Hook.Invalidation.NONE);
    }

    public Hook addSyscallHook(SyscallHook hook) {
        return add("SYSCALL hook", Uc.UC_HOOK_INSN, Uc.UC_X86_INS_SYSCALL, Upcalls.SYSCALL, Uc.CB_SYSCALL, hook, 1, 0,
                Hook.Invalidation.NONE);
    }

    /**
     * Calls {@code hook} for instructions the engine cannot execute. When the hook returns true the
     * run continues at the RIP it left: the #UD the engine raises afterwards is swallowed (so no
     * interrupt hook sees it).
     */
    public Hook addInvalidInstructionHook(InvalidInstructionHook hook) {
        ensureInterruptDispatcher();
        return add("invalid-instruction hook", Uc.UC_HOOK_INSN_INVALID, -1, Upcalls.INSN_INVALID, Uc.CB_INSN_INVALID, hook,
                1, 0, Hook.Invalidation.NONE);
    }

    private static int memHookBits(Set<MemType> types, boolean valid) {
        if (types.isEmpty()) {
            throw new IllegalArgumentException("no memory access types given");
        }
        int bits = 0;
        for (MemType t : types) {
            if (t.isValidAccess() != valid) {
                throw new IllegalArgumentException(t + (valid ? " is an invalid-access event: use addInvalidMemoryHook"
                        : " is a successful access: use addMemoryHook"));
            }
            bits |= t.hookBit();
        }
        return bits;
    }

    private Hook add(String description, int type, int insn, MethodHandle target, FunctionDescriptor fd, Object callback,
                     long begin, long end, Hook.Invalidation invalidation) {
        return add(description, type, insn, target, fd, callback, begin, end, invalidation, null);
    }

    /** {@code nativeCallback}: what the engine calls instead of the upcall stub, or null. */
    private Hook add(String description, int type, int insn, MethodHandle target, FunctionDescriptor fd, Object callback,
                     long begin, long end, Hook.Invalidation invalidation, MemorySegment nativeCallback) {
        checkOpen();
        java.util.Objects.requireNonNull(callback, "hook");
        Arena hookArena = Arena.ofShared();
        Hook h = new Hook(this, description, invalidation, begin, end, null);
        try {
            MemorySegment stub = Uc.LINKER.upcallStub(Upcalls.bind(target, h, callback), fd, hookArena);
            MemorySegment called = nativeCallback != null ? nativeCallback : stub;
            int err = insn < 0
                    ? (int) Uc.HOOK_ADD.invokeExact(uc, hookHandleBuf, type, called, MemorySegment.NULL, begin, end)
                    : (int) Uc.HOOK_ADD_INSN.invokeExact(uc, hookHandleBuf, type, stub, MemorySegment.NULL, begin, end, insn);
            check("uc_hook_add(" + description + ")", err);
            h.handle = hookHandleBuf.get(JAVA_LONG, 0);
            h.arena = hookArena;
            h.stub = stub.address();
        } catch (Throwable t) {
            hookArena.close();
            if (t instanceof UnicornException e) {
                throw e;
            }
            throw new AssertionError(t);
        }
        hooks.put(h, Boolean.TRUE);
        refreshTranslations(h);
        LOG.trace("added {}", h);
        return h;
    }

    void removeHook(Hook h) {
        if (h.removed || closed) {
            return;
        }
        h.removed = true;
        hooks.remove(h);
        if (h.dispatchId != 0) {
            dispatchedCodeHooks.remove(h.dispatchId);
        }
        if (h.arena == null) { // dispatched in Java
            interruptHooks = java.util.Arrays.stream(interruptHooks).filter(x -> x != h).toArray(Hook[]::new);
            return;
        }
        int err;
        try {
            err = (int) Uc.HOOK_DEL.invokeExact(uc, h.handle);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        // The engine never calls a deleted hook again, but the stub may be executing right now
        // (a hook removing itself): free it only once the run is over.
        if (running) {
            deferredFrees.add(h.arena);
        } else {
            h.arena.close();
        }
        h.arena = null;
        if (err != 0) {
            throw new UnicornException("uc_hook_del(" + h.description + ")", err);
        }
        refreshTranslations(h);
        LOG.trace("removed {}", h);
    }

    /**
     * Translated code carries the hooks present when it was translated: refresh what this hook
     * touches. Dropping one range is safe during a run (the engine finishes the block it is in);
     * dropping everything is not (the engine would return into freed code), so during a run that
     * waits until the run ends.
     */
    private void refreshTranslations(Hook h) {
        switch (h.invalidation) {
            case NONE -> { }
            case RANGE -> removeCache(h.begin, h.end + 1);
            case ALL -> {
                if (running) {
                    deferredFlush = true;
                } else {
                    flushTranslations();
                }
            }
        }
    }

    private static String range(long begin, long end) {
        return String.format("[0x%x, 0x%x]", begin, end);
    }

    // ------------------------------------------------------------------------------------------
    // Contexts

    /** Allocates a context for {@link CpuContext#save()}/{@link CpuContext#restore()}. */
    public CpuContext newContext() {
        checkOpen();
        MemorySegment ctx;
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment out = tmp.allocate(ADDRESS);
            check("uc_context_alloc", (int) Uc.CONTEXT_ALLOC.invokeExact(uc, out));
            ctx = out.get(ADDRESS, 0).reinterpret(contextSize);
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        CpuContext c = new CpuContext(this, ctx);
        contexts.add(c);
        return c;
    }

    /** Size of a saved context in bytes ({@code uc_context_size}). */
    public long contextSize() {
        return contextSize;
    }

    void saveContext(CpuContext c) {
        checkContext(c);
        int err;
        try {
            err = (int) Uc.CONTEXT_SAVE.invokeExact(uc, c.context);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        check("uc_context_save", err);
    }

    void restoreContext(CpuContext c) {
        checkContext(c);
        int err;
        try {
            err = (int) Uc.CONTEXT_RESTORE.invokeExact(uc, c.context);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        check("uc_context_restore", err);
    }

    void checkContext(CpuContext c) {
        checkOpen();
        if (c.freed) {
            throw new IllegalStateException("context already freed");
        }
    }

    void freeContext(CpuContext c) {
        if (c.freed || closed) {
            return;
        }
        c.freed = true;
        contexts.remove(c);
        contextFree(c);
    }

    private static void contextFree(CpuContext c) {
        try {
            int ignored = (int) Uc.CONTEXT_FREE.invokeExact(c.context);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Exception-delivery helpers (fields of the engine's CPU state that no register id exposes)

    /**
     * The error code of the exception the engine just reported to an {@link InterruptHook}
     * (#DF, #TS, #NP, #SS, #GP, #PF, #AC). Meaningful only inside the interrupt hook for such a vector.
     */
    public int exceptionErrorCode() {
        CpuContext c = exceptionContext();
        c.save();
        return c.context.get(JAVA_INT, layout.errorCodeOffset());
    }

    /**
     * The engine's {@code hflags}: the CPU mode as its translated code sees it (QEMU's HF_* bits:
     * CPL in bits 1:0, the STI/MOV SS interrupt shadow in bit 3, CS32 bit 4, SS32 bit 5, PE bit 7,
     * LMA bit 14, CS64 bit 15, VM bit 17). Between runs, or in a hook.
     */
    /** QEMU's HF_INHIBIT_IRQ_MASK: the instruction just executed was STI or MOV SS / POP SS. */
    private static final int HF_INHIBIT_IRQ = 1 << 3;

    public int hflags() {
        CpuContext c = exceptionContext();
        c.save();
        return c.context.get(JAVA_INT, layout.hflagsOffset());
    }

    /**
     * Ends the STI / MOV SS interrupt shadow the engine holds for the next instruction (its
     * HF_INHIBIT_IRQ), for a VMM that completed that instruction itself: the CPU's next boundary
     * is after it, where interrupts are open again. Between runs.
     */
    public void clearInterruptShadow() {
        CpuContext c = exceptionContext();
        c.save();
        int hflags = c.context.get(JAVA_INT, layout.hflagsOffset());
        if ((hflags & HF_INHIBIT_IRQ) != 0) {
            c.context.set(JAVA_INT, layout.hflagsOffset(), hflags & ~HF_INHIBIT_IRQ);
            c.restore();
        }
    }

    /**
     * Sets the privilege level the engine assumes (its CPL, which it otherwise only changes when
     * SS is loaded) without loading any segment. The engine checks segment-register writes against
     * the CPL, so delivering an exception from CPL3 to a CPL0 handler by hand needs this before
     * loading the handler's CS and 64-bit mode's null SS.
     */
    public void forceCpl(int cpl) {
        if (cpl < 0 || cpl > 3) {
            throw new IllegalArgumentException("CPL is 0..3, not " + cpl);
        }
        CpuContext c = exceptionContext();
        c.save();
        int hflags = c.context.get(JAVA_INT, layout.hflagsOffset());
        c.context.set(JAVA_INT, layout.hflagsOffset(), (hflags & ~3) | cpl);
        c.restore();
    }

    /** QEMU's hflags bits that follow the segment caches (cpu_x86_load_seg_cache). */
    private static final int HF_CPL = 3, HF_CS32 = 1 << 4, HF_SS32 = 1 << 5, HF_ADDSEG = 1 << 6, HF_LMA = 1 << 14,
            HF_CS64 = 1 << 15;
    private static final int DESC_L = 1 << 21, DESC_B = 1 << 22;
    private static final long CR0_PE = 1, RFLAGS_VM = 1L << 17;

    /**
     * The base in the engine's hidden descriptor cache of segment register {@code index} (ES, CS,
     * SS, DS, FS, GS = 0-5): what the CPU adds to an offset now, which a selector alone does not
     * tell (after MOV to CR0 sets PE, CS still holds its real-mode base until the far jump). Read
     * from a context save; between runs.
     */
    public long cachedSegmentBase(int index) {
        if (index < 0 || index > 5) {
            throw new IllegalArgumentException("segment register 0-5 (ES, CS, SS, DS, FS, GS), not " + index);
        }
        CpuContext c = exceptionContext();
        c.save();
        return c.context.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED,
                layout.segmentsOffset() + (long) index * ContextLayout.SEGMENT_SIZE + ContextLayout.SEGMENT_BASE);
    }

    /**
     * Loads the descriptor caches of ES, CS, SS, DS, FS and GS in that order as VMRUN or
     * KVM_SET_SREGS does, whatever the tables say: each value's selector, base, limit (in bytes)
     * and flags (the descriptor's high dword: type in bits 11:8, S 12, DPL 14:13, P 15, L 21, D/B
     * 22, G 23). The mode bits of hflags follow as a segment load sets them: CS32 and CS64 from CS
     * (CS64 only with EFER.LMA), SS32 and the CPL from SS, ADDSEG; the STI/MOV SS shadow ends. The
     * register API can only set selectors (in 64-bit mode it leaves the caches alone), which does
     * not take an application processor into real mode at its start-up page. Between runs, after
     * CR0 and EFER, which the hflags depend on.
     */
    public void loadSegments(List<X86Mmr> esCsSsDsFsGs) {
        if (esCsSsDsFsGs.size() != 6) {
            throw new IllegalArgumentException("six segments (ES, CS, SS, DS, FS, GS), not " + esCsSsDsFsGs.size());
        }
        long pe = readReg(X86Reg.CR0) & CR0_PE;
        long vm = readReg(X86Reg.RFLAGS) & RFLAGS_VM;
        CpuContext c = exceptionContext();
        c.save();
        MemorySegment ctx = c.context;
        long segs = layout.segmentsOffset();
        for (int i = 0; i < 6; i++) {
            X86Mmr s = esCsSsDsFsGs.get(i);
            long at = segs + (long) i * ContextLayout.SEGMENT_SIZE;
            ctx.set(JAVA_INT, at, s.selector());
            ctx.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, at + ContextLayout.SEGMENT_BASE, s.base());
            ctx.set(JAVA_INT, at + ContextLayout.SEGMENT_LIMIT, s.limit());
            ctx.set(JAVA_INT, at + ContextLayout.SEGMENT_FLAGS, s.flags());
        }
        X86Mmr cs = esCsSsDsFsGs.get(1), ss = esCsSsDsFsGs.get(2);
        int hflags = ctx.get(JAVA_INT, layout.hflagsOffset()) & ~(HF_CPL | HF_INHIBIT_IRQ | HF_CS32 | HF_SS32 | HF_ADDSEG
                | HF_CS64);
        if ((hflags & HF_LMA) != 0 && (cs.flags() & DESC_L) != 0) {
            hflags |= HF_CS32 | HF_SS32 | HF_CS64;
        } else {
            hflags |= (cs.flags() & DESC_B) != 0 ? HF_CS32 : 0;
            hflags |= (ss.flags() & DESC_B) != 0 ? HF_SS32 : 0;
        }
        hflags |= (ss.flags() >>> 13) & 3;
        if ((hflags & HF_CS64) == 0) {
            boolean addseg = pe == 0 || vm != 0 || (hflags & HF_CS32) == 0
                    || (esCsSsDsFsGs.get(0).base() | ss.base() | esCsSsDsFsGs.get(3).base()) != 0;
            hflags |= addseg ? HF_ADDSEG : 0;
        }
        ctx.set(JAVA_INT, layout.hflagsOffset(), hflags);
        c.restore();
    }

    /**
     * Sets the engine's hidden hflags bits {@code set} and clears {@code clear}, for state a register
     * write does not bring along (see {@code EngineIdtCpu.commit}: CS loaded in IA-32e mode).
     */
    public void forceHflags(int clear, int set) {
        CpuContext c = exceptionContext();
        c.save();
        int hflags = c.context.get(JAVA_INT, layout.hflagsOffset());
        c.context.set(JAVA_INT, layout.hflagsOffset(), (hflags & ~clear) | set);
        c.restore();
    }

    /**
     * Forgets the exception in flight. The engine remembers the last contributory exception or #PF
     * to escalate a second one to #DF (and a third to a triple fault) as real hardware does during
     * delivery; but since the engine never delivers exceptions itself it never forgets, so without
     * this a guest's second #DE or #GP — long after the first was handled — arrives as #DF. It also
     * forgets that the last exception was a software interrupt (INT n, INT3): the engine never
     * clears that mark either, and while it is set every later exception reported to an interrupt
     * hook (SVM intercepts included) has its RIP overwritten with the INT's return address. Call it
     * when an exception or interrupt has been handled by hand.
     */
    public void clearExceptionInFlight() {
        CpuContext c = exceptionContext();
        c.save();
        c.context.set(JAVA_INT, layout.oldExceptionOffset(), -1);
        c.context.set(JAVA_INT, layout.exceptionIsIntOffset(), 0);
        c.restore();
    }


    /** Whether the engine's last exception was raised by INT n, INT3 or INTO (its exception_is_int). */
    public boolean exceptionIsInt() {
        CpuContext c = exceptionContext();
        c.save();
        return c.context.get(JAVA_INT, layout.exceptionIsIntOffset()) != 0;
    }

    private CpuContext exceptionContext() {
        checkOpen();
        if (layout == null) {
            throw new IllegalStateException("engine-state helpers are not calibrated on this engine");
        }
        if (exceptionContext == null) {
            exceptionContext = newContext();
        }
        return exceptionContext;
    }

    // ------------------------------------------------------------------------------------------
    // Lifecycle and failures

    /**
     * Closes the engine and frees everything it owns: hooks and their upcall stubs, contexts,
     * buffers. Host memory given to {@link #mapPtr} is not freed (it belongs to the caller). Later
     * calls do nothing.
     *
     * @throws IllegalStateException while a run is in progress
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (running) {
            throw new IllegalStateException("close() while the engine is running (from a hook or another thread)");
        }
        synchronized (stopLock) {
            closed = true; // from now on stop() never touches the engine
        }
        for (CpuContext c : contexts) {
            c.freed = true;
            contextFree(c);
        }
        contexts.clear();
        for (SwitchableBlockHook s : switchables) {
            s.detach(); // other threads may be switching it: not after the engine freed it
        }
        switchables.clear();
        closeEngineQuietly();
        for (Runnable r : afterClose) {
            r.run();
        }
        afterClose.clear();
        for (Hook h : hooks.keySet()) {
            h.removed = true;
            if (h.arena != null) {
                h.arena.close();
                h.arena = null;
            }
        }
        interruptHooks = new Hook[0];
        hooks.clear();
        dispatchedCodeHooks.clear();
        for (Arena a : deferredFrees) {
            a.close();
        }
        deferredFrees.clear();
        hostMemory.clear();
        LOG.debug("closed engine {} ({} stop hand-offs)", this, stopLockHandoffs);
    }

    private void closeEngineQuietly() {
        try {
            int err = (int) Uc.CLOSE.invokeExact(uc);
            if (err != 0) {
                LOG.warn("uc_close failed: {}", Uc.describe(err));
            }
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Called by an upcall whose hook threw: remember the first failure and stop the run. */
    void hookFailed(Throwable t) {
        if (hookFailure == null) {
            hookFailure = t;
        } else if (hookFailure != t) {
            hookFailure.addSuppressed(t);
        }
        try {
            int ignored = (int) Uc.EMU_STOP.invokeExact(uc);
        } catch (Throwable e) {
            // a downcall does not throw; nothing may reach native code anyway
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("engine closed");
        }
    }

    private static void check(String operation, int err) {
        if (err != 0) {
            throw new UnicornException(operation, err);
        }
    }

    private static String op(String name, long address, long size, Protection p) {
        return String.format("%s(0x%x, 0x%x%s)", name, address, size, p == null ? "" : ", " + p);
    }

    @Override
    public String toString() {
        return "Unicorn[x86-64, uc=0x" + Long.toHexString(uc.address()) + (closed ? ", closed" : "") + "]";
    }
}
