package dev.tdemu.emulator.machine;

import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.x86.Event;
import dev.tdemu.core.x86.EventDelivery;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.core.x86.Rflags;
import dev.tdemu.core.x86.Segment;
import java.util.OptionalLong;

/**
 * Delivers events through the IDT the way the CPU does, since the engine never does, in every
 * mode (SDM Vol. 3 chapter 6 and 20.1.4):
 * <ul>
 * <li>real-address mode: the IVT at IDTR.base with 4-byte entries; FLAGS, CS and IP pushed on
 *     SS:SP (wrapping at 64 KiB); IF, TF, AC and RF cleared; no error code ever pushed;</li>
 * <li>protected mode: 16- and 32-bit interrupt and trap gates, the gate DPL check for INT n, INT3
 *     and INTO, the code segment checks, a privilege change through the TSS's SSn:ESPn (32- or
 *     16-bit TSS) with its #TS checks, the SS limit (expand-up and expand-down), error codes,
 *     16- or 32-bit pushes by gate size;</li>
 * <li>IA-32e mode (64-bit and compatibility mode): 64-bit gates, RSPn, IST, the 16-byte aligned
 *     frame.</li>
 * </ul>
 * A fault while delivering escalates by {@link ExceptionVector#escalation} to #DF and then to a
 * triple fault, in every mode. Error codes carry EXT from {@link Event#external()} and the IDT
 * bit for gate errors. CR2 is written when #PF delivery starts, so it survives a #DF.
 *
 * <p>Not modelled, and failing loudly with {@link NotModelledException}: task gates (and so
 * hardware task switches), gates whose code segment is in the LDT, events in virtual-8086 mode,
 * system structures or stacks outside guest RAM. Not modelled and silently skipped: the Accessed
 * bit of the loaded descriptors, the CS limit in real mode, the A20 gate.
 *
 * <p>It works on a {@link Cpu} view so it is independent of the engine.
 */
public final class IdtDelivery {
    /**
     * The CPU state delivery reads and the way it commits the result. The default methods are
     * the long mode with 4-level paging and flat segments that every {@code Cpu} written before
     * the other modes were modelled assumed; implementations for the PC platform override them.
     */
    public interface Cpu {
        long rsp();
        long rflags();
        int cs();
        int ss();
        int cpl();
        long idtBase();
        int idtLimit();
        long gdtBase();
        int gdtLimit();
        int trSelector();
        long trBase();
        int trLimit();
        long cr3();
        GuestMemory memory();

        /** Commits a delivery: CR2 (for #PF) is set first, then the new context. */
        // superseded by commit(Commit); callers migrate in the structure change
        void commit(long cr2OrMinus1, long rip, int cs, int newCpl, long rsp, int ssOrMinus1, long rflags);

        // Defaults: the long mode the old contract assumed; EngineIdtCpu overrides them in the structure change.
        default long cr0() {
            return BootStructures.CR0;
        }

        default long cr4() {
            return BootStructures.CR4;
        }

        default long efer() {
            return BootStructures.EFER;
        }

        /** MAXPHYADDR for reserved-bit checks in page walks. */
        default int maxPhysAddr() {
            return 52;
        }

        /** PKRU, for user-page protection keys. */
        default int pkru() {
            return 0;
        }

        /** The CS register with its descriptor cache (L and D decide 64-bit, 32- or 16-bit code). */
        default Segment csSegment() {
            return Segment.flatCode64(cs(), cpl());
        }

        /** The SS register with its descriptor cache (its base, limit and B bit address the stack). */
        default Segment ssSegment() {
            return Segment.flatData(ss(), cpl());
        }

        /** The type of the TSS TR holds: 9/11 a 32-bit (in IA-32e mode 64-bit) TSS, 1/3 a 16-bit one. */
        default int trType() {
            return 0xB;
        }

