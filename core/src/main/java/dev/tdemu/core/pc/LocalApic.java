package dev.tdemu.core.pc;

import dev.tdemu.core.platform.Clock;
import dev.tdemu.core.platform.InterruptLine;
import dev.tdemu.core.platform.MmioDevice;
import dev.tdemu.core.platform.PortBus;
import dev.tdemu.core.platform.TimedDevice;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * The local APIC of one vCPU (Intel SDM vol. 3A, "Advanced Programmable Interrupt Controller"):
 * in xAPIC mode the register page at the base in IA32_APIC_BASE, in x2APIC mode the MSRs
 * 0x800-0x8FF; priorities (TPR, PPR, ISR, IRR, TMR, EOI), the error status register, the local
 * vector table with LINT0/LINT1 inputs, the timer (one-shot, periodic, TSC-deadline), and the ICR
 * for self-IPIs (other IPIs go to an {@link ApicIpiSink}).
 *
 * <p>Three sides: the guest's MMIO accesses ({@link MmioDevice}) and MSR accesses (through
 * {@link MsrFile}); the processor core ({@link ApicCpuInterface}); the emulator's timekeeping
 * ({@link TimedDevice}; the timer is computed from the {@link Clock} and the vCPU's
 * {@link GuestTsc}, so {@link #expire} is only needed to deliver the interrupt on time). Every
 * method is thread-safe; callbacks to other devices (the IPI sink, the EOI listener, the PIC, the
 * base listener) run outside the APIC's lock, the kick runs inside it and must not block.
 *
 * <p>Choices where the SDM leaves room, and where tdemu follows KVM: the timer counts at
 * {@code 1 / busCycleNs} GHz (KVM's apic_bus_cycle_ns, 1 ns by default; QEMU's APIC counts in
 * ns too); x2APIC and the TSC-deadline timer exist when the {@link CpuidFeatures} offer them; the
 * x2APIC ID is the initial APIC ID; EOI broadcast suppression is not offered (version bit 24
 * clear); at RESET the BSP's LINT0 is in ExtINT mode, unmasked, as KVM's LINT0_REENABLED quirk
 * and QEMU leave it (what firmware would have programmed); a global disable through
 * IA32_APIC_BASE returns the registers to their power-up state; lowest-priority IPIs are sent
 * (KVM, QEMU) rather than refused.
 */
public final class LocalApic implements MmioDevice, TimedDevice, ApicCpuInterface {

    /** The version register's version field: an integrated xAPIC (KVM and QEMU report 0x14). */
    public static final int VERSION = 0x14;
    /** Six LVT entries, timer to error: the version register's "max LVT entry" is 5. */
    public static final int MAX_LVT_ENTRY = ApicLvt.values().length - 1;
    /** KVM's default APIC bus cycle: the timer counts at 1 GHz before division. */
    public static final long DEFAULT_BUS_CYCLE_NS = 1;
    /** The register page. */
    public static final long MMIO_SIZE = 0x1000;

    /**
     * ESR bit 4: only processors that cannot send lowest-priority IPIs set it (some Core Duo); the
     * CPU tdemu models sends them, as KVM and QEMU do, so it is never set.
     */
    public static final int ESR_REDIRECTABLE_IPI = 1 << 4;
    public static final int ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
    public static final int ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
    public static final int ESR_ILLEGAL_REGISTER_ADDRESS = 1 << 7;

    public static final int SVR_APIC_ENABLED = 1 << 8;
    public static final int SVR_FOCUS_DISABLED = 1 << 9;
    /** Bit 12 (EOI broadcast suppression) is reserved because the version register does not offer it. */
    private static final int SVR_WRITABLE = 0xFF | SVR_APIC_ENABLED | SVR_FOCUS_DISABLED;

    private static final int FIRST_LEGAL_VECTOR = 16;
    /** The ICR of an x2APIC SELF IPI: fixed, edge, asserted, to self (KVM sends it as APIC_DEST_SELF | vector). */
    private static final long SELF_IPI_LOW = (1L << 14) | ((long) ApicIcr.Shorthand.SELF.ordinal() << 18);

    private final int initialApicId;
    private final boolean bsp;
    private final Clock clock;
    private final CpuidFeatures features;
    private final int physicalAddressBits;
    private final GuestTsc tsc;
    private final ApicIpiSink ipiSink;
    private final LocalApicTimer timer;
    private final InterruptLine lint0 = new Lint(ApicLvt.LINT0);
    private final InterruptLine lint1 = new Lint(ApicLvt.LINT1);

    private volatile ApicEoiListener eoiListener = ApicEoiListener.NONE;
    private volatile ApicExtIntSource extInt = ApicExtIntSource.NONE;
    private volatile ApicBaseListener baseListener = ApicBaseListener.NONE;
    private volatile Runnable kick = () -> { };

    private ApicBase apicBase;
    private int id;
    private int tpr;
    private int ldr;
    private int dfr;
    private int svr;
    private final int[] isr = new int[8];
    private final int[] tmr = new int[8];
    private final int[] irr = new int[8];
    private int esr;
    private int errors;
    private boolean errorInterruptArmed;
    private long icr;
    private final int[] lvt = new int[ApicLvt.values().length];
    private final boolean[] lintLevel = new boolean[2];
    private int nmiRequests;
    private boolean smiRequest;
    private boolean initRequest;
    private int startupVector = -1;
    /** An I/O APIC's ExtINT message: the next INTA goes to the 8259 PIC whatever LINT0 says. */
    private boolean extIntMessage;

    /**
     * @param apicId     the initial APIC ID (CPUID.01H:EBX[31:24], CPUID.0BH:EDX, the x2APIC ID), 0-254
     * @param bsp        whether this is the bootstrap processor (IA32_APIC_BASE.BSP)
     * @param busCycleNs ns per APIC bus cycle, the timer's input before division
     * @param features   what CPUID offers: x2APIC, the TSC-deadline timer, MAXPHYADDR (IA32_APIC_BASE bits at
     *                   and above it are reserved)
     * @param tsc        this vCPU's time-stamp counter on {@code clock}, for the TSC-deadline timer
     * @param ipiSink    where IPIs go that are not for this APIC alone
     */
    public LocalApic(int apicId, boolean bsp, Clock clock, long busCycleNs, CpuidFeatures features, GuestTsc tsc,
            ApicIpiSink ipiSink) {
        if (apicId < 0 || apicId >= ApicIcr.BROADCAST) {
            throw new IllegalArgumentException("an xAPIC ID is 0-254 (0xFF is the broadcast address): " + apicId);
        }
        if (tsc.clock() != clock) {
            throw new IllegalArgumentException("the vCPU's TSC must count on the APIC's clock");
        }
        this.initialApicId = apicId;
        this.bsp = bsp;
        this.clock = clock;
        this.features = features;
        this.physicalAddressBits = features.physicalAddressBits();
        this.tsc = tsc;
        this.ipiSink = ipiSink;
        this.timer = new LocalApicTimer(busCycleNs, tsc);
        reset();
    }

    /** The engine's CPUID profile with another MAXPHYADDR and a 1 GHz TSC. */
    public LocalApic(int apicId, boolean bsp, Clock clock, long busCycleNs, int physicalAddressBits, ApicIpiSink ipiSink) {
        this(apicId, bsp, clock, busCycleNs, CpuidFeatures.UNICORN_QEMU64.withPhysicalAddressBits(physicalAddressBits),
                GuestTsc.oneGigahertz(clock), ipiSink);
    }

    /**
     * A 1 GHz APIC bus, a 1 GHz TSC and the engine's CPUID profile ({@link CpuidFeatures#UNICORN_QEMU64}: 40
     * physical address bits, x2APIC, TSC-deadline).
     */
    public LocalApic(int apicId, boolean bsp, Clock clock, ApicIpiSink ipiSink) {
        this(apicId, bsp, clock, DEFAULT_BUS_CYCLE_NS, CpuidFeatures.UNICORN_QEMU64, GuestTsc.oneGigahertz(clock), ipiSink);
    }

    // ---- wiring ----

    /** The I/O APIC ({@link IoApic}) that wants broadcast EOIs for level-triggered vectors. */
    public void setEoiListener(ApicEoiListener listener) {
        this.eoiListener = listener;
    }

    /** The 8259 PIC that answers ExtINT acknowledge cycles. */
    public void setExtIntSource(ApicExtIntSource source) {
        this.extInt = source;
    }

    /** Who re-maps the APIC page when IA32_APIC_BASE moves or hides it. */
    public void setBaseListener(ApicBaseListener listener) {
        this.baseListener = listener;
    }

    /**
     * Run whenever the APIC has something new for the core (an interrupt became deliverable, an
     * NMI/SMI/INIT/SIPI request, the PIC's line rose): the emulator leaves HLT or the engine. Runs
     * under the APIC's lock: it must only set a flag or unpark a thread.
     */
    public void setKick(Runnable kick) {
        this.kick = kick;
    }

    /** The LINT0 pin (the 8259 PIC's INT output on a PC). */
    public InterruptLine lint0() {
        return lint0;
    }

    /** The LINT1 pin (NMI on a PC). */
    public InterruptLine lint1() {
        return lint1;
    }

    // ---- reset ----

    /**
     * RESET: power-up state (SDM "Local APIC State After Power-Up or Reset"), IA32_APIC_BASE
     * included. The base listener is not told: whoever resets the machine maps the page at
     * {@link #apicBase()} again and asks {@link #nextDeadline()}.
     */
    public synchronized void reset() {
        apicBase = ApicBase.atReset(bsp);
        id = initialApicId;
        resetRegisters();
        clearRequests();
    }

    /**
     * INIT: as RESET except that the APIC ID and IA32_APIC_BASE keep their values, so an APIC in
     * x2APIC mode stays in it (with its derived LDR) and a disabled one stays disabled (SDM
     * "x2APIC State Transitions").
     */
    public synchronized void init() {
        resetRegisters();
        clearRequests();
    }

    private void resetRegisters() {
        tpr = 0;
        ldr = apicBase.mode() == ApicBase.Mode.X2APIC ? x2apicLdr(id) : 0;
        dfr = 0xFFFF_FFFF;
        svr = 0xFF;
        java.util.Arrays.fill(isr, 0);
        java.util.Arrays.fill(tmr, 0);
        java.util.Arrays.fill(irr, 0);
        esr = 0;
        errors = 0;
        errorInterruptArmed = true;
        icr = 0;
        java.util.Arrays.fill(lvt, ApicLvtEntry.MASKED);
        if (bsp) {
            // Virtual-wire mode as firmware leaves it: PIC interrupts reach the BSP through LINT0.
            lvt[ApicLvt.LINT0.ordinal()] = ApicDeliveryMode.EXTINT.field() << 8;
        }
        timer.reset();
    }

    private void clearRequests() {
        nmiRequests = 0;
        smiRequest = false;
        initRequest = false;
        startupVector = -1;
        extIntMessage = false;
    }

    /** The x2APIC logical ID: cluster (ID bits 31:4) in bits 31:16, one bit for ID bits 3:0 in 15:0 (SDM). */
    static int x2apicLdr(int x2apicId) {
        return ((x2apicId >>> 4) << 16) | (1 << (x2apicId & 0xF));
    }

    // ---- state for the emulator and tests ----

    public int initialApicId() {
        return initialApicId;
    }

    /** The current APIC ID: in xAPIC mode the 8-bit ID software can change, in x2APIC mode the 32-bit x2APIC ID. */
    public synchronized int apicId() {
        return id;
    }

    /** IA32_APIC_BASE says x2APIC mode (EN and EXTD). */
    public synchronized boolean x2apicMode() {
        return apicBase.mode() == ApicBase.Mode.X2APIC;
    }

    /** The CPUID profile this APIC follows (x2APIC, TSC-deadline). */
    public CpuidFeatures features() {
        return features;
    }

    /** This vCPU's time-stamp counter: RDTSC, IA32_TIME_STAMP_COUNTER and the TSC-deadline timer use it. */
    public GuestTsc tsc() {
        return tsc;
    }

    /** PPR, what lowest-priority arbitration compares. */
    public synchronized int processorPriority() {
        return ppr();
    }

    public synchronized ApicBase apicBase() {
        return apicBase;
    }

    /** IA32_APIC_BASE.EN: the APIC page exists and the APIC takes part in interrupt delivery. */
    public synchronized boolean hardwareEnabled() {
        return apicBase.enabled();
    }

    /** SVR bit 8. */
    public synchronized boolean softwareEnabled() {
        return (svr & SVR_APIC_ENABLED) != 0;
    }

    /**
     * Whether a physical address falls in this APIC's register page: only in xAPIC mode (a
     * globally disabled APIC and one in x2APIC mode decode no page).
     */
    public synchronized boolean covers(long physicalAddress) {
        return apicBase.mmioDecoded() && Long.compareUnsigned(physicalAddress - apicBase.base(), MMIO_SIZE) < 0;
    }

    public synchronized ApicLvtEntry lvt(ApicLvt which) {
        return new ApicLvtEntry(lvt[which.ordinal()]);
    }

    /** Timer periods folded into an already-counted expiry because the emulator checked late. */
    public synchronized long timerCoalesced() {
        return timer.coalesced();
    }

    // ---- MMIO ----

    /**
     * Registers are 32 bits at 16-byte aligned offsets; reads of 1, 2, 4 or 8 bytes see each
     * register followed by 12 bytes of zeros. A reserved offset reads 0 and sets ESR "illegal
     * register address". While the APIC is globally disabled or in x2APIC mode the page reads
     * all-ones (SDM: x2APIC mode's MMIO behaves as a disabled xAPIC's; KVM's MMIO-hole quirk).
     */
    @Override
    public synchronized long read(long offset, int size) {
        if (!apicBase.mmioDecoded()) {
            return PortBus.mask(size);
        }
        long now = clock.nanos();
        catchUpTimer(now);
        long result = 0;
        for (int i = 0; i < size; ) {
            long address = offset + i;
            int within = (int) (address & 0xF);
            int n = Math.min(size - i, 16 - within);
            long register = Integer.toUnsignedLong(readRegister((int) (address & ~0xFL), now));
            long bytes = within < 4 ? register >>> (8 * within) : 0;
            result |= (bytes & PortBus.mask(n)) << (8 * i);
            i += n;
        }
        return result;
    }

    /**
     * Only 32-bit writes at 16-byte aligned offsets reach a register (SDM "all 32-bit registers
     * should be accessed using 128-bit aligned 32-bit loads or stores"); other writes are ignored,
     * as KVM does. Writes to read-only registers are ignored; a reserved offset sets ESR "illegal
     * register address". Ignored while the APIC is globally disabled or in x2APIC mode.
     */
    @Override
    public void write(long offset, int size, long value) {
        Outbox out = new Outbox();
        synchronized (this) {
            if (!apicBase.mmioDecoded() || size != 4 || (offset & 0xF) != 0) {
                return;
            }
            long now = clock.nanos();
            catchUpTimer(now);
            writeRegister((int) offset, (int) value, now, out);
        }
        dispatch(out);
    }

    private int readRegister(int offset, long now) {
        Optional<ApicRegister> at = ApicRegister.at(offset);
        if (at.isEmpty()) {
            error(ESR_ILLEGAL_REGISTER_ADDRESS);
            return 0;
        }
        ApicRegister r = at.get();
        return switch (r) {
            case ID -> x2apicMode() ? id : id << 24;
            case VERSION -> VERSION | (MAX_LVT_ENTRY << 16);
            case TPR -> tpr;
            case APR, EOI, RRD -> 0;
            case PPR -> ppr();
            case LDR -> ldr;
            case DFR -> dfr;
            case SVR -> svr;
            case ISR -> isr[r.slot(offset)];
            case TMR -> tmr[r.slot(offset)];
            case IRR -> irr[r.slot(offset)];
            case ESR -> esr;
            case ICR_LOW -> (int) icr;
            case ICR_HIGH -> (int) (icr >>> 32);
            case LVT_TIMER, LVT_THERMAL, LVT_PMC, LVT_LINT0, LVT_LINT1, LVT_ERROR -> lvt[lvtOf(r).ordinal()];
            case TIMER_INITIAL_COUNT -> timer.initialCount();
            case TIMER_CURRENT_COUNT -> timer.currentCount(now);
            case TIMER_DIVIDE_CONFIG -> timer.divideConfiguration();
            case LVT_CMCI, SELF_IPI -> {
                // CMCI needs MCG_CAP.MCG_CMCI_P (not offered); SELF IPI exists in x2APIC mode only, as a write-only MSR.
                error(ESR_ILLEGAL_REGISTER_ADDRESS);
                yield 0;
            }
        };
    }

    private void writeRegister(int offset, int value, long now, Outbox out) {
        Optional<ApicRegister> at = ApicRegister.at(offset);
        if (at.isEmpty()) {
            error(ESR_ILLEGAL_REGISTER_ADDRESS);
            return;
        }
        ApicRegister r = at.get();
        switch (r) {
            case ID -> id = value >>> 24;
            case TPR -> {
                tpr = value & 0xFF;
                kickIfDeliverable();
            }
            case EOI -> eoi(out);
            case LDR -> ldr = value & 0xFF00_0000;
            case DFR -> dfr = value | 0x0FFF_FFFF;
            case SVR -> writeSvr(value);
            case ESR -> {
                // Write-then-read: the write latches the errors seen since the last write and re-arms the error interrupt.
                esr = errors;
                errors = 0;
                errorInterruptArmed = true;
            }
            case ICR_LOW -> {
                icr = (icr & 0xFFFF_FFFF_0000_0000L) | (value & ApicIcr.LOW_WRITABLE);
                sendIpi(new ApicIcr(icr), out);
            }
            case ICR_HIGH -> icr = (icr & 0xFFFF_FFFFL) | (Integer.toUnsignedLong(value & ApicIcr.HIGH_WRITABLE_XAPIC) << 32);
            case LVT_TIMER, LVT_THERMAL, LVT_PMC, LVT_LINT0, LVT_LINT1, LVT_ERROR -> writeLvt(lvtOf(r), value);
            case TIMER_INITIAL_COUNT -> timer.setInitialCount(value, now);
            case TIMER_DIVIDE_CONFIG -> timer.setDivideConfiguration(value, now);
            case VERSION, APR, PPR, RRD, ISR, TMR, IRR, TIMER_CURRENT_COUNT -> { } // read-only
            case LVT_CMCI, SELF_IPI -> error(ESR_ILLEGAL_REGISTER_ADDRESS);
        }
    }

    // ---- x2APIC MSRs ----

    /**
     * RDMSR of an x2APIC register (0x800-0x8FF, SDM "x2APIC Register Address Space"): #GP unless
     * the APIC is in x2APIC mode, for the reserved indices (APR, RRD, DFR, ICR high, LVT CMCI
     * without CMCI, the gaps) and for the write-only EOI and SELF IPI. The ID is the 32-bit x2APIC
     * ID; the ICR (0x830) is one 64-bit register with the destination in bits 63:32.
     */
    public synchronized MsrRead readX2apicMsr(int index) {
        Optional<ApicRegister> at = x2apicRegister(index);
        if (at.isEmpty()) {
            return new MsrRead.Gp(x2apicRefusal(index));
        }
        ApicRegister r = at.get();
        long now = clock.nanos();
        catchUpTimer(now);
        return switch (r) {
            case EOI, SELF_IPI -> new MsrRead.Gp(MsrIndex.name(index) + " is write-only");
            case ICR_LOW -> new MsrRead.Value(icr);
            default -> new MsrRead.Value(Integer.toUnsignedLong(readRegister(x2apicOffset(index), now)));
        };
    }

    /**
     * WRMSR of an x2APIC register: #GP unless in x2APIC mode, for reserved indices, read-only
     * registers (ID, version, PPR, LDR, ISR, TMR, IRR, current count), non-zero bits 63:32 (all
     * registers but the ICR), set reserved bits (SDM "Reserved Bit Checking"; the read-only status
     * bits of an LVT may be written back), and a non-zero write to EOI or ESR. A write to the ICR
     * sends the IPI; SELF IPI (0x83F) sends a fixed edge IPI with bits 7:0 as vector to this APIC.
     */
    public MsrWrite writeX2apicMsr(int index, long value) {
        Outbox out = new Outbox();
        MsrWrite result;
        synchronized (this) {
            result = writeX2apicLocked(index, value, out);
        }
        dispatch(out);
        return result;
    }

    private MsrWrite writeX2apicLocked(int index, long value, Outbox out) {
        Optional<ApicRegister> at = x2apicRegister(index);
        if (at.isEmpty()) {
            return new MsrWrite.Gp(x2apicRefusal(index));
        }
        ApicRegister r = at.get();
        String name = MsrIndex.name(index);
        long now = clock.nanos();
        catchUpTimer(now);
        if (r == ApicRegister.ICR_LOW) {
            if ((value & ApicIcr.X2APIC_RESERVED) != 0) {
                return MsrWrite.gp("%s 0x%x: reserved bits 0x%x", name, value, value & ApicIcr.X2APIC_RESERVED);
            }
            icr = value & ~(long) ApicLvtEntry.DELIVERY_STATUS; // delivery is instantaneous: never busy
            sendIpi(new ApicIcr(icr, true), out);
            return MsrWrite.DONE;
        }
        if ((value >>> 32) != 0) {
            return MsrWrite.gp("%s 0x%x: bits 63:32 are reserved", name, value);
        }
        int v = (int) value;
        int reserved;
        switch (r) {
            case ID, VERSION, PPR, LDR, ISR, TMR, IRR, TIMER_CURRENT_COUNT -> {
                return MsrWrite.gp("%s is read-only in x2APIC mode", name);
            }
            case EOI, ESR -> reserved = v; // SDM: a non-zero write raises #GP
            case TPR, SELF_IPI -> reserved = v & ~0xFF;
            case SVR -> reserved = v & ~SVR_WRITABLE;
            case LVT_TIMER, LVT_THERMAL, LVT_PMC, LVT_LINT0, LVT_LINT1, LVT_ERROR -> {
                ApicLvt which = lvtOf(r);
                reserved = v & ~(lvtWritableMask(which) | which.readOnlyMask());
            }
            case TIMER_DIVIDE_CONFIG -> reserved = v & ~0xB;
            case TIMER_INITIAL_COUNT -> reserved = 0;
            case APR, RRD, DFR, ICR_HIGH, ICR_LOW, LVT_CMCI -> throw new IllegalStateException(r + " has no x2APIC MSR");
            default -> throw new IllegalStateException("unhandled x2APIC register " + r);
        }
        if (reserved != 0) {
            return MsrWrite.gp("%s 0x%x: reserved bits 0x%x", name, value, reserved);
        }
        if (r == ApicRegister.SELF_IPI) {
            sendIpi(new ApicIcr(SELF_IPI_LOW | (v & 0xFF), true), out);
        } else {
            writeRegister(x2apicOffset(index), v, now, out);
        }
        return MsrWrite.DONE;
    }

    /** The register an x2APIC MSR reaches in x2APIC mode; empty when the access raises #GP whatever its value. */
    private Optional<ApicRegister> x2apicRegister(int index) {
        if (!x2apicMode()) {
            return Optional.empty();
        }
        return ApicRegister.atMsr(index).filter(r -> r != ApicRegister.LVT_CMCI);
    }

    private String x2apicRefusal(int index) {
        if (!x2apicMode()) {
            return MsrIndex.name(index) + ": the local APIC is not in x2APIC mode (" + apicBase.mode() + ")";
        }
        return MsrIndex.name(index) + " is a reserved x2APIC register address";
    }

    private static int x2apicOffset(int index) {
        return (index - ApicRegister.X2APIC_MSR_BASE) << 4;
    }

    private static ApicLvt lvtOf(ApicRegister r) {
        return ApicLvt.of(r).orElseThrow();
    }

    private void writeSvr(int value) {
        svr = value & SVR_WRITABLE;
        if ((svr & SVR_APIC_ENABLED) == 0) {
            // Software disable masks every LVT entry; they stay masked until the APIC is enabled again.
            for (int i = 0; i < lvt.length; i++) {
                lvt[i] |= ApicLvtEntry.MASKED;
            }
        } else {
            kickIfDeliverable();
        }
    }

    /** The LVT bits software can set: the entry's own, plus the TSC-deadline mode bit when CPUID offers it. */
    private int lvtWritableMask(ApicLvt which) {
        int mask = which.writableMask();
        if (which == ApicLvt.TIMER && features.tscDeadline()) {
            mask |= ApicLvtEntry.TIMER_MODE_TSC_DEADLINE;
        }
        return mask;
    }

    private void writeLvt(ApicLvt which, int value) {
        int v = value & lvtWritableMask(which);
        if ((svr & SVR_APIC_ENABLED) == 0) {
            v |= ApicLvtEntry.MASKED;
        }
        if (isLint(which) && new ApicLvtEntry(v).fixedLevel()) {
            v |= lvt[which.ordinal()] & ApicLvtEntry.REMOTE_IRR;
        }
        lvt[which.ordinal()] = v;
        switch (which) {
            case TIMER -> timer.setMode(new ApicLvtEntry(v).timerMode());
            case LINT0, LINT1 -> evaluateLint(which, false);
            case THERMAL, PERFORMANCE_COUNTER, ERROR -> { } // no source in tdemu raises them
        }
    }

    private static boolean isLint(ApicLvt which) {
        return which == ApicLvt.LINT0 || which == ApicLvt.LINT1;
    }

    // ---- priorities ----

    /** PPR per the SDM: TPR if its class is at least the in-service class, else the in-service class. */
    private int ppr() {
        int isrv = Math.max(highest(isr), 0);
        return (tpr & 0xF0) >= (isrv & 0xF0) ? tpr & 0xFF : isrv & 0xF0;
    }

    private int pendingVectorLocked() {
        if (!apicBase.enabled()) {
            return -1;
        }
        int v = highest(irr);
        return v < 0 || (v & 0xF0) <= (ppr() & 0xF0) ? -1 : v;
    }

    private void kickIfDeliverable() {
        if (pendingVectorLocked() >= 0) {
            kick.run();
        }
    }

    private boolean acceptFixed(int vector, ApicTriggerMode trigger) {
        if (!apicBase.enabled() || (svr & SVR_APIC_ENABLED) == 0) {
            return false; // a disabled APIC drops fixed interrupts (KVM's apic_enabled check)
        }
        if (vector < FIRST_LEGAL_VECTOR) {
            error(ESR_RECEIVE_ILLEGAL_VECTOR);
            return false;
        }
        boolean alreadyRequested = testBit(irr, vector);
        setBit(irr, vector);
        if (trigger == ApicTriggerMode.LEVEL) {
            setBit(tmr, vector);
        } else {
            clearBit(tmr, vector);
        }
        if (!alreadyRequested) {
            // A vector already in IRR coalesces: the core was told when it arrived, and kicking it
            // again for every expiry of a timer faster than it takes interrupts stops it for nothing.
            kickIfDeliverable();
        }
        return true;
    }

    private void eoi(Outbox out) {
        int vector = highest(isr);
        if (vector < 0) {
            return; // nothing in service: the write has no effect
        }
        clearBit(isr, vector);
        if (testBit(tmr, vector)) {
            lintEoi(vector);
            out.eoiVector = vector; // broadcast EOI: suppression is not offered
        }
        kickIfDeliverable();
    }

    // ---- errors ----

    /** Records an error for the next ESR write; raises the LVT error interrupt once per ESR write, if unmasked. */
    private void error(int bit) {
        errors |= bit;
        ApicLvtEntry e = new ApicLvtEntry(lvt[ApicLvt.ERROR.ordinal()]);
        if (errorInterruptArmed && apicBase.enabled() && !e.masked()) {
            errorInterruptArmed = false;
            acceptFixed(e.vector(), ApicTriggerMode.EDGE);
        }
    }

    // ---- IPIs ----

    private void sendIpi(ApicIcr message, Outbox out) {
        ApicDeliveryMode mode = message.deliveryMode();
        if ((mode == ApicDeliveryMode.FIXED || mode == ApicDeliveryMode.LOWEST_PRIORITY) && message.vector() < FIRST_LEGAL_VECTOR) {
            error(ESR_SEND_ILLEGAL_VECTOR);
            return;
        }
        if (destinedOnlyToSelf(message) && deliveredLocally(mode)) {
            receive(message);
            return;
        }
        // Lowest-priority IPIs go out too: KVM and QEMU deliver them (the bus arbitrates), and only
        // processors that cannot send them report ESR "redirectable IPI".
        out.ipi = message;
    }

    private boolean destinedOnlyToSelf(ApicIcr message) {
        return switch (message.shorthand()) {
            case SELF -> true;
            case NONE -> !message.logical() && message.destination() == id && message.destination() != message.broadcast();
            case ALL_INCLUDING_SELF, ALL_EXCLUDING_SELF -> false;
        };
    }

    /** Modes a message to this APIC alone can take without the bus (a lowest-priority choice among one is this APIC). */
    private static boolean deliveredLocally(ApicDeliveryMode mode) {
        return switch (mode) {
            case FIXED, LOWEST_PRIORITY, NMI, SMI, INIT, STARTUP -> true;
            case REMOTE_READ, EXTINT -> false;
        };
    }

    /**
     * The receiving side of a message the {@link ApicBus} routed here: an IPI, or an I/O APIC
     * message (which may be ExtINT: the next INTA then goes to the 8259 PIC).
     *
     * @return whether it was accepted (KVM's __apic_accept_irq result): a fixed interrupt is refused
     *         by a disabled APIC or with an illegal vector; an INIT level de-assert is not an INIT
     */
    public synchronized boolean acceptIpi(ApicIcr message) {
        return receive(message);
    }

    private boolean receive(ApicIcr message) {
        if (!apicBase.enabled()) {
            return false;
        }
        switch (message.deliveryMode()) {
            case FIXED, LOWEST_PRIORITY -> {
                return (message.triggerMode() == ApicTriggerMode.EDGE || message.assertLevel())
                        && acceptFixed(message.vector(), message.triggerMode());
            }
            case NMI -> requestNmi();
            case SMI -> {
                smiRequest = true;
                kick.run();
            }
            case INIT -> {
                if (message.initLevelDeassert()) {
                    return false; // only synchronises arbitration IDs on old buses
                }
                initRequest = true;
                startupVector = -1; // an INIT supersedes a start-up not yet taken (KVM sets pending_events to INIT alone)
                kick.run();
            }
            case STARTUP -> {
                startupVector = message.vector();
                kick.run();
            }
            case EXTINT -> {
                extIntMessage = true;
                kick.run();
            }
            case REMOTE_READ -> throw new IllegalArgumentException("not a message a local APIC accepts: " + message);
        }
        return true;
    }

    /**
     * Whether this APIC is a destination of {@code message} sent by {@code source}, or by an I/O
     * APIC when {@code source} is null (KVM's kvm_apic_match_dest): shorthands; in physical mode
     * the APIC ID or the broadcast address of this APIC's mode (0xFF, 0xFFFFFFFF); in logical mode
     * the LDR against the destination, flat or cluster by the DFR in xAPIC mode, cluster in bits
     * 31:16 and a member bitmap in 15:0 in x2APIC mode. An I/O APIC's 8-bit broadcast 0xFF reaches
     * x2APIC-mode APICs as the x2APIC broadcast (KVM's x2APIC broadcast quirk; there is no
     * interrupt remapping).
     */
    public synchronized boolean isDestination(ApicIcr message, LocalApic source) {
        if (!apicBase.enabled()) {
            return false;
        }
        return switch (message.shorthand()) {
            case SELF -> source == this;
            case ALL_INCLUDING_SELF -> true;
            case ALL_EXCLUDING_SELF -> source != this;
            case NONE -> {
                int mda = messageDestinationAddress(message, source);
                yield mda == broadcastAddress() || (message.logical() ? matchesLogical(mda) : mda == id);
            }
        };
    }

    private int messageDestinationAddress(ApicIcr message, LocalApic source) {
        int destination = message.destination();
        if (source == null && !message.x2apic() && destination == ApicIcr.BROADCAST && x2apicMode()) {
            return ApicIcr.X2APIC_BROADCAST;
        }
        return destination;
    }

    private int broadcastAddress() {
        return x2apicMode() ? ApicIcr.X2APIC_BROADCAST : ApicIcr.BROADCAST;
    }

    private boolean matchesLogical(int destination) {
        if (x2apicMode()) {
            return (ldr >>> 16) == (destination >>> 16) && (ldr & destination & 0xFFFF) != 0;
        }
        int logicalId = ldr >>> 24;
        return switch (dfr >>> 28) {
            case 0xF -> (logicalId & destination) != 0;
            case 0x0 -> (logicalId >>> 4) == (destination >>> 4) && (logicalId & destination & 0xF) != 0;
            default -> false;
        };
    }

    // ---- LINT pins ----

    private final class Lint implements InterruptLine {
        private final ApicLvt which;

        Lint(ApicLvt which) {
            this.which = which;
        }

        @Override
        public void raise() {
            lintChanged(which, true);
        }

        @Override
        public void lower() {
            lintChanged(which, false);
        }
    }

    private synchronized void lintChanged(ApicLvt which, boolean level) {
        int pin = which == ApicLvt.LINT0 ? 0 : 1;
        boolean rising = level && !lintLevel[pin];
        lintLevel[pin] = level;
        evaluateLint(which, rising);
    }

    private void evaluateLint(ApicLvt which, boolean rising) {
        boolean level = lintLevel[which == ApicLvt.LINT0 ? 0 : 1];
        if (!apicBase.enabled()) {
            // Globally disabled: LINT0 is the INTR pin (the PIC, read through the ExtINT source), LINT1 the NMI pin.
            if (rising) {
                if (which == ApicLvt.LINT1) {
                    requestNmi();
                } else {
                    kick.run();
                }
            }
            return;
        }
        ApicLvtEntry e = new ApicLvtEntry(lvt[which.ordinal()]);
        if (e.masked()) {
            return;
        }
        switch (e.deliveryMode()) {
            case FIXED -> {
                if (e.triggerMode() == ApicTriggerMode.LEVEL) {
                    if (level && !e.remoteIrr()) {
                        acceptFixed(e.vector(), ApicTriggerMode.LEVEL);
                    }
                } else if (rising) {
                    acceptFixed(e.vector(), ApicTriggerMode.EDGE);
                }
            }
            case NMI -> {
                if (rising) {
                    requestNmi();
                }
            }
            case SMI -> {
                if (rising) {
                    smiRequest = true;
                    kick.run();
                }
            }
            case INIT -> {
                if (rising) {
                    initRequest = true;
                    kick.run();
                }
            }
            case EXTINT -> {
                if (level) {
                    kick.run(); // the vector comes from the PIC at acknowledge time
                }
            }
            case LOWEST_PRIORITY, REMOTE_READ, STARTUP -> { } // reserved encodings for an LVT entry: nothing is delivered
        }
    }

    /** A level-triggered fixed LINT interrupt went into service: its remote IRR holds it until the EOI. */
    private void lintAccepted(int vector) {
        for (ApicLvt which : new ApicLvt[] {ApicLvt.LINT0, ApicLvt.LINT1}) {
            ApicLvtEntry e = new ApicLvtEntry(lvt[which.ordinal()]);
            if (e.fixedLevel() && e.vector() == vector && lintLevel[which == ApicLvt.LINT0 ? 0 : 1]) {
                lvt[which.ordinal()] |= ApicLvtEntry.REMOTE_IRR;
            }
        }
    }

    private void lintEoi(int vector) {
        for (ApicLvt which : new ApicLvt[] {ApicLvt.LINT0, ApicLvt.LINT1}) {
            ApicLvtEntry e = new ApicLvtEntry(lvt[which.ordinal()]);
            if (e.remoteIrr() && e.vector() == vector) {
                lvt[which.ordinal()] &= ~ApicLvtEntry.REMOTE_IRR;
                evaluateLint(which, false); // still asserted: delivered again
            }
        }
    }

    private boolean acceptsExtInt() {
        if (!apicBase.enabled() || extIntMessage) {
            return true;
        }
        ApicLvtEntry lint0Entry = new ApicLvtEntry(lvt[ApicLvt.LINT0.ordinal()]);
        return !lint0Entry.masked() && lint0Entry.deliveryMode() == ApicDeliveryMode.EXTINT;
    }

    // ---- CPU side ----

    @Override
    public synchronized boolean acceptInterrupt(int vector, ApicTriggerMode trigger) {
        if (vector < 0 || vector > 0xFF) {
            throw new IllegalArgumentException("an interrupt vector is 0-255: " + vector);
        }
        return acceptFixed(vector, trigger);
    }

    @Override
    public synchronized OptionalInt pendingVector() {
        catchUpTimer(clock.nanos());
        int v = pendingVectorLocked();
        return v < 0 ? OptionalInt.empty() : OptionalInt.of(v);
    }

    @Override
    public boolean hasInterrupt() {
        boolean viaPic;
        synchronized (this) {
            catchUpTimer(clock.nanos());
            if (pendingVectorLocked() >= 0) {
                return true;
            }
            viaPic = acceptsExtInt();
        }
        return viaPic && extInt.pending();
    }

    @Override
    public ApicInterrupt acknowledge() {
        boolean viaPic;
        synchronized (this) {
            catchUpTimer(clock.nanos());
            viaPic = acceptsExtInt();
            extIntMessage = false; // one INTA per ExtINT message; if the PIC's request went away it is moot
        }
        if (viaPic && extInt.pending()) {
            return new ApicInterrupt.ExtInt(extInt.acknowledge());
        }
        synchronized (this) {
            if (apicBase.enabled()) {
                int v = pendingVectorLocked();
                if (v < 0) {
                    return new ApicInterrupt.Spurious(svr & 0xFF);
                }
                clearBit(irr, v);
                setBit(isr, v);
                if (testBit(tmr, v)) {
                    lintAccepted(v);
                }
                return new ApicInterrupt.Fixed(v);
            }
        }
        // Globally disabled: the INTA cycle reaches the PIC, which answers its own spurious vector if nothing is left.
        return new ApicInterrupt.ExtInt(extInt.acknowledge());
    }

    private void requestNmi() {
        nmiRequests = Math.min(nmiRequests + 1, 2);
        kick.run();
    }

    @Override
    public synchronized boolean nmiPending() {
        return nmiRequests > 0;
    }

    @Override
    public synchronized boolean takeNmi() {
        if (nmiRequests == 0) {
            return false;
        }
        nmiRequests--;
        return true;
    }

    @Override
    public synchronized boolean takeSmi() {
        boolean was = smiRequest;
        smiRequest = false;
        return was;
    }

    @Override
    public synchronized boolean takeInit() {
        boolean was = initRequest;
        initRequest = false;
        return was;
    }

    /** Whether an INIT request waits, not taken yet (KVM's KVM_APIC_INIT pending event). */
    public synchronized boolean initPending() {
        return initRequest;
    }

    /** Whether a start-up IPI waits, not taken yet (KVM's KVM_APIC_SIPI pending event). */
    public synchronized boolean startupPending() {
        return startupVector >= 0;
    }

    @Override
    public synchronized OptionalInt takeStartup() {
        int v = startupVector;
        startupVector = -1;
        return v < 0 ? OptionalInt.empty() : OptionalInt.of(v);
    }

    @Override
    public synchronized int cr8() {
        return (tpr >>> 4) & 0xF;
    }

    @Override
    public synchronized void setCr8(int value) {
        if (value < 0 || value > 0xF) {
            throw new IllegalArgumentException("CR8 holds 0-15 (bits 63:4 raise #GP before they reach the APIC): " + value);
        }
        tpr = value << 4;
        kickIfDeliverable();
    }

    // ---- timer ----

    /**
     * The next timer expiry that can raise an interrupt; a masked or stopped timer has none (it is
     * caught up lazily). In TSC-deadline mode it is when the {@link GuestTsc} reaches
     * IA32_TSC_DEADLINE, so it may change after a write to IA32_TIME_STAMP_COUNTER too.
     */
    @Override
    public synchronized long nextDeadline() {
        return timerCanInterrupt() ? timer.deadline(clock.nanos()) : Long.MAX_VALUE;
    }

    @Override
    public synchronized void expire(long now) {
        catchUpTimer(now);
    }

    /**
     * The vector the timer will request at its next expiry, or -1 when it will request none
     * (masked, stopped, a one-shot count that ran out, no TSC deadline, the APIC disabled).
     */
    public synchronized int armedTimerVector() {
        return nextDeadline() != Long.MAX_VALUE ? lvt[ApicLvt.TIMER.ordinal()] & ApicLvtEntry.VECTOR : -1;
    }

    private boolean timerCanInterrupt() {
        return apicBase.enabled() && (lvt[ApicLvt.TIMER.ordinal()] & ApicLvtEntry.MASKED) == 0;
    }

    /** Every access first brings the timer to {@code now}, so a register read or write sees expiries in order. */
    private void catchUpTimer(long now) {
        if (timer.expire(now) && timerCanInterrupt()) {
            acceptFixed(lvt[ApicLvt.TIMER.ordinal()] & ApicLvtEntry.VECTOR, ApicTriggerMode.EDGE);
        }
    }

    // ---- IA32_TSC_DEADLINE ----

    /** RDMSR IA32_TSC_DEADLINE: the armed deadline in TSC-deadline mode, 0 once it fired and in other timer modes. */
    public synchronized long readTscDeadline() {
        catchUpTimer(clock.nanos());
        return timer.tscDeadline();
    }

    /**
     * WRMSR IA32_TSC_DEADLINE: in TSC-deadline mode arms the timer for when the TSC reaches
     * {@code value} (a deadline already passed fires now), 0 disarms; ignored in other modes (SDM).
     * The caller checks CPUID (MsrFile raises #GP without the feature). Ask {@link #nextDeadline()}
     * afterwards.
     */
    public synchronized void writeTscDeadline(long value) {
        long now = clock.nanos();
        catchUpTimer(now);
        timer.setTscDeadline(value);
        catchUpTimer(now);
    }

    // ---- IA32_APIC_BASE ----

    public synchronized long readApicBase() {
        return apicBase.value();
    }

    /**
     * WRMSR to IA32_APIC_BASE (KVM's kvm_apic_set_base): reserved bits (7:0, 9, MAXPHYADDR and
     * up, and EXTD when CPUID does not offer x2APIC) raise #GP; so do the SDM's illegal mode
     * transitions: EXTD without EN (invalid), x2APIC to xAPIC directly (software must disable
     * first) and disabled to x2APIC. The BSP flag is read-only. Clearing EN resets the registers;
     * entering x2APIC mode sets the x2APIC ID to the initial APIC ID and derives the LDR from it,
     * keeping the other registers. Moving the base or changing the mode tells the
     * {@link ApicBaseListener}.
     */
    public MsrWrite writeApicBase(long value) {
        Outbox out = new Outbox();
        MsrWrite result;
        synchronized (this) {
            result = writeApicBaseLocked(value, out);
        }
        dispatch(out);
        return result;
    }

    private MsrWrite writeApicBaseLocked(long value, Outbox out) {
        long reserved = value & ApicBase.reservedBits(physicalAddressBits);
        if (reserved != 0) {
            return MsrWrite.gp("IA32_APIC_BASE 0x%x: reserved bits 0x%x", value, reserved);
        }
        if ((value & ApicBase.X2APIC_ENABLE) != 0 && !features.x2apic()) {
            return MsrWrite.gp("IA32_APIC_BASE 0x%x: x2APIC mode (bit 10) is not offered (CPUID.01H:ECX.x2APIC = 0)", value);
        }
        ApicBase next = new ApicBase((value & ~ApicBase.BSP) | (apicBase.value() & ApicBase.BSP));
        if (next.equals(apicBase)) {
            return MsrWrite.DONE;
        }
        ApicBase.Mode from = apicBase.mode();
        ApicBase.Mode to = next.mode();
        if (to == ApicBase.Mode.INVALID) {
            return MsrWrite.gp("IA32_APIC_BASE 0x%x: EXTD without EN is the invalid state", value);
        }
        if (from == ApicBase.Mode.X2APIC && to == ApicBase.Mode.XAPIC) {
            return MsrWrite.gp("IA32_APIC_BASE 0x%x: x2APIC to xAPIC mode directly is illegal (disable the APIC first)", value);
        }
        if (from == ApicBase.Mode.DISABLED && to == ApicBase.Mode.X2APIC) {
            return MsrWrite.gp("IA32_APIC_BASE 0x%x: disabled to x2APIC mode directly is illegal (enable xAPIC mode first)",
                    value);
        }
        ApicBase previous = apicBase;
        apicBase = next;
        if (previous.enabled() && !next.enabled()) {
            // SDM: a global disable may return the APIC to its power-up state; tdemu always does.
            id = initialApicId;
            resetRegisters();
        } else if (from == ApicBase.Mode.XAPIC && to == ApicBase.Mode.X2APIC) {
            // The physical x2APIC ID is the hardware's (the initial ID), the logical one is derived from it.
            id = initialApicId;
            ldr = x2apicLdr(id);
        }
        out.basePrevious = previous;
        out.baseCurrent = next;
        return MsrWrite.DONE;
    }

    // ---- callbacks outside the lock ----

    private static final class Outbox {
        ApicIcr ipi;
        int eoiVector = -1;
        ApicBase basePrevious;
        ApicBase baseCurrent;
    }

    private void dispatch(Outbox out) {
        if (out.ipi != null) {
            ipiSink.send(this, out.ipi);
        }
        if (out.eoiVector >= 0) {
            eoiListener.eoi(out.eoiVector);
        }
        if (out.baseCurrent != null) {
            baseListener.apicBaseChanged(out.basePrevious, out.baseCurrent);
        }
    }

    // ---- 256-bit registers ----

    private static int highest(int[] bits) {
        for (int i = 7; i >= 0; i--) {
            if (bits[i] != 0) {
                return i * 32 + 31 - Integer.numberOfLeadingZeros(bits[i]);
            }
        }
        return -1;
    }

    private static void setBit(int[] bits, int vector) {
        bits[vector >>> 5] |= 1 << (vector & 31);
    }

    private static void clearBit(int[] bits, int vector) {
        bits[vector >>> 5] &= ~(1 << (vector & 31));
    }

    private static boolean testBit(int[] bits, int vector) {
        return (bits[vector >>> 5] & (1 << (vector & 31))) != 0;
    }

    @Override
    public synchronized String toString() {
        return String.format("LocalApic[id=%d %s svr=0x%x tpr=0x%x ppr=0x%x isr=%d irr=%d]", id, apicBase, svr, tpr, ppr(),
                highest(isr), highest(irr));
    }
}
