package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.emulator.machine.GuestMemory;
import dev.tdemu.emulator.machine.GuestMemoryException;
import dev.tdemu.emulator.machine.PageWalker;
import dev.tdemu.emulator.unicorn.EmuResult;
import dev.tdemu.emulator.unicorn.Hook;
import dev.tdemu.emulator.unicorn.MemType;
import dev.tdemu.emulator.unicorn.Protection;
import dev.tdemu.emulator.unicorn.SwitchableBlockHook;
import dev.tdemu.emulator.unicorn.UcError;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.UnicornException;
import dev.tdemu.emulator.unicorn.X86Mmr;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One vCPU's engine: guest RAM mapped at guest-physical 0, the engine in SVM guest mode
 * ({@link SvmGuestMode}), the permanent hooks that turn whatever stops the engine into one
 * {@link EngineEvent}, the port-I/O hooks placed by scanning code, and a {@link DrEnforcer} that
 * makes the engine honour the debug registers the caller arms. It knows nothing of VMX, TDX or
 * KVM: {@link PhysicalCpu} decides what an event means. One thread runs it; {@link #stop()} may be
 * called from any thread.
 */
public final class GuestEngine implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.cpu");

    /**
     * Offered each intercept that ends a run, inside the interrupt hook, when the engine itself
     * could run on ({@link #canRunOnFromHook()}): the event to end the run with (the intercept
     * itself when the VMM does not take it here), or null when the VMM completed it, left RIP
     * where the guest goes on and the engine is to run on.
     */
    public interface InterceptFastpath {
        EngineEvent intercepted(EngineEvent.Intercept intercept);
    }

    /**
     * PAUSE-loop exiting for a vCPU of a VM with several (SDM vol. 3C, "PAUSE-Loop Exiting"; KVM's
     * ple_window and handle_pause). tdemu runs one vCPU at a time, so a vCPU spinning on a flag
     * another vCPU is to set cannot succeed until it gives the engine up: a run ends once it has
     * executed {@code pleWindow} PAUSEs (counted from the start of the run, whatever the loop
     * does in between: the SDM's PLE_Gap, which tells one loop from the next, has no meaning
     * without cycle counts) and another vCPU waits for the engine.
     *
     * @param pleWindow        PAUSEs a run may execute before a spin ends it
     * @param othersWaiting    whether another vCPU waits for the engine now
     * @param yieldWithoutExit null: the spin ends the run with {@link EngineEvent.PauseLoop} (a
     *                         VMX guest's PAUSE_INSTRUCTION exit); otherwise called instead, once
     *                         a run, to hand the engine on without an exit (a TD: the TDX module
     *                         enables no PAUSE-loop exiting; an SEV-ES guest)
     */
    public record PauseLoopExiting(int pleWindow, java.util.function.BooleanSupplier othersWaiting, Runnable yieldWithoutExit) {
        public PauseLoopExiting {
            if (pleWindow < 1) {
                throw new IllegalArgumentException("the PLE window must be at least one PAUSE, not " + pleWindow);
            }
            java.util.Objects.requireNonNull(othersWaiting, "othersWaiting");
        }
    }

    /** Port I/O the code scan did not cover must still be answered while the engine runs. */
    public interface FallbackIo {
        long in(int port, int size);

        void out(int port, int size, long value);
    }

    private final Unicorn uc;
    private final Arena arena = Arena.ofShared();
    private final GuestMemory memory;
    private final DrEnforcer enforcer;
    private final SvmGuestMode svm;
    private final CpuState state;
    private static final int EFER = 0xC0000080;
    /** The last guest-physical byte, which no access reaches: where the self-modifying-code hook listens. */
    private static final long SMC_GUARD_ADDRESS = -1L;
    private final List<Hook> ioHooks = new ArrayList<>();
    /** Real-mode RET fars the engine translated, to be hooked before the next run, and those hooked ({@link RealModeFarReturn}). */
    private final java.util.Queue<Long> farReturnsToHook = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.Set<Long> farReturnsHooked = new java.util.HashSet<>();
    /** A RET far was found in a new block: the kick hook ends the run at that block's start, before it runs. */
    private boolean hookFarReturnAtNextBlock;
    /** A hooked RET far runs: where the engine will send it and where it goes (null: none). */
    private RealModeFarReturn.Target farReturn;
    /** The IP the run's last RET far goes to, written to RIP after the run; -1: none. */
    private long farReturnIp = -1;
    /** Null: PAUSE runs like any instruction (a VM's only vCPU pays nothing). See {@link #enablePauseLoopExiting}. */
    private PauseLoopExiting pauseLoopExiting;
    private final List<Hook> pauseHooks = new ArrayList<>();
    /** PAUSEs executed since this run started (only counted with PAUSE-loop exiting on). */
    private int pauses;
    /** This run already asked to yield without an exit ({@link PauseLoopExiting#yieldWithoutExit}). */
    private boolean spinYieldAsked;
    private final FallbackIo fallbackIo;
    private EngineEvent event;
    /** Null: every intercept ends the run. Set by the caller around a run ({@link #useInterceptFastpath}). */
    private InterceptFastpath interceptFastpath;
    private volatile boolean kick;
    private volatile boolean interruptWindowWanted;
    private volatile boolean nmiWindowWanted;
    /** Set (on the engine's thread) while one instruction runs that must not be cut short by a kick. */
    private boolean kicksDeferred;
    /**
     * Ends runs at block boundaries for kicks and interrupt windows; its callback is on only while
     * one may be pending. Null until {@link #makeKickable()}: even switched off it costs a native
     * call per block (1-3 ns, see {@link SwitchableBlockHook}), which an engine nothing kicks does not pay.
     */
    private volatile SwitchableBlockHook kickHook;
    /** The block a kick stopped this run at, or -1. */
    private long kickedAt = -1;
    /** A fallback I/O hook ran: the kick hook ends the run at the next block's start. */
    private boolean stopAtNextBlock;
    /** A device callback asked for the run loop ({@link #endRunAtNextBlock}): the kick hook ends the run at the next block's start. */
    private boolean reenterAtNextBlock;
    /** The read hook that makes RIP exact at loads is installed ({@link #mapMmio}). */
    private boolean exactLoadRip;
    /** The thread running this engine now (inside {@link #run()}), or null between runs. */
    private volatile Thread runThread;
    /** The engines of the other vCPUs of this VM, or null (see {@link CodeSharing}). */
    private CodeSharing sharing;
    /** Blocks that started with the kick hook's callback on (see {@link #kickHookCalls()}). */
    private long kickHookCalls;
    /** Guest-physical page numbers this engine has translated code from (since its last flush). */
    private final Set<Long> codePages = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Pages another engine translated code from, to watch here from the next run on. */
    private final java.util.Queue<Long> watchRequests = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Pages this engine has a write hook on (its own thread only). */
    private final Set<Long> watchedPages = new java.util.HashSet<>();
    /**
     * A store the engine did not check (another engine's, or tdemu's own for the guest: INS) hit
     * one of {@link #codePages}: drop every translation before the next run.
     */
    private volatile boolean codeWrittenElsewhere;
    private static final int PAGE_SHIFT = 12;

    /** An engine for one of tdemu's own guests: 64-bit long mode, the tdemu machine's intercepts. */
    public GuestEngine(GuestMemory memory, BootStructures.EntryState entry, FallbackIo fallbackIo) {
        this(memory, VcpuEntry.longMode(entry), SvmGuestMode.Intercepts.TDEMU, fallbackIo);
    }

    public GuestEngine(GuestMemory memory, VcpuEntry entry, SvmGuestMode.Intercepts intercepts, FallbackIo fallbackIo) {
        this.memory = memory;
        this.fallbackIo = fallbackIo;
        this.uc = Unicorn.open();
        try {
            uc.mapPtr(0, memory.segment(), Protection.RWX);
            svm = SvmGuestMode.enter(uc, arena, entry, intercepts);
            state = new CpuState(uc, memory, entry.efer());
            enforcer = new DrEnforcer(uc, memory, (u, linear) -> onExecuteBreakpoint(linear), new DrEnforcer.HotPage() {
                @Override
                public boolean accessedBy(long rip, long physical, int size, boolean write, long value) {
                    return HotPageAttribution.makes(GuestEngine.this, rip, physical, size, write, value);
                }

                @Override
                public void stopBefore(long rip) {
                    record(new EngineEvent.RefusedAccess(rip, false));
                    uc.emuStop();
                }

                @Override
                public void stopAtNextBlock() {
                    kick();
                }
            });
            installPermanentHooks();
            uc.setTranslationListener(this::translatedFrom);
        } catch (RuntimeException e) {
            uc.close();
            arena.close();
            throw e;
        }
    }

    /** The vCPU's processor state: mode, paging, segments. */
    public CpuState state() {
        return state;
    }

    /** Reads an MSR the engine keeps (EFER, STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE, ...); between runs. */
    public long readEngineMsr(int msr) {
        return svm.readEngineMsr(msr);
    }

    /** Loads an MSR the engine acts on (EFER, the SYSCALL MSRs, KERNEL_GS_BASE, ...); between runs. */
    public void writeEngineMsr(int msr, long value) {
        svm.writeEngineMsr(msr, value);
        if (msr == EFER) {
            state.eferWritten(value);
        }
    }

    public Unicorn engine() {
        return uc;
    }

    private static final long CR0_ET = 1L << 4, CR0_CD_NW = (1L << 30) | (1L << 29);
    /** Present, accessed, read/write: a real-mode data segment's attributes (KVM's seg_setup, 0x93). */
    private static final int REAL_DATA_FLAGS = 0x9300;
    /** Present, accessed, readable code: CS after RESET or INIT (0x9b). */
    private static final int REAL_CODE_FLAGS = 0x9B00;

    /**
     * Puts the vCPU in the state RESET or INIT leaves it in (SDM vol. 3A, "IA-32 and Intel 64
     * Processor States Following Power-up, Reset, or INIT"; KVM's vmx_vcpu_reset), with CS as
     * given: real mode, CR0 0x60000010 (INIT keeps CD and NW as they were), CR2-CR4 and EFER 0,
     * RFLAGS 2, every general register 0 but EDX (the processor signature), data segments with
     * selector and base 0, GDTR and IDTR base 0 limit 0xFFFF, LDTR and TR null. The x87 and SSE
     * state stays (INIT keeps it). Between runs, from any mode: CR0 goes first, which leaves long
     * mode, and the descriptor caches are loaded directly ({@link Unicorn#loadSegments}).
     *
     * @param reset      RESET (CD and NW set) rather than INIT
     * @param csSelector CS after RESET/INIT (0xF000, base 0xFFFF0000) or after a start-up IPI
     *                   (vector << 8, base vector << 12)
     */
    public void loadInitState(boolean reset, int csSelector, long csBase, long rip, long edx) {
        long cr0 = CR0_ET | CR0_CD_NW;
        if (!reset) {
            cr0 = CR0_ET | (uc.readReg(X86Reg.CR0) & CR0_CD_NW);
        }
        uc.writeReg(X86Reg.CR0, cr0);
        writeEngineMsr(EFER, 0);
        uc.writeReg(X86Reg.CR4, 0);
        uc.writeReg(X86Reg.CR3, 0);
        uc.writeReg(X86Reg.CR2, 0);
        uc.writeReg(X86Reg.RFLAGS, 2);
        X86Mmr data = new X86Mmr(0, 0, 0xFFFF, REAL_DATA_FLAGS);
        uc.loadSegments(List.of(data, new X86Mmr(csSelector, csBase, 0xFFFF, REAL_CODE_FLAGS), data, data, data, data));
        uc.writeMmr(X86Reg.GDTR, X86Mmr.table(0, 0xFFFF));
        uc.writeMmr(X86Reg.IDTR, X86Mmr.table(0, 0xFFFF));
        uc.writeMmr(X86Reg.LDTR, new X86Mmr(0, 0, 0xFFFF, 0x8200));
        uc.writeMmr(X86Reg.TR, new X86Mmr(0, 0, 0xFFFF, 0x8B00));
        for (X86Reg r : new X86Reg[] {X86Reg.RAX, X86Reg.RBX, X86Reg.RCX, X86Reg.RSI, X86Reg.RDI, X86Reg.RSP, X86Reg.RBP,
            X86Reg.R8, X86Reg.R9, X86Reg.R10, X86Reg.R11, X86Reg.R12, X86Reg.R13, X86Reg.R14, X86Reg.R15}) {
            uc.writeReg(r, 0);
        }
        uc.writeReg(X86Reg.RDX, edx);
        uc.writeReg(X86Reg.RIP, rip);
        uc.clearExceptionInFlight();
        if (state.executionMode() != dev.tdemu.core.x86.ExecutionMode.REAL || (state.hflags() & CpuState.HF_LMA) != 0) {
            throw new EngineSetupException(String.format("INIT left the engine out of real mode (hflags 0x%x, CR0 0x%x)",
                    state.hflags(), uc.readReg(X86Reg.CR0)));
        }
    }

    /** 64-bit code (L, P, S, execute/read accessed), flat: a long-mode CS's attributes. */
    private static final int CODE64_FLAGS = 0x00A0_9B00;
    /** Flat 4 GiB read/write data (G, B, P, S). */
    private static final int FLAT_DATA_FLAGS = 0x00C0_9300;
    private static final long CR0_PE = 1, CR0_NE = 1L << 5, CR0_PG = 1L << 31, CR4_PAE = 1L << 5;
    private static final long EFER_LME = 1L << 8;

    /**
     * Puts the vCPU where the ACPI Multiprocessor Wakeup mailbox starts an application processor
     * (ACPI 6.4 section 5.2.12.19; TDVF's AP loop): 64-bit mode, paging on with the firmware's
     * page tables at {@code cr3} (PAE, EFER.LME/LMA), CR0 PE, NE, ET and PG, flat selectors from the
     * firmware's GDT, interrupts disabled (RFLAGS 2), no IDT (limit 0: the OS loads its own), RIP
     * the wakeup vector. The other registers stay as INIT left them. Between runs, from real mode.
     */
    public void loadWakeupState(long rip, long cr3, long gdtBase, int gdtLimit, int codeSelector, int dataSelector) {
        uc.writeReg(X86Reg.RFLAGS, 2);
        uc.writeReg(X86Reg.CR4, CR4_PAE);
        uc.writeReg(X86Reg.CR3, cr3);
        writeEngineMsr(EFER, EFER_LME);
        uc.writeReg(X86Reg.CR0, CR0_PE | CR0_NE | CR0_ET | CR0_PG);
        uc.writeMmr(X86Reg.GDTR, X86Mmr.table(gdtBase, gdtLimit));
        uc.writeMmr(X86Reg.IDTR, X86Mmr.table(0, 0));
        X86Mmr data = new X86Mmr(dataSelector, 0, 0xFFFF_FFFF, FLAT_DATA_FLAGS);
        uc.loadSegments(List.of(data, new X86Mmr(codeSelector, 0, 0xFFFF_FFFF, CODE64_FLAGS), data, data, data, data));
        uc.writeReg(X86Reg.RIP, rip);
        uc.clearExceptionInFlight();
        if (state.executionMode() != dev.tdemu.core.x86.ExecutionMode.LONG_64) {
            throw new EngineSetupException(String.format("the wakeup left the engine out of 64-bit mode (hflags 0x%x, CR0 0x%x, "
                    + "EFER 0x%x)", state.hflags(), uc.readReg(X86Reg.CR0), readEngineMsr(EFER)));
        }
    }

    /**
     * The instruction at instruction pointer {@code rip} as the CPU decodes it in its current mode,
     * or null when the bytes there do not make one (or cannot be read).
     */
    public dev.tdemu.emulator.machine.X86Instruction instructionAt(long rip) {
        return dev.tdemu.emulator.machine.X86Decoder.decode(readCode(rip, dev.tdemu.emulator.machine.X86Decoder.MAX_LENGTH), 0,
                state.executionMode()).instructionOrNull();
    }

    /**
     * The general registers and segment bases as the engine holds them now, for working out an
     * instruction's memory operand (between runs, or in a hook of this engine).
     */
    public dev.tdemu.emulator.machine.X86Instruction.Registers instructionRegisters() {
        return new dev.tdemu.emulator.machine.X86Instruction.Registers() {
            @Override
            public long gpr(int index) {
                return uc.readReg(PhysicalCpu.gpr(index));
            }

            @Override
            public long segmentBase(dev.tdemu.core.x86.Sreg segment) {
                return state.segment(segment).base();
            }
        };
    }

    public GuestMemory memory() {
        return memory;
    }

    /**
     * Reads guest-physical memory as the CPU's own access would: RAM directly, device memory
     * through the handler the engine has mapped there (the MMIO bus, the APIC page), so a device
     * answers as it does to a guest instruction. An address neither backs is a {@link GuestMemoryException}.
     */
    public byte[] readPhysical(long gpa, int length) {
        if (memory.contains(gpa, length)) {
            return memory.readBytes(gpa, length);
        }
        Unicorn.MmioRegion region = deviceMemory(gpa, length);
        byte[] out = new byte[length];
        for (int n = 0; n < length; ) {
            int size = accessSize(gpa + n, length - n);
            long value = region.handler().read(uc, gpa + n - region.address(), size);
            for (int i = 0; i < size; i++) {
                out[n + i] = (byte) (value >>> (8 * i));
            }
            n += size;
        }
        return out;
    }

    /** Writes guest-physical memory as the CPU's own access would (see {@link #readPhysical}). */
    public void writePhysical(long gpa, byte[] bytes) {
        if (memory.contains(gpa, bytes.length)) {
            memory.writeBytes(gpa, bytes);
            codeStoredOutsideEngines(gpa, bytes.length);
            return;
        }
        Unicorn.MmioRegion region = deviceMemory(gpa, bytes.length);
        for (int n = 0; n < bytes.length; ) {
            int size = accessSize(gpa + n, bytes.length - n);
            long value = 0;
            for (int i = size - 1; i >= 0; i--) {
                value = (value << 8) | (bytes[n + i] & 0xFF);
            }
            region.handler().write(uc, gpa + n - region.address(), size, value);
            n += size;
        }
    }

    private Unicorn.MmioRegion deviceMemory(long gpa, int length) {
        return uc.mmioRegion(gpa, length).orElseThrow(() -> new GuestMemoryException(gpa, length, memory.size()));
    }

    /** The largest naturally aligned access of at most 8 bytes at {@code at} that fits in {@code left}, as a device sees it. */
    private static int accessSize(long at, int left) {
        int size = 8;
        while (size > left || (at & (size - 1)) != 0) {
            size >>= 1;
        }
        return size;
    }

    /**
     * Offers {@code intercept} to the fastpath; true when the VMM completed it and the engine runs
     * on from the RIP the VMM wrote (a RIP written in a hook is where the engine goes on). False:
     * the event that ends the run is recorded, and the engine stops (a stop asked for in a hook
     * wins over a RIP written in it: HookTest).
     */
    private boolean offer(InterceptFastpath fastpath, EngineEvent.Intercept intercept) {
        EngineEvent ends = fastpath.intercepted(intercept);
        if (ends == null) {
            return true;
        }
        record(ends);
        return false;
    }

    /**
     * Whether nothing but the intercept in hand would end this run or be owed at its end, so
     * that the engine may run on from inside the hook: no event recorded yet (fallback I/O
     * included), no kick, interrupt or NMI window or stop at the next block pending, not a
     * one-instruction step, no other engine's store to act on before a run, the debug
     * registers need nothing done between runs ({@link DrEnforcer#quietBetweenRuns()}), and no
     * stop was asked for.
     */
    private boolean canRunOnFromHook() {
        return event == null && !kick && !kicksDeferred && !stopAtNextBlock && !reenterAtNextBlock && !interruptWindowWanted
                && !nmiWindowWanted
                && !codeWrittenElsewhere && watchRequests.isEmpty() && enforcer.quietBetweenRuns() && !uc.stopRequested();
    }

    /** Every hook that ends a run says why here (the first reason counts, unless it was fallback I/O). */
    private void record(EngineEvent e) {
        // Fallback port I/O is already done and asks the VMM for nothing: whatever stops the run
        // after it in the same stretch (an exception, an intercept, a single-step trap) is the event.
        if (event == null || event instanceof EngineEvent.ImprecisePortIo) {
            event = e;
        }
        enforcer.endStepHooks();
    }

    private void installPermanentHooks() {
        uc.addInterruptHook((u, vector) -> {
            long rip = u.readReg(X86Reg.RIP);
            if (SvmGuestMode.isIntercept(vector)) {
                // No exit information is read: it would cost a context save on every exit, and
                // the instruction bytes say everything the VMM needs.
                EngineEvent.Intercept intercept = new EngineEvent.Intercept(vector - SvmGuestMode.VMEXIT_BASE, rip);
                InterceptFastpath fastpath = interceptFastpath;
                if (fastpath == null || !canRunOnFromHook()) {
                    record(intercept);
                } else if (offer(fastpath, intercept)) {
                    return; // completed inside the hook: the guest runs on
                }
            } else if (vector == 1) {
                record(new EngineEvent.SingleStep(rip));
            } else {
                long errorCode = dev.tdemu.core.x86.ExceptionVector.isDefined(vector)
                        && dev.tdemu.core.x86.ExceptionVector.fromVector(vector).pushesErrorCode() ? u.exceptionErrorCode() : -1;
                record(new EngineEvent.Exception(vector, errorCode, rip));
            }
            u.emuStop();
        });
        // The engine's SYSCALL only calls this hook and moves RIP past it (RIP here is on it).
        uc.addSyscallHook(u -> {
            record(new EngineEvent.Syscall(u.readReg(X86Reg.RIP)));
            u.emuStop();
        });
        uc.addInvalidInstructionHook(u -> {
            record(new EngineEvent.InvalidInstruction(u.readReg(X86Reg.RIP)));
            u.emuStop();
            return true;
        });
        Set<MemType> invalid = EnumSet.noneOf(MemType.class);
        for (MemType t : MemType.values()) {
            if (!t.isValidAccess()) {
                invalid.add(t);
            }
        }
        uc.addInvalidMemoryHook(invalid, 1, 0, (u, type, physical, size, value) -> {
            // Memory hooks see guest-physical addresses (the engine has already walked the page tables).
            record(new EngineEvent.MemoryFault(type, physical, size, u.readReg(X86Reg.RIP)));
            return false;
        });
        // Self-modifying code: the engine checks a store for translated code only while the TLB
        // entry it goes through is marked not-dirty, and Unicorn 2.1.1 clears that mark after the
        // first store through the entry (notdirty_write), code on the page or not, unless a memory
        // hook exists; it sets it again only on the linear page it next translates from. Without
        // this hook a store through a page already written (or through another mapping of it)
        // leaves the old translation to run. The hook never fires (no access reaches its address).
        uc.addMemoryHook(EnumSet.of(MemType.WRITE), SMC_GUARD_ADDRESS, SMC_GUARD_ADDRESS, (u, type, at, size, value) -> {
        }, false);
        // Port I/O in code the scan did not cover (code the guest wrote) reaches these hooks. The
        // engine writes no RIP before them, and a stop from inside one leaves RIP wherever it was
        // last written (the start of an earlier block, when blocks are chained) while the rest of
        // the block still runs: the guest would resume there and run that stretch, the I/O
        // included, again. So the run ends at the start of the next block, whose address the kick
        // hook reads, with the rest of the block done once.
        uc.addInHook((u, port, size) -> {
            long value = fallbackIo.in(port, size);
            afterFallbackIo(new EngineEvent.ImprecisePortIo(true, port, size, value, -1));
            return (int) value;
        });
        uc.addOutHook((u, port, size, value) -> {
            fallbackIo.out(port, size, Integer.toUnsignedLong(value) & (size == 4 ? 0xFFFFFFFFL : (1L << (8 * size)) - 1));
            afterFallbackIo(new EngineEvent.ImprecisePortIo(false, port, size, value, -1));
        });
    }

    /**
     * The engines of one VM's vCPUs, which share guest RAM but each keep their own translations
     * and check only their own stores against them: cross-modifying code (SDM vol. 3A, "Handling
     * Self- and Cross-Modifying Code") would run stale. So each engine reports the pages it
     * translates from, every other engine watches stores to them, and a store there makes the
     * owner drop its translations before its next run. vCPUs run one at a time (GuestScheduler),
     * so a request or a flush applied at the start of a run is in time.
     */
    public static final class CodeSharing {
        private final List<GuestEngine> engines = new java.util.concurrent.CopyOnWriteArrayList<>();

        /** Adds {@code g}; between runs, before it first runs. */
        public void add(GuestEngine g) {
            engines.add(g);
            g.sharing = this;
        }
    }

    /** A block was translated from linear [pc, pc + size): its pages become watched by the other engines. */
    private void translatedFrom(long pc, int size) {
        long retf = RealModeFarReturn.endingBlock(uc, state, pc, size);
        SwitchableBlockHook kicks = kickHook;
        if (retf >= 0 && kicks != null && !farReturnsHooked.contains(retf)) {
            farReturnsToHook.add(retf); // hooked between runs: a hook added now would drop the code the engine runs
            hookFarReturnAtNextBlock = true;
            kicks.on();
        }
        long last = (pc + Math.max(size, 1) - 1) >>> PAGE_SHIFT;
        for (long page = pc >>> PAGE_SHIFT; page <= last; page++) {
            long physical = toPhysical(page << PAGE_SHIFT);
            if (physical >= 0 && codePages.add(physical >>> PAGE_SHIFT) && sharing != null) {
                for (GuestEngine other : sharing.engines) {
                    if (other != this) {
                        other.watchRequests.add(physical >>> PAGE_SHIFT);
                    }
                }
            }
        }
    }

    /** At the start of a run: the flush a store the engine did not check asked for, and the watches requested. */
    private void applyOtherEnginesStores() {
        if (codeWrittenElsewhere) {
            codeWrittenElsewhere = false;
            codePages.clear();
            uc.flushTranslations();
            LOG.debug("another vCPU stored to code this one translated: translations dropped");
        }
        for (Long page = watchRequests.poll(); page != null; page = watchRequests.poll()) {
            if (watchedPages.add(page)) {
                long start = page << PAGE_SHIFT;
                uc.addMemoryHook(EnumSet.of(MemType.WRITE), start, start + (1L << PAGE_SHIFT) - 1,
                        (u, type, at, size, value) -> storedToWatchedPage(at), false);
            }
        }
    }

    /**
     * tdemu stored to guest RAM for the guest (INS, emulated between runs), which no engine's
     * own check sees: an engine with code on those pages drops its translations before its next run.
     */
    private void codeStoredOutsideEngines(long gpa, int length) {
        long last = (gpa + Math.max(length, 1) - 1) >>> PAGE_SHIFT;
        for (long page = gpa >>> PAGE_SHIFT; page <= last; page++) {
            Long p = page;
            if (sharing == null) {
                if (codePages.contains(p)) {
                    codeWrittenElsewhere = true;
                }
                continue;
            }
            for (GuestEngine g : sharing.engines) {
                if (g.codePages.contains(p)) {
                    g.codeWrittenElsewhere = true;
                }
            }
        }
    }

    /** This engine stored to a page another engine has translated code from (physical {@code at}). */
    private void storedToWatchedPage(long at) {
        Long page = at >>> PAGE_SHIFT;
        for (GuestEngine other : sharing.engines) {
            if (other != this && other.codePages.contains(page)) {
                other.codeWrittenElsewhere = true;
            }
        }
    }

    /**
     * A fallback I/O hook performed {@code io}: the run ends at the next block's start (see
     * {@link #atBlockStart}). An engine without the kick hook stops at once, its RIP imprecise.
     */
    private void afterFallbackIo(EngineEvent.ImprecisePortIo io) {
        if (event == null) {
            event = io;
        }
        SwitchableBlockHook h = kickHook;
        if (h == null) {
            uc.emuStop();
            return;
        }
        stopAtNextBlock = true;
        h.on();
    }

    /**
     * Ends the run in progress at the start of the next translated block, RIP exact, with
     * {@link EngineEvent.Reentered} unless something else ends it first: for a device callback
     * that completed a VM exit inside the guest's access but needs the run loop before the guest
     * goes on (the engine armed for other debug registers, an exit path left for between runs).
     * The rest of the accessing instruction's block runs first: a device callback cannot end a run
     * inside an instruction without running the instruction's first part again. On the engine's
     * thread, inside a run, on a kickable engine.
     */
    public void endRunAtNextBlock() {
        SwitchableBlockHook h = kickHook;
        if (h == null) {
            throw new IllegalStateException("an engine without the kick hook cannot end a run at the next block");
        }
        reenterAtNextBlock = true;
        h.on();
    }

    /**
     * Whether the calling thread is running this engine now: a device callback then comes from a
     * guest instruction's access (and not from {@link #readPhysical}/{@link #writePhysical}).
     */
    public boolean inRun() {
        return runThread == Thread.currentThread();
    }

    /**
     * Hooks every place in {@code [start, start + length)} (guest-physical = linear: the image is
     * identity mapped) where a port I/O instruction may begin.
     */
    public void scanCode(long start, byte[] code) {
        for (int offset : PortIo.candidateStarts(code)) {
            long at = start + offset;
            ioHooks.add(uc.addCodeHook(at, at, (u, rip, size) -> onIoCandidate(rip)));
        }
        LOG.debug("code at 0x{}: {} port I/O candidate(s) hooked", Long.toHexString(start), ioHooks.size());
        int loadSs = 0, aligned = 0;
        for (int offset : NullStackSegment.candidateStarts(code)) {
            long at = start + offset;
            ioHooks.add(uc.addCodeHook(at, at, (u, rip, size) -> onFaultCandidate(rip, NullStackSegment::refused)));
            loadSs++;
        }
        for (int offset : AlignedVectorAccess.candidateStarts(code)) {
            long at = start + offset;
            ioHooks.add(uc.addCodeHook(at, at, (u, rip, size) -> onFaultCandidate(rip, AlignedVectorAccess::misaligned)));
            aligned++;
        }
        LOG.debug("code at 0x{}: {} MOV SS and {} aligned SSE move candidate(s) hooked", Long.toHexString(start), loadSs,
                aligned);
        if (pauseLoopExiting != null) {
            for (int offset : pauseStarts(code)) {
                long at = start + offset;
                pauseHooks.add(uc.addCodeHook(at, at, (u, rip, size) -> onPause(rip)));
            }
            LOG.debug("code at 0x{}: {} PAUSE candidate(s) hooked", Long.toHexString(start), pauseHooks.size());
        }
    }

    /**
     * Turns PAUSE-loop exiting on for the code scanned from now on ({@link #scanCode}); before
     * the scan, only for a vCPU of a VM with several.
     */
    public void enablePauseLoopExiting(PauseLoopExiting ple) {
        pauseLoopExiting = java.util.Objects.requireNonNull(ple, "ple");
    }

    /** PAUSE is F3 90 in every mode. */
    private static final byte REP = (byte) 0xF3, NOP = (byte) 0x90;

    /**
     * Offsets in {@code code} where a PAUSE could start (every F3 90): a candidate inside another
     * instruction is never an instruction start, so its hook never runs.
     */
    public static List<Integer> pauseStarts(byte[] code) {
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i + 1 < code.length; i++) {
            if (code[i] == REP && code[i + 1] == NOP) {
                starts.add(i);
            }
        }
        return starts;
    }

    /**
     * A PAUSE candidate is about to run: the PAUSE-loop exit once this run has executed a PLE
     * window of them and another vCPU waits (see {@link PauseLoopExiting}). Not in a
     * one-instruction step (its trap ends the run), and not over an execute breakpoint's hook
     * at the same place: the breakpoint faults first.
     */
    private void onPause(long linear) {
        PauseLoopExiting ple = pauseLoopExiting;
        if (++pauses < ple.pleWindow() || kicksDeferred || spinYieldAsked || !ple.othersWaiting().getAsBoolean()) {
            return;
        }
        long rip = state.ripOfLinear(linear);
        byte[] bytes = readCode(rip, 2);
        if (bytes.length < 2 || bytes[0] != REP || bytes[1] != NOP || enforcer.executeHookAt(linear)) {
            return; // other code at the scanned address (another address space), or a breakpoint's turn
        }
        if (ple.yieldWithoutExit() != null) {
            spinYieldAsked = true;
            ple.yieldWithoutExit().run();
            return;
        }
        record(new EngineEvent.PauseLoop(rip));
        uc.emuStop();
    }

    /** Hooks the real-mode RET fars found since the last run (adding a hook drops every translation). */
    private void hookFarReturns() {
        for (Long at = farReturnsToHook.poll(); at != null; at = farReturnsToHook.poll()) {
            if (farReturnsHooked.add(at)) {
                ioHooks.add(uc.addCodeHook(at, at, (u, linear, size) -> onFarReturn(linear)));
                LOG.debug("real-mode RET far at 0x{} hooked", Long.toHexString(at));
            }
        }
    }

    /** A hooked RET far is about to run: the run stops where the engine sends it, and RIP is set right. */
    private void onFarReturn(long linear) {
        long rip = state.ripOfLinear(linear);
        RealModeFarReturn.Target t = RealModeFarReturn.about(this, rip);
        SwitchableBlockHook h = kickHook;
        if (t != null && h != null && t.ip() != rip) { // returning to the RET's own IP needs nothing
            farReturn = t;
            h.on();
        }
    }

    private void onIoCandidate(long linear) {
        long rip = state.ripOfLinear(linear); // hooks see linear addresses
        byte[] bytes = readCode(rip, 15);
        // The candidate may be an instruction of another mode (40-4F are REX prefixes only in
        // 64-bit mode; 0x66 flips between 16 and 32 bits): decode it as the CPU runs it now.
        PortIo io = PortIo.decode(bytes, 0, state.executionMode());
        if (io != null) {
            record(new EngineEvent.PortIoInstruction(io, rip));
            uc.emuStop();
        }
    }

    /** An instruction the engine runs without a fault the CPU raises: whether it faults at {@code rip}. */
    @FunctionalInterface
    private interface FaultCheck {
        boolean faults(GuestEngine g, long rip);
    }

    /**
     * An instruction the engine would run without the #GP(0) the CPU raises is about to run (a
     * MOV SS of a refused null selector, {@link NullStackSegment}; a misaligned SSE move,
     * {@link AlignedVectorAccess}): when {@code check} says it faults, the run ends before it
     * with #GP(0) at it. An instruction breakpoint armed on it and not suppressed by RF comes first.
     */
    private void onFaultCandidate(long linear, FaultCheck check) {
        if (enforcer.executeHookAt(linear) && (uc.readReg(X86Reg.RFLAGS) & Rflags.RF) == 0) {
            return;
        }
        long rip = state.ripOfLinear(linear);
        if (check.faults(this, rip)) {
            record(new EngineEvent.Exception(dev.tdemu.core.x86.ExceptionVector.GP.vector(), 0, rip));
            uc.emuStop();
        }
    }

    /**
     * Reads {@code length} bytes at linear {@code linear} as the CPU's own access would, through the
     * current page tables to RAM or device memory ({@link #readPhysical}), page by page; null where
     * a page is not mapped or not backed.
     */
    public byte[] readLinearAsCpu(long linear, int length) {
        byte[] out = new byte[length];
        int done = 0;
        while (done < length) {
            long physical = toPhysical(linear + done);
            if (physical < 0) {
                return null;
            }
            int chunk = (int) Math.min(length - done, (1L << PAGE_SHIFT) - ((linear + done) & ((1L << PAGE_SHIFT) - 1)));
            try {
                System.arraycopy(readPhysical(physical, chunk), 0, out, done, chunk);
            } catch (GuestMemoryException e) {
                return null;
            }
            done += chunk;
        }
        return out;
    }

    private void onExecuteBreakpoint(long linear) {
        long rflags = uc.readReg(X86Reg.RFLAGS);
        if ((rflags & Rflags.RF) != 0) {
            // RF suppresses instruction breakpoints for one instruction, then the CPU clears it.
            uc.writeReg(X86Reg.RFLAGS, rflags & ~Rflags.RF);
            return;
        }
        // The hook (like DR0-DR3) names a linear address; the #DB's frame holds the instruction pointer.
        record(new EngineEvent.ExecuteBreakpoint(state.ripOfLinear(linear), linear));
        uc.emuStop();
    }

    /**
     * Reads up to {@code max} instruction bytes at instruction pointer {@code rip} (CS's base added
     * outside 64-bit mode; fewer bytes where the translation or RAM ends).
     */
    public byte[] readCode(long rip, int max) {
        return state.readLinear(state.codeLinear(rip), max);
    }

    /** Linear to guest-physical through the guest's current page tables; -1 when unmapped. */
    public long toPhysical(long linear) {
        return state.toPhysical(linear);
    }

    /** Makes the engine honour {@code regs} (re-arms only when they or CR3 changed). */
    private final java.util.function.LongSupplier cr3 = this::cr3;
    private final java.util.function.LongUnaryOperator toPhysical = this::toPhysical;

    private long cr3() {
        return uc.readReg(X86Reg.CR3);
    }

    /** Whether the engine honours {@code regs} as armed, so that {@link #armDebugRegisters} would do nothing. */
    public boolean armedFor(DebugRegisters regs) {
        return enforcer.armedFor(regs);
    }

    /** Offers the intercepts of the runs from now on to {@code fastpath} (null: none); set between runs. */
    public void useInterceptFastpath(InterceptFastpath fastpath) {
        interceptFastpath = fastpath;
    }

    public void armDebugRegisters(DebugRegisters regs) {
        enforcer.arm(regs, cr3, toPhysical);
        if (enforcer.isHot()) {
            makeKickable(); // a hot-page hit that cannot be located stops at the next block
        }
    }

    /** INVLPG: the engine's TLB is flushed (by reloading CR3) and data breakpoints are translated again. */
    public void pageTablesChanged() {
        uc.writeReg(X86Reg.CR3, uc.readReg(X86Reg.CR3));
        enforcer.pageTablesChanged();
    }

    DrEnforcer enforcer() {
        return enforcer;
    }

    /**
     * Whether a data breakpoint is armed on this engine now (it then runs in virtual-TLB mode),
     * with the TLB fills and refusals so far, e.g. "2 data breakpoint(s), 12 fills, 3 refused".
     */
    public String dataBreakpointState() {
        return enforcer.stateForReport();
    }

    /** CPL, CR4.DE and long mode as the breakpoint rules need them. */
    public CpuMode mode() {
        return state.cpuMode();
    }

    public long rip() {
        return uc.readReg(X86Reg.RIP);
    }

    /**
     * Runs the guest from its current RIP until something stops it; {@link #stop()} from another
     * thread is how callers bound the time.
     */
    public EngineEvent run() {
        event = null;
        kickedAt = -1;
        pauses = 0;
        spinYieldAsked = false;
        stopAtNextBlock = false;
        reenterAtNextBlock = false;
        hookFarReturnAtNextBlock = false;
        farReturn = null;
        farReturnIp = -1;
        applyOtherEnginesStores();
        hookFarReturns();
        enforcer.takeRefusal();
        SwitchableBlockHook blocks = kickHook;
        if (blocks != null) {
            blocks.forgetLastBlock(); // a block of an earlier run says nothing about this one
        }
        long start = uc.readReg(X86Reg.RIP);
        EmuResult result;
        runThread = Thread.currentThread();
        try {
            result = uc.emuStart(start);
        } catch (UnicornException e) {
            enforcer.afterRun();
            if (event != null) {
                return fixRip(event);
            }
            MemType refused = enforcer.takeRefusal();
            if (e.error() == UcError.EXCEPTION && refused != null) {
                // The engine restored the state of the instruction whose access was refused.
                return new EngineEvent.RefusedAccess(uc.readReg(X86Reg.RIP), refused == MemType.FETCH);
            }
            throw e;
        } catch (RuntimeException | Error e) {
            enforcer.afterRun();
            throw e;
        } finally {
            runThread = null;
        }
        enforcer.afterRun();
        if (kickedAt >= 0) {
            // The engine leaves RIP stale after a stop between chained blocks (it was last written
            // before some earlier block, and with code hooks present the engine does not restore
            // it): the block hook's address is where the guest is. It is linear: outside 64-bit
            // mode CS's base comes off (an application processor runs real-mode code at its
            // start-up page).
            // CS's base from the engine's descriptor cache, not from its selector: a kick between
            // MOV to CR0 (PE set) and the far jump finds a real-mode CS in protected mode.
            long rip = state.executionMode() == dev.tdemu.core.x86.ExecutionMode.LONG_64 ? kickedAt
                    : (kickedAt - uc.cachedSegmentBase(1)) & 0xFFFF_FFFFL;
            if (farReturnIp >= 0) {
                rip = farReturnIp; // the engine's RET far left the IP of the RET itself
            }
            uc.writeReg(X86Reg.RIP, rip);
            if (rip != kickedAt) {
                event = switch (event) {
                    case EngineEvent.Stopped s when s.rip() == kickedAt -> new EngineEvent.Stopped(rip);
                    case EngineEvent.InterruptWindow w when w.rip() == kickedAt -> new EngineEvent.InterruptWindow(rip);
                    case EngineEvent.NmiWindow w when w.rip() == kickedAt -> new EngineEvent.NmiWindow(rip);
                    case EngineEvent.Reentered r when r.rip() == kickedAt -> new EngineEvent.Reentered(rip);
                    case null, default -> event;
                };
            }
        }
        if (event != null) {
            return fixRip(event);
        }
        long rip = uc.readReg(X86Reg.RIP);
        return result == EmuResult.COMPLETED ? new EngineEvent.Completed(rip) : new EngineEvent.Stopped(rip);
    }

    private EngineEvent fixRip(EngineEvent e) {
        // The fallback I/O hooks cannot read a precise RIP; report where the engine stopped.
        if (e instanceof EngineEvent.ImprecisePortIo io) {
            return new EngineEvent.ImprecisePortIo(io.in(), io.port(), io.size(), io.value(), uc.readReg(X86Reg.RIP));
        }
        return e;
    }

    /**
     * Stops a run in progress from another thread (never lost; see {@link Unicorn#stop()}), but
     * not precisely: the engine may leave in the middle of a translated block with RIP at the
     * block's start, so the part of the block that already ran runs again on the next entry. Only
     * for runs that will never resume (the VM ends); everything else uses {@link #kick()}.
     */
    public void stop() {
        uc.stop();
    }

    /**
     * The kick hook: a block hook that ends the run at the start of the next translated block when
     * a kick is pending, when an interrupt window was asked for and the guest is now
     * interruptible, or after a fallback I/O hook ran ({@link #afterFallbackIo}). It is always installed, but its Java callback (an upcall per block, about
     * 35 ns) runs only while switched on ({@link SwitchableBlockHook}): from a {@link #kick()} or an
     * interrupt-window request until {@link #disableKicks()}; while off, a block costs one native
     * call that does nothing.
     */
    private void atBlockStart(Unicorn u, long address, int size) {
        kickHookCalls++;
        boolean afterIo = stopAtNextBlock;
        stopAtNextBlock = false;
        boolean reenter = reenterAtNextBlock;
        reenterAtNextBlock = false;
        if (kicksDeferred) {
            return; // a one-instruction step: its single-step trap ends the run
        }
        RealModeFarReturn.Target retf = farReturn;
        farReturn = null;
        boolean atWrongReturn = retf != null && address == retf.wrongLinear();
        if (atWrongReturn || hookFarReturnAtNextBlock) {
            // Before anything else, this block must not run: it is where the engine's RET far went
            // wrongly, or one ending in a RET far that is hooked between runs first.
            hookFarReturnAtNextBlock = false;
            if (atWrongReturn) {
                farReturnIp = retf.ip();
            }
            if (event == null) {
                event = new EngineEvent.Reentered(address);
            }
            kickedAt = address;
            u.emuStop();
            return;
        }
        if (kick) {
            kick = false;
            if (event == null || event instanceof EngineEvent.ImprecisePortIo) {
                event = new EngineEvent.Stopped(address);
                kickedAt = address;
            }
            u.emuStop();
        } else if (nmiWindowWanted && !state.interruptShadow()) {
            // Checked first: an NMI goes in before an interrupt (KVM's inject_pending_event).
            nmiWindowWanted = false;
            if (event == null) {
                event = new EngineEvent.NmiWindow(address);
                kickedAt = address;
            }
            u.emuStop();
        } else if (interruptWindowWanted && (u.readReg(X86Reg.RFLAGS) & Rflags.IF) != 0 && !state.interruptShadow()) {
            interruptWindowWanted = false;
            if (event == null || event instanceof EngineEvent.ImprecisePortIo) {
                event = new EngineEvent.InterruptWindow(address);
                kickedAt = address;
            }
            u.emuStop();
        } else if (afterIo || reenter) {
            if (reenter && event == null) { // fallback I/O's own event stays: it is an exit
                event = new EngineEvent.Reentered(address);
            }
            kickedAt = address;
            u.emuStop();
        }
    }

    /**
     * Keeps the kick hook's callback on (several vCPUs, an attached debugger): kicks stop the
     * guest at the next block. From any thread.
     */
    public void enableKicks() {
        makeKickable();
        kickHook.on();
    }

    /**
     * Installs the kick hook, switched off, so that {@link #kick()} works from then on (a PC's
     * devices, several vCPUs, a debugger). Between runs only: installing drops every translation.
     */
    public void makeKickable() {
        if (kickHook == null) {
            kickHook = uc.addSwitchableBlockHook(this::atBlockStart);
        }
    }

    /**
     * Maps device memory for this vCPU (see {@link Unicorn#mapMmio}); before the first run. The
     * handler may read RIP, which is then the accessing instruction's: the engine writes RIP
     * before every store while a write hook exists (the self-modifying-code hook), and before
     * every load only while a read hook exists, which the first mapping adds (at the same
     * unreachable address). Loads already take the engine's slow path for the write hook; the
     * read hook adds a RIP store per load and one hook-range check.
     */
    public void mapMmio(long address, long size, dev.tdemu.emulator.unicorn.MmioHandler handler) {
        if (!exactLoadRip) {
            uc.addMemoryHook(EnumSet.of(MemType.READ), SMC_GUARD_ADDRESS, SMC_GUARD_ADDRESS, (u, type, at, sz, value) -> {
            }, false);
            exactLoadRip = true;
        }
        uc.mapMmio(address, size, handler);
    }

    /**
     * Switches the kick hook's callback off until the next {@link #kick()}, interrupt-window
     * request or {@link #enableKicks()}: blocks run without an upcall. On the engine's thread,
     * between runs; a kick that races with this still finds the hook on.
     */
    public void disableKicks() {
        SwitchableBlockHook h = kickHook;
        if (h == null || !h.isOn()) {
            return;
        }
        h.off();
        if (kick || interruptWindowWanted || nmiWindowWanted) {
            h.on(); // a kick from another thread came while switching off
        }
    }

    /**
     * How many blocks started with the kick hook's callback on (each an upcall), since this engine
     * was made; on the engine's thread, between runs.
     */
    public long kickHookCalls() {
        return kickHookCalls;
    }

    /** Whether the kick hook's callback is on; from any thread. */
    public boolean kicksEnabled() {
        SwitchableBlockHook h = kickHook;
        return h != null && h.isOn();
    }

    /**
     * The linear address of the last translated block the engine started in the run that just
     * ended, or -1 when none did or the engine is not {@link #makeKickable() kickable} (the kick
     * hook's trampoline records it). Between runs.
     */
    public long lastBlockStart() {
        SwitchableBlockHook h = kickHook;
        return h == null ? -1 : h.lastBlockStart();
    }

    /** Whether interrupt-window exiting is wanted ({@link #requestInterruptWindow}); it needs the kick hook. */
    public boolean interruptWindowRequested() {
        return interruptWindowWanted;
    }

    /**
     * Ends the current run (or the next one, if none is in progress) at an instruction boundary
     * with {@link EngineEvent.Stopped}: the guest resumes exactly where it stopped. Callable from
     * any thread; a kick is one pending flag, not a count. Returns false when the engine is not
     * {@link #makeKickable() kickable}: the kick then only waits for the next run's hook, if any.
     */
    public boolean kick() {
        kick = true;
        SwitchableBlockHook h = kickHook;
        if (h == null) {
            return false;
        }
        h.on();
        return true;
    }

    /** Runs one stretch during which a pending kick waits for the next run (a single-instruction step). */
    EngineEvent runDeferringKicks() {
        kicksDeferred = true;
        try {
            return run();
        } finally {
            kicksDeferred = false;
        }
    }

    /**
     * KVM's interrupt-window exiting: while wanted, the run ends at the first block boundary where
     * the guest can take an interrupt (RFLAGS.IF set, no STI or MOV SS shadow).
     */
    public void requestInterruptWindow(boolean wanted) {
        // Written only on a change: a volatile store costs a fence, and every entry says "not wanted".
        // Only the engine's thread writes these two flags (here and in the kick hook).
        if (interruptWindowWanted != wanted) {
            interruptWindowWanted = wanted;
        }
        if (wanted) {
            enableKicks();
        }
    }

    /**
     * KVM's NMI-window exiting for an NMI held by an STI or MOV SS shadow (enable_nmi_window):
     * while wanted, the run ends at the first block boundary outside the shadow, whatever
     * RFLAGS.IF says. (NMI blocking until IRET is tdemu's IRET intercept, not this.)
     */
    public void requestNmiWindow(boolean wanted) {
        if (nmiWindowWanted != wanted) { // as requestInterruptWindow
            nmiWindowWanted = wanted;
        }
        if (wanted) {
            enableKicks();
        }
    }

    /** Drops a pending kick (the vCPU reached the point the kick wanted it at some other way). */
    public void clearKick() {
        kick = false;
    }

    @Override
    public void close() {
        enforcer.disarm();
        uc.close();
        arena.close();
    }
}