        /**
         * Commits a delivery. The default hands it to the old {@link #commit(long, long, int, int,
         * long, int, long)}, whose implementation loads the segment caches from the selectors.
         */
        default void commit(Commit c) {
            commit(c.cr2().orElse(-1), c.rip(), c.cs().selector(), c.cpl(), c.rsp(), c.ss() == null ? -1 : c.ss().selector(),
                    c.rflags());
        }
    }

    /**
     * The new context after a delivery.
     *
     * @param cr2    CR2 to write first (a #PF was among the events delivered), else empty
     * @param rip    the handler
     * @param cs     CS with the cache loaded from the gate's code segment (real mode: selector × 16)
     * @param cpl    the new CPL
     * @param rsp    the stack pointer after the pushes
     * @param ss     SS when it changed (a privilege change), else null
     * @param rflags RFLAGS with TF, NT, RF, VM (and IF for an interrupt gate, AC in real mode) cleared
     */
    public record Commit(OptionalLong cr2, long rip, Segment cs, int cpl, long rsp, Segment ss, long rflags) {}

    /** What happened: the event (or the #DF or fault it became) was delivered, or the processor shut down. */
    public sealed interface Result {
        record Delivered(EventDelivery delivered, long handler) implements Result {}

        /** Shutdown: a fault while delivering #DF. {@code reason} names every step of the chain. */
        record TripleFault(EventDelivery first, String reason) implements Result {}
    }

    /** Raised internally when delivery itself faults. */
    private static final class DeliveryFault extends Exception {
        final EventDelivery fault;
        final String why;

        DeliveryFault(EventDelivery fault, String why) {
            super(why, null, false, false);
            this.fault = fault;
            this.why = why;
        }
    }

    private IdtDelivery() {}

    /** Delivers {@code event} in the mode {@code cpu} is in, escalating faults during delivery. */
    public static Result deliver(Cpu cpu, EventDelivery event) {
        EventDelivery current = event;
        OptionalLong cr2 = OptionalLong.empty();
        StringBuilder chain = new StringBuilder();
        while (true) {
            if (current.event() instanceof Event.HardwareException e && e.cr2().isPresent()) {
                cr2 = e.cr2(); // written as #PF delivery starts: kept if it escalates
            }
            try {
                long handler = deliverOnce(cpu, current, cr2);
                return new Result.Delivered(current, handler);
            } catch (DeliveryFault nested) {
                chain.append(chain.isEmpty() ? "" : "; ").append("delivering ").append(current.event().describe())
                        .append(": ").append(nested.fault.event().describe()).append(", ").append(nested.why);
                ExceptionVector second = ((Event.HardwareException) nested.fault.event()).exception();
                switch (ExceptionVector.escalation(current.event().doubleFaultClass(), second.doubleFaultClass())) {
                    case TRIPLE_FAULT -> {
                        return new Result.TripleFault(event, chain.toString());
                    }
                    case DOUBLE_FAULT -> current = Event.abort(ExceptionVector.DF).errorCode(0).at(nested.fault.returnRip());
                    case HANDLE_SERIALLY -> current = nested.fault;
                }
            }
        }
    }

    /**
     * Whether a software interrupt (INT n, INT3, INTO) at the current CPL may go through its IDT
     * gate: the gate's DPL must be at least the CPL, else the instruction raises #GP(vector*8+2)
     * instead (SDM "Protection of Exception- and Interrupt-Handler Procedures"; ICEBP and
     * hardware exceptions are not checked). A gate that cannot be read counts as allowed:
     * {@link #deliver} then reports what is wrong with it.
     */
    // superseded by deliver(Cpu, EventDelivery), which checks the gate DPL of an Event.SoftwareInterrupt; callers migrate in the structure change
    public static boolean gateAllowsSoftwareInterrupt(Cpu cpu, int vector) {
        if ((cpu.cr0() & PagingState.CR0_PE) == 0) {
            return true; // the real-mode IVT has no DPL
        }
        long gateSize = (cpu.efer() & PagingState.EFER_LMA) != 0 ? 16 : 8;
        if (vector * gateSize + gateSize - 1 > cpu.idtLimit()) {
            return true;
        }
        try {
            Frame f = new Frame(cpu, Event.externalInterrupt(vector).at(0));
            long gateLo = f.readSystem(cpu.idtBase() + vector * gateSize, 8);
            return ((gateLo >>> 45) & 3) >= cpu.cpl();
        } catch (DeliveryFault unreadable) {
            return true;
        }
    }

