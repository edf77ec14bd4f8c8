package dev.tdemu.core.pc;

import dev.tdemu.core.platform.Clock;
import dev.tdemu.core.platform.InterruptLine;
import dev.tdemu.core.platform.MmioDevice;
import dev.tdemu.core.platform.PortBus;
import dev.tdemu.core.platform.TimedDevice;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * The local APIC of one vCPU in xAPIC mode (Intel SDM vol. 3A, "Advanced Programmable Interrupt
 * Controller"): the register page at the base in IA32_APIC_BASE, priorities (TPR, PPR, ISR, IRR,
 * TMR, EOI), the error status register, the local vector table with LINT0/LINT1 inputs, the
 * timer, and the ICR for self-IPIs (other IPIs go to an {@link ApicIpiSink}).
 *
 * <p>Three sides: the guest's MMIO accesses ({@link MmioDevice}); the processor core
 * ({@link ApicCpuInterface}); the emulator's timekeeping ({@link TimedDevice}; the timer is
 * computed from the {@link Clock}, so {@link #expire} is only needed to deliver the interrupt on
 * time). Every method is thread-safe; callbacks to other devices (the IPI sink, the EOI listener,
 * the PIC, the base listener) run outside the APIC's lock, the kick runs inside it and must not
 * block.
 *
 * <p>Choices where the SDM leaves room, and where tdemu follows KVM: the timer counts at
 * {@code 1 / busCycleNs} GHz (KVM's apic_bus_cycle_ns, 1 ns by default; QEMU's APIC counts in
 * ns too); TSC-deadline mode and x2APIC are not offered (CPUID does not advertise them); EOI
 * broadcast suppression is not offered (version bit 24 clear); at RESET the BSP's LINT0 is in
 * ExtINT mode, unmasked, as KVM's LINT0_REENABLED quirk and QEMU leave it (what firmware would
 * have programmed); a global disable through IA32_APIC_BASE returns the registers to their
 * power-up state.
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

    public static final int ESR_REDIRECTABLE_IPI = 1 << 4;
    public static final int ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
    public static final int ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
    public static final int ESR_ILLEGAL_REGISTER_ADDRESS = 1 << 7;

    public static final int SVR_APIC_ENABLED = 1 << 8;
    public static final int SVR_FOCUS_DISABLED = 1 << 9;
    /** Bit 12 (EOI broadcast suppression) is reserved because the version register does not offer it. */
    private static final int SVR_WRITABLE = 0xFF | SVR_APIC_ENABLED | SVR_FOCUS_DISABLED;

    private static final int FIRST_LEGAL_VECTOR = 16;

    private final int initialApicId;
    private final boolean bsp;
    private final Clock clock;
    private final int physicalAddressBits;
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

    /**
     * @param apicId              the initial APIC ID (CPUID.01H:EBX[31:24]), 0-254
     * @param bsp                 whether this is the bootstrap processor (IA32_APIC_BASE.BSP)
     * @param busCycleNs          ns per APIC bus cycle, the timer's input before division
     * @param physicalAddressBits MAXPHYADDR: IA32_APIC_BASE bits at and above it are reserved
     * @param ipiSink             where IPIs go that are not for this APIC alone
     */
    public LocalApic(int apicId, boolean bsp, Clock clock, long busCycleNs, int physicalAddressBits, ApicIpiSink ipiSink) {
        if (apicId < 0 || apicId >= ApicIcr.BROADCAST) {
            throw new IllegalArgumentException("an xAPIC ID is 0-254 (0xFF is the broadcast address): " + apicId);
        }
        if (physicalAddressBits < 36 || physicalAddressBits > 52) {
            throw new IllegalArgumentException("MAXPHYADDR must be 36-52: " + physicalAddressBits);
        }
        this.initialApicId = apicId;
        this.bsp = bsp;
        this.clock = clock;
        this.physicalAddressBits = physicalAddressBits;
        this.ipiSink = ipiSink;
        this.timer = new LocalApicTimer(busCycleNs);
        reset();
    }

    /** A 1 GHz APIC bus and 40 physical address bits (QEMU's TCG default, and {@link CpuidModel}'s). */
    public LocalApic(int apicId, boolean bsp, Clock clock, ApicIpiSink ipiSink) {
        this(apicId, bsp, clock, DEFAULT_BUS_CYCLE_NS, CpuidFeatures.PHYSICAL_ADDRESS_BITS, ipiSink);
    }

    // ---- wiring ----

    /** The I/O APIC (part 2) that wants broadcast EOIs for level-triggered vectors. */
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

    /** INIT: as RESET except that the APIC ID and IA32_APIC_BASE keep their values. */
    public synchronized void init() {
        resetRegisters();
        clearRequests();
    }

    private void resetRegisters() {
        tpr = 0;
        ldr = 0;
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
    }

    // ---- state for the emulator and tests ----

    public int initialApicId() {
        return initialApicId;
    }

    /** The current xAPIC ID (software can change it through the ID register). */
    public synchronized int apicId() {
        return id;
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

    /** Whether a physical address falls in this APIC's register page (false while the APIC is globally disabled). */
    public synchronized boolean covers(long physicalAddress) {
        return apicBase.enabled() && Long.compareUnsigned(physicalAddress - apicBase.base(), MMIO_SIZE) < 0;
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
     * register address". While the APIC is globally disabled the page reads all-ones.
     */
    @Override
    public synchronized long read(long offset, int size) {
        if (!apicBase.enabled()) {
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
     * register address".
     */
    @Override
    public void write(long offset, int size, long value) {
        Outbox out = new Outbox();
        synchronized (this) {
            if (!apicBase.enabled() || size != 4 || (offset & 0xF) != 0) {
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
            case ID -> id << 24;
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
                // CMCI needs MCG_CAP.MCG_CMCI_P, SELF IPI needs x2APIC mode: neither is offered.
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

    private void writeLvt(ApicLvt which, int value) {
        int v = value & which.writableMask();
        if ((svr & SVR_APIC_ENABLED) == 0) {
            v |= ApicLvtEntry.MASKED;
        }
        if (isLint(which) && new ApicLvtEntry(v).fixedLevel()) {
            v |= lvt[which.ordinal()] & ApicLvtEntry.REMOTE_IRR;
        }
        lvt[which.ordinal()] = v;
        switch (which) {
            case TIMER -> timer.setPeriodic(new ApicLvtEntry(v).timerMode() == ApicTimerMode.PERIODIC);
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
        setBit(irr, vector);
        if (trigger == ApicTriggerMode.LEVEL) {
            setBit(tmr, vector);
        } else {
            clearBit(tmr, vector);
        }
        kickIfDeliverable();
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
        if (mode == ApicDeliveryMode.LOWEST_PRIORITY) {
            // SDM: processors that cannot send lowest-priority IPIs set "redirectable IPI" and drop them.
            error(ESR_REDIRECTABLE_IPI);
            return;
        }
        if (mode == ApicDeliveryMode.FIXED && message.vector() < FIRST_LEGAL_VECTOR) {
            error(ESR_SEND_ILLEGAL_VECTOR);
            return;
        }
        if (destinedOnlyToSelf(message) && deliveredLocally(mode)) {
            receive(message);
            return;
        }
        out.ipi = message;
    }

    private boolean destinedOnlyToSelf(ApicIcr message) {
        return switch (message.shorthand()) {
            case SELF -> true;
            case NONE -> !message.logical() && message.xapicDestination() == id && id != ApicIcr.BROADCAST;
            case ALL_INCLUDING_SELF, ALL_EXCLUDING_SELF -> false;
        };
    }

    private static boolean deliveredLocally(ApicDeliveryMode mode) {
        return switch (mode) {
            case FIXED, NMI, SMI, INIT, STARTUP -> true;
            case LOWEST_PRIORITY, REMOTE_READ, EXTINT -> false;
        };
    }

    /** The receiving side of an IPI message the {@link ApicBus} routed here. */
    public synchronized void acceptIpi(ApicIcr message) {
        receive(message);
    }

    private void receive(ApicIcr message) {
        if (!apicBase.enabled()) {
            return;
        }
        switch (message.deliveryMode()) {
            case FIXED, LOWEST_PRIORITY -> {
                if (message.triggerMode() == ApicTriggerMode.EDGE || message.assertLevel()) {
                    acceptFixed(message.vector(), message.triggerMode());
                }
            }
            case NMI -> requestNmi();
            case SMI -> {
                smiRequest = true;
                kick.run();
            }
            case INIT -> {
                if (!message.initLevelDeassert()) {
                    initRequest = true;
                    kick.run();
                }
            }
            case STARTUP -> {
                startupVector = message.vector();
                kick.run();
            }
            case REMOTE_READ, EXTINT -> throw new IllegalArgumentException("not a message a local APIC accepts: " + message);
        }
    }

    /**
     * Whether this APIC is a destination of {@code message} sent by {@code source} (KVM's
     * kvm_apic_match_dest): shorthands, the physical ID or broadcast 0xFF, or the logical ID in
     * the flat or cluster model of the DFR.
     */
    public synchronized boolean isDestination(ApicIcr message, LocalApic source) {
        if (!apicBase.enabled()) {
            return false;
        }
        int destination = message.xapicDestination();
        return switch (message.shorthand()) {
            case SELF -> source == this;
            case ALL_INCLUDING_SELF -> true;
            case ALL_EXCLUDING_SELF -> source != this;
            case NONE -> destination == ApicIcr.BROADCAST
                    || (message.logical() ? matchesLogical(destination) : destination == id);
        };
    }

    private boolean matchesLogical(int destination) {
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
        if (!apicBase.enabled()) {
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

    /** The next timer expiry that can raise an interrupt; a masked or stopped timer has none (it is caught up lazily). */
    @Override
    public synchronized long nextDeadline() {
        return timerCanInterrupt() ? timer.deadline() : Long.MAX_VALUE;
    }

    @Override
    public synchronized void expire(long now) {
        catchUpTimer(now);
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

    // ---- IA32_APIC_BASE ----

    public synchronized long readApicBase() {
        return apicBase.value();
    }

    /**
     * WRMSR to IA32_APIC_BASE (KVM's kvm_apic_set_base): reserved bits (7:0, 9, MAXPHYADDR and
     * up) and the x2APIC enable bit (not offered) raise #GP; the BSP flag is read-only; clearing
     * EN resets the registers; moving the base or toggling EN tells the {@link ApicBaseListener}.
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
        if ((value & ApicBase.X2APIC_ENABLE) != 0) {
            return MsrWrite.gp("IA32_APIC_BASE 0x%x: x2APIC mode (bit 10) is not offered (CPUID.01H:ECX.x2APIC = 0)", value);
        }
        ApicBase next = new ApicBase((value & ~ApicBase.BSP) | (apicBase.value() & ApicBase.BSP));
        if (next.equals(apicBase)) {
            return MsrWrite.DONE;
        }
        ApicBase previous = apicBase;
        apicBase = next;
        if (previous.enabled() && !next.enabled()) {
            // SDM: a global disable may return the APIC to its power-up state; tdemu always does.
            id = initialApicId;
            resetRegisters();
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