    private static long deliverOnce(Cpu cpu, EventDelivery ev, OptionalLong cr2) throws DeliveryFault {
        Rflags flags = new Rflags(cpu.rflags());
        if ((cpu.cr0() & PagingState.CR0_PE) == 0) {
            return real(cpu, ev, cr2);
        }
        if ((cpu.efer() & PagingState.EFER_LMA) != 0) {
            return ia32e(cpu, ev, cr2);
        }
        if (flags.vm()) {
            throw new NotModelledException("IDT delivery", "an event in virtual-8086 mode");
        }
        return protectedMode(cpu, ev, cr2);
    }

    // ---- Real-address mode (SDM 20.1.4) ------------------------------------------------------

    private static long real(Cpu cpu, EventDelivery ev, OptionalLong cr2) throws DeliveryFault {
        Frame f = new Frame(cpu, ev);
        int vector = ev.vector();
        if (vector * 4L + 3 > cpu.idtLimit()) {
            throw f.fault(ExceptionVector.GP, 0, String.format("IVT limit 0x%x does not cover vector %d", cpu.idtLimit(), vector));
        }
        long entry = f.readSystem(cpu.idtBase() + vector * 4L, 4);
        int ip = (int) (entry & 0xFFFF);
        int cs = (int) ((entry >>> 16) & 0xFFFF);
        Segment ss = cpu.ssSegment();
        Stack stack = new Stack(f, ss, cpu.rsp(), 0, 0);
        stack.push(new Rflags(cpu.rflags()).flags16(), 2);
        stack.push(cpu.cs(), 2);
        stack.push(ev.returnRip() & 0xFFFF, 2);
        stack.commitWrites();
        long newFlags = new Rflags(cpu.rflags()).clear(Rflags.IF | Rflags.TF | Rflags.AC | Rflags.RF).bits();
        long newSp = ss.defaultBig() ? stack.pointer() : (cpu.rsp() & ~0xFFFFL) | stack.pointer();
        cpu.commit(new Commit(cr2, ip, Segment.real(cs), 0, newSp, null, newFlags));
        return ((long) cs << 4) + ip;
    }

    // ---- Protected mode (SDM 6.12) --------------------------------------------------------------

    private static long protectedMode(Cpu cpu, EventDelivery ev, OptionalLong cr2) throws DeliveryFault {
        Frame f = new Frame(cpu, ev);
        int vector = ev.vector();
        int idtErr = vector * 8 + 2 + f.ext;
        if (vector * 8L + 7 > cpu.idtLimit()) {
            throw f.fault(ExceptionVector.GP, idtErr, String.format("IDT limit 0x%x does not cover vector %d", cpu.idtLimit(), vector));
        }
        long gate = f.readSystem(cpu.idtBase() + vector * 8L, 8);
        int type = (int) ((gate >>> 40) & 0x1F); // with S: a gate has S=0
        int gateSize = switch (type) {
            case 0x06, 0x07 -> 2;
            case 0x0E, 0x0F -> 4;
            case 0x05 -> throw new NotModelledException("IDT delivery", "task gate for vector " + vector + " (task switches)");
            default -> throw f.fault(ExceptionVector.GP, idtErr,
                    String.format("IDT entry %d is not an interrupt or trap gate (type %d)", vector, type));
        };
        boolean interruptGate = (type & 1) == 0;
        checkGate(f, cpu, ev, gate, vector, idtErr);
        int selector = (int) ((gate >>> 16) & 0xFFFF);
        long offset = (gate & 0xFFFF) | (gateSize == 4 ? (gate >>> 32) & 0xFFFF0000L : 0);
        Segment code = codeSegment(f, cpu, selector, vector, false);
        if (offset > code.limit()) {
            throw f.fault(ExceptionVector.GP, f.ext, String.format("handler 0x%x lies beyond CS limit 0x%x", offset, code.limit()));
        }
        int cpl = cpu.cpl();
        int newCpl = code.conforming() ? cpl : code.dpl();
        Segment ss = cpu.ssSegment();
        long sp = cpu.rsp();
        Segment newSs = null;
        if (newCpl < cpl) {
            // Inter-privilege: SSn:ESPn from the TSS (SDM 7.2.1, 7.6), then the checks of a stack switch.
            boolean tss32 = cpu.trType() == 0x9 || cpu.trType() == 0xB;
            int trErr = (cpu.trSelector() & 0xFFFC) + f.ext;
            long spAt = tss32 ? 4 + 8L * newCpl : 2 + 4L * newCpl;
            int width = tss32 ? 4 : 2;
            if (spAt + width + 2 - 1 > cpu.trLimit()) { // ESPn/SPn then SSn
                throw f.fault(ExceptionVector.TS, trErr, String.format("TSS limit 0x%x does not hold SS%d:ESP%d", cpu.trLimit(), newCpl, newCpl));
            }
            sp = f.readSystem(cpu.trBase() + spAt, width);
            int ssSel = (int) f.readSystem(cpu.trBase() + spAt + width, 2);
            newSs = stackSegment(f, cpu, ssSel, newCpl);
            ss = newSs;
        }
        Stack stack = new Stack(f, ss, sp, newCpl, newSs != null ? (newSs.selector() & 0xFFFC) + f.ext : f.ext);
        if (newSs != null) {
            stack.push(cpu.ss(), gateSize);
            stack.push(cpu.rsp(), gateSize);
        }
        long pushedFlags = new Rflags(cpu.rflags()).withRf(ev.resumeFlag()).bits();
        stack.push(pushedFlags, gateSize);
        stack.push(cpu.cs(), gateSize);
        stack.push(ev.returnRip(), gateSize);
        pushErrorCode(stack, ev, gateSize);
        stack.commitWrites();
        Segment newCs = new Segment((selector & 0xFFFC) | newCpl, code.base(), code.limit(), code.accessRights());
        long newFlags = handlerFlags(cpu, interruptGate);
        long newSp = ss.defaultBig() ? stack.pointer() : (sp & ~0xFFFFL) | stack.pointer();
        cpu.commit(new Commit(cr2, offset, newCs, newCpl, newSp, newSs, newFlags));
        return code.base() + offset;
    }

    /** The new SS of an inter-privilege delivery (SDM 6.12.1: #TS for each broken rule, #SS if not present). */
    private static Segment stackSegment(Frame f, Cpu cpu, int selector, int newCpl) throws DeliveryFault {
        int err = (selector & 0xFFFC) + f.ext;
        if ((selector & 0xFFFC) == 0) {
            throw f.fault(ExceptionVector.TS, f.ext, "the TSS gives a null SS" + newCpl);
        }
        if ((selector & 4) != 0) {
            throw new NotModelledException("IDT delivery", "a stack segment in the LDT");
        }
        if ((selector | 7) > cpu.gdtLimit()) {
            throw f.fault(ExceptionVector.TS, err, String.format("SS%d 0x%x lies beyond the GDT limit", newCpl, selector));
        }
        Segment ss = Segment.fromDescriptor(selector, f.readSystem(cpu.gdtBase() + (selector & ~7), 8));
        if ((selector & 3) != newCpl || ss.dpl() != newCpl || !ss.writableData()) {
            throw f.fault(ExceptionVector.TS, err, String.format("SS%d 0x%x is not a writable data segment at DPL %d", newCpl, selector, newCpl));
        }
        if (!ss.present()) {
            throw f.fault(ExceptionVector.SS, err, String.format("SS%d 0x%x is not present", newCpl, selector));
        }
        return ss;
    }

    // ---- IA-32e mode (SDM 6.14) -----------------------------------------------------------------

    private static long ia32e(Cpu cpu, EventDelivery ev, OptionalLong cr2) throws DeliveryFault {
        Frame f = new Frame(cpu, ev);
        int vector = ev.vector();
        int idtErr = vector * 8 + 2 + f.ext;
        if (vector * 16L + 15 > cpu.idtLimit()) {
            throw f.fault(ExceptionVector.GP, idtErr, String.format("IDT limit 0x%x does not cover vector %d", cpu.idtLimit(), vector));
        }
        long gateLo = f.readSystem(cpu.idtBase() + vector * 16L, 8);
        long gateHi = f.readSystem(cpu.idtBase() + vector * 16L + 8, 8);
        int type = (int) ((gateLo >>> 40) & 0x1F);
        if (type != 0xE && type != 0xF) {
            throw f.fault(ExceptionVector.GP, idtErr,
                    String.format("IDT entry %d is not a 64-bit interrupt or trap gate (type %d)", vector, type));
        }
        checkGate(f, cpu, ev, gateLo, vector, idtErr);
        int selector = (int) ((gateLo >>> 16) & 0xFFFF);
        int ist = (int) ((gateLo >>> 32) & 7);
        long target = (gateLo & 0xFFFF) | ((gateLo >>> 32) & 0xFFFF0000L) | (gateHi << 32);
        Segment code = codeSegment(f, cpu, selector, vector, true);
        if (!PageWalker.isCanonical(target)) {
            throw f.fault(ExceptionVector.GP, f.ext, String.format("handler 0x%x is not canonical", target));
        }
        int cpl = cpu.cpl();
        int newCpl = code.conforming() ? cpl : code.dpl();
        long rsp = cpu.rsp();
        boolean privilegeChange = newCpl < cpl;
        int trErr = (cpu.trSelector() & 0xFFFC) + f.ext;
        if (privilegeChange) {
            rsp = readTss64(f, cpu, 4 + 8L * newCpl, trErr);
        }
        if (ist != 0) {
            rsp = readTss64(f, cpu, 36 + 8L * (ist - 1), trErr);
        }
        rsp &= ~0xFL;
        Stack stack = new Stack(f, Segment.flatData(0, newCpl), rsp, newCpl, f.ext);
        stack.push(cpu.ss(), 8);
        stack.push(cpu.rsp(), 8);
        stack.push(new Rflags(cpu.rflags()).withRf(ev.resumeFlag()).bits(), 8);
        stack.push(cpu.cs(), 8);
        stack.push(ev.returnRip(), 8);
        pushErrorCode(stack, ev, 8);
        stack.commitWrites();
        Segment newCs = new Segment((selector & 0xFFFC) | newCpl, 0, code.limit(), code.accessRights());
        // A privilege change loads a null SS whose RPL is the new CPL.
        Segment newSs = privilegeChange ? new Segment(newCpl, 0, 0, 0) : null;
        cpu.commit(new Commit(cr2, target, newCs, newCpl, stack.pointer(), newSs, handlerFlags(cpu, type == 0xE)));
        return target;
    }

    private static long readTss64(Frame f, Cpu cpu, long offset, int trErr) throws DeliveryFault {
        if (offset + 7 > cpu.trLimit()) {
            throw f.fault(ExceptionVector.TS, trErr,
                    String.format("TSS limit 0x%x does not hold the stack pointer at offset %d", cpu.trLimit(), offset));
        }
        return f.readSystem(cpu.trBase() + offset, 8);
    }

    // ---- Shared steps ---------------------------------------------------------------------------

    /** The gate DPL check for INT n/INT3/INTO, then P (SDM 6.12.1.1). */
    private static void checkGate(Frame f, Cpu cpu, EventDelivery ev, long gateLo, int vector, int idtErr) throws DeliveryFault {
        int dpl = (int) ((gateLo >>> 45) & 3);
        if (ev.event().checksGateDpl() && dpl < cpu.cpl()) {
            throw f.fault(ExceptionVector.GP, vector * 8 + 2,
                    String.format("%s at CPL%d through gate %d of DPL %d", ev.event().describe(), cpu.cpl(), vector, dpl));
        }
        if (((gateLo >>> 47) & 1) == 0) {
            throw f.fault(ExceptionVector.NP, idtErr, String.format("IDT entry %d is not present", vector));
        }
    }

    /** The gate's code segment: a present code segment of DPL at most CPL (64-bit code in IA-32e mode). */
    private static Segment codeSegment(Frame f, Cpu cpu, int selector, int vector, boolean ia32e) throws DeliveryFault {
        int err = (selector & 0xFFFC) + f.ext;
        if ((selector & 0xFFFC) == 0) {
            throw f.fault(ExceptionVector.GP, f.ext, String.format("gate %d has a null code selector", vector));
        }
        if ((selector & 4) != 0) {
            throw new NotModelledException("IDT delivery", "gate " + vector + " to a code segment in the LDT");
        }
        if ((selector | 7) > cpu.gdtLimit()) {
            throw f.fault(ExceptionVector.GP, err, String.format("gate %d selector 0x%x lies beyond the GDT limit", vector, selector));
        }
        Segment code = Segment.fromDescriptor(selector, f.readSystem(cpu.gdtBase() + (selector & ~7), 8));
        if (!code.code() || code.dpl() > cpu.cpl()) {
            throw f.fault(ExceptionVector.GP, err, String.format("gate %d target 0x%x is not a code segment reachable from CPL%d",
                    vector, selector, cpu.cpl()));
        }
        // Presence is checked before the segment's kind in IA-32e mode (SDM INT n pseudocode).
        if (!code.present()) {
            throw f.fault(ExceptionVector.NP, err, String.format("code segment 0x%x is not present", selector));
        }
        if (ia32e && !(code.longMode() && !code.defaultBig())) {
            throw f.fault(ExceptionVector.GP, err, String.format("gate %d target 0x%x is not a 64-bit code segment", vector, selector));
        }
        return code;
    }

    private static void pushErrorCode(Stack stack, EventDelivery ev, int size) throws DeliveryFault {
        if (ev.event() instanceof Event.HardwareException e && e.errorCode().isPresent()) {
            stack.push(e.errorCode().getAsInt() & 0xFFFF_FFFFL, size);
        }
    }

    /** RFLAGS in the handler: TF, NT, RF and VM cleared, IF too through an interrupt gate. */
    private static long handlerFlags(Cpu cpu, boolean interruptGate) {
        Rflags f = new Rflags(cpu.rflags()).clear(Rflags.TF | Rflags.NT | Rflags.RF | Rflags.VM);
        return (interruptGate ? f.clear(Rflags.IF) : f).bits();
    }

    /** The event being delivered and the memory accesses delivery makes on its behalf. */
    private static final class Frame {
        final Cpu cpu;
        final EventDelivery ev;
        final int ext;
        final PagingState paging;

        Frame(Cpu cpu, EventDelivery ev) {
            this.cpu = cpu;
            this.ev = ev;
            this.ext = ev.event().external() ? 1 : 0;
            this.paging = new PagingState(cpu.cr0(), cpu.cr3(), cpu.cr4(), cpu.efer(), cpu.maxPhysAddr());
        }

        /** A fault raised while delivering: saved RIP of the instruction (INT n faults on itself). */
        DeliveryFault fault(ExceptionVector v, int errorCode, String why) {
            EventDelivery d = v.pushesErrorCode() ? Event.fault(v).errorCode(errorCode).at(ev.instructionRip())
                    : Event.fault(v).at(ev.instructionRip());
            return new DeliveryFault(d, why);
        }

        /** Reads {@code size} bytes of a system structure (IDT, GDT, TSS): an implicit supervisor access. */
        long readSystem(long linear, int size) throws DeliveryFault {
            long value = 0;
            for (int i = 0; i < size; i++) {
                value |= (long) memory().read8(physical(linear + i, PageWalker.LinearAccess.implicitSupervisor(
                        PageWalker.AccessType.READ), "table")) << (8 * i);
            }
            return value;
        }

        GuestMemory memory() {
            return cpu.memory();
        }

        long physical(long linear, PageWalker.LinearAccess access, String what) throws DeliveryFault {
            if (paging.mode() != PagingState.Mode.LEVEL_4 && (cpu.efer() & PagingState.EFER_LMA) == 0) {
                linear &= 0xFFFF_FFFFL;
            }
            PageWalker.Result r = PageWalker.walk(memory(), paging, linear, access);
            return switch (r) {
                case PageWalker.Mapped m -> {
                    if (!memory().contains(m.physical(), 1)) {
                        throw new NotModelledException("IDT delivery", String.format(
                                "%s at linear 0x%x is physical 0x%x, outside guest RAM", what, linear, m.physical()));
                    }
                    yield m.physical();
                }
                case PageWalker.PageFault pf -> throw new DeliveryFault(
                        Event.pageFault(pf.errorCode(), linear).at(ev.instructionRip()),
                        String.format("%s 0x%x: %s", what, linear, pf.reason()));
                case PageWalker.Unwalkable u -> {
                    if (!PageWalker.isCanonical(linear)) {
                        throw fault(access.type() == PageWalker.AccessType.WRITE ? ExceptionVector.SS : ExceptionVector.GP,
                                ext, String.format("%s 0x%x is not canonical", what, linear));
                    }
                    throw new NotModelledException("IDT delivery", what + ": " + u.reason());
                }
            };
        }
    }

    /**
     * Pushes on a stack: SS's base and B bit address it, its limit is checked (expand-up or
     * expand-down), and the bytes are written only once every push is known to succeed.
     */
    private static final class Stack {
        final Frame f;
        final Segment ss;
        final long mask;
        final int ssErr;
        final boolean flat64;
        final int cpl;
        final java.util.List<long[]> writes = new java.util.ArrayList<>();
        long sp;

        /** A stack at {@code cpl} (the handler's): pushes are that CPL's explicit writes. */
        Stack(Frame f, Segment ss, long sp, int cpl, int ssErr) {
            this.f = f;
            this.ss = ss;
            this.cpl = cpl;
            this.flat64 = (f.cpu.efer() & PagingState.EFER_LMA) != 0;
            this.mask = flat64 ? -1L : ss.defaultBig() ? 0xFFFF_FFFFL : 0xFFFF;
            this.sp = sp & mask;
            this.ssErr = ssErr;
        }

        void push(long value, int size) throws DeliveryFault {
            sp = (sp - size) & mask;
            if (!flat64) {
                boolean outside = ss.expandDown() ? sp <= ss.limit() || sp + size - 1 > mask : sp + size - 1 > ss.limit();
                if (outside) {
                    throw f.fault(ExceptionVector.SS, ssErr, String.format("push at SS:0x%x outside the stack segment (limit 0x%x)", sp, ss.limit()));
                }
            }
            for (int i = 0; i < size; i++) {
                long linear = ss.base() + ((sp + i) & mask);
                long physical = f.physical(linear, PageWalker.LinearAccess.explicit(PageWalker.AccessType.WRITE, cpl, false,
                        f.cpu.pkru()), "stack");
                writes.add(new long[] {physical, (value >>> (8 * i)) & 0xFF});
            }
        }

        void commitWrites() {
            for (long[] w : writes) {
                f.memory().write8(w[0], (int) w[1]);
            }
        }

        long pointer() {
            return sp;
        }
    }
}
