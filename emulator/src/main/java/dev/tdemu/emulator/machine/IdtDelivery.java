package dev.tdemu.emulator.machine;

/**
 * Delivers exceptions through a 64-bit IDT the way the CPU does (SDM Vol. 3 "Interrupt and
 * Exception Handling in 64-bit Mode"), since the engine never does: gate lookup and checks,
 * privilege change through the TSS's RSPn, IST stacks, the 16-byte aligned frame (SS, RSP,
 * RFLAGS, CS, RIP, error code), and the #DF / triple-fault escalation when delivery itself
 * faults. It works on a {@link Cpu} view so it is independent of the engine.
 */
public final class IdtDelivery {
    /** The CPU state delivery reads and the way it commits the result. */
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
        void commit(long cr2OrMinus1, long rip, int cs, int newCpl, long rsp, int ssOrMinus1, long rflags);
    }

    /** What happened: delivered, or the VM must stop on a triple fault. */
    public sealed interface Outcome {
        record Delivered(X86Exception delivered, long handler) implements Outcome {}
        record TripleFault(X86Exception first, String reason) implements Outcome {}
    }

    /** Raised internally when delivery itself faults. */
    private static final class DeliveryFault extends Exception {
        final X86Exception fault;
        final String why;

        DeliveryFault(X86Exception fault, String why) {
            super(why, null, false, false);
            this.fault = fault;
            this.why = why;
        }
    }

    static final long RF_TF = 0x100, RF_IF = 0x200, RF_NT = 0x4000, RF_RF = 0x10000, RF_VM = 0x20000;

    private IdtDelivery() {}

    public static Outcome deliver(Cpu cpu, X86Exception exception) {
        X86Exception current = exception;
        StringBuilder chain = new StringBuilder();
        while (true) {
            try {
                long handler = deliverOnce(cpu, current);
                return new Outcome.Delivered(current, handler);
            } catch (DeliveryFault nested) {
                chain.append(chain.isEmpty() ? "" : "; ").append("delivering ").append(current).append(": ")
                        .append(nested.why);
                if (current.vector() == X86Exception.DF) {
                    return new Outcome.TripleFault(exception, chain.toString());
                }
                int second = nested.fault.vector();
                if (X86Exception.makesDoubleFault(current.vector(), second)) {
                    current = new X86Exception(X86Exception.DF, 0, true, current.returnRip(), 0);
                } else {
                    current = nested.fault;
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
    public static boolean gateAllowsSoftwareInterrupt(Cpu cpu, int vector) {
        if (vector * 16L + 15 > cpu.idtLimit()) {
            return true;
        }
        try {
            long gateLo = readLinear64(cpu, cpu.idtBase() + vector * 16L, X86Exception.trap(vector, 0));
            return ((gateLo >>> 45) & 3) >= cpu.cpl();
        } catch (DeliveryFault unreadable) {
            return true;
        }
    }

    private static long deliverOnce(Cpu cpu, X86Exception ex) throws DeliveryFault {
        int vector = ex.vector();
        long extErr = vector * 8L + 2 + 1; // IDT bit and EXT: the event came from outside the program
        if (vector * 16L + 15 > cpu.idtLimit()) {
            throw new DeliveryFault(X86Exception.fault(X86Exception.GP, extErr, ex.returnRip()),
                    String.format("IDT limit 0x%x does not cover vector %d", cpu.idtLimit(), vector));
        }
        long gateLo = readLinear64(cpu, cpu.idtBase() + vector * 16L, ex);
        long gateHi = readLinear64(cpu, cpu.idtBase() + vector * 16L + 8, ex);
        int type = (int) ((gateLo >>> 40) & 0xF);
        boolean present = ((gateLo >>> 47) & 1) != 0;
        if (type != 0xE && type != 0xF) {
            throw new DeliveryFault(X86Exception.fault(X86Exception.GP, extErr, ex.returnRip()),
                    String.format("IDT entry %d is not a 64-bit interrupt or trap gate (type %d)", vector, type));
        }
        if (!present) {
            throw new DeliveryFault(X86Exception.fault(X86Exception.NP, extErr, ex.returnRip()),
                    String.format("IDT entry %d is not present", vector));
        }
        int selector = (int) ((gateLo >>> 16) & 0xFFFF);
        int ist = (int) ((gateLo >>> 32) & 7);
        long target = (gateLo & 0xFFFF) | ((gateLo >>> 32) & 0xFFFF0000L) | (gateHi << 32);

        long csErr = (selector & 0xFFFC) | 1;
        if ((selector & 0xFFFC) == 0 || (selector & 4) != 0 || (selector | 7) > cpu.gdtLimit()) {
            throw new DeliveryFault(X86Exception.fault(X86Exception.GP, csErr, ex.returnRip()),
                    String.format("gate %d selector 0x%x is not a GDT code segment", vector, selector));
        }
        long desc = readLinear64(cpu, cpu.gdtBase() + (selector & ~7), ex);
        boolean isCode = ((desc >>> 43) & 3) == 3;          // S=1 and executable
        boolean longMode = ((desc >>> 53) & 1) != 0 && ((desc >>> 54) & 1) == 0;
        boolean conforming = ((desc >>> 42) & 1) != 0;
        int dpl = (int) ((desc >>> 45) & 3);
        if (!isCode || !longMode || dpl > cpu.cpl()) {
            throw new DeliveryFault(X86Exception.fault(X86Exception.GP, csErr, ex.returnRip()),
                    String.format("gate %d target 0x%x is not a 64-bit code segment reachable from CPL%d",
                            vector, selector, cpu.cpl()));
        }
        if (((desc >>> 47) & 1) == 0) {
            throw new DeliveryFault(X86Exception.fault(X86Exception.NP, csErr, ex.returnRip()),
                    String.format("code segment 0x%x is not present", selector));
        }
        int newCpl = conforming ? cpu.cpl() : dpl;
        long rsp = cpu.rsp();
        boolean privilegeChange = newCpl < cpu.cpl();
        if (privilegeChange) {
            rsp = readTss(cpu, 4 + 8L * newCpl, ex);
        }
        if (ist != 0) {
            rsp = readTss(cpu, 36 + 8L * (ist - 1), ex);
        }
        rsp &= ~0xFL;
        long[] frame = ex.hasErrorCode()
                ? new long[] {ex.errorCode(), ex.returnRip(), cpu.cs(), 0, cpu.rsp(), cpu.ss()}
                : new long[] {ex.returnRip(), cpu.cs(), 0, cpu.rsp(), cpu.ss()};
        long pushedFlags = cpu.rflags() & ~RF_RF | (ex.faultRf() ? RF_RF : 0);
        frame[ex.hasErrorCode() ? 3 : 2] = pushedFlags;
        long newRsp = rsp - 8L * frame.length;
        for (int i = 0; i < frame.length; i++) {
            writeLinear64(cpu, newRsp + 8L * i, frame[i], ex, newCpl);
        }
        long newFlags = cpu.rflags() & ~(RF_TF | RF_NT | RF_RF | RF_VM) & ~(type == 0xE ? RF_IF : 0);
        cpu.commit(ex.vector() == X86Exception.PF ? ex.cr2() : -1, target, (selector & ~3) | newCpl, newCpl, newRsp,
                privilegeChange ? newCpl : -1, newFlags);
        return target;
    }

    private static long readTss(Cpu cpu, long offset, X86Exception ex) throws DeliveryFault {
        if (offset + 7 > cpu.trLimit()) {
            throw new DeliveryFault(X86Exception.fault(X86Exception.TS, (cpu.trSelector() & 0xFFFC) | 1, ex.returnRip()),
                    String.format("TSS limit 0x%x does not hold the stack pointer at offset %d", cpu.trLimit(), offset));
        }
        return readLinear64(cpu, cpu.trBase() + offset, ex);
    }

    private static long readLinear64(Cpu cpu, long linear, X86Exception ex) throws DeliveryFault {
        return cpu.memory().read64(physical(cpu, linear, false, 0, ex));
    }

    private static void writeLinear64(Cpu cpu, long linear, long value, X86Exception ex, int cpl) throws DeliveryFault {
        cpu.memory().write64(physical(cpu, linear, true, cpl, ex), value);
    }

    /** Translates a supervisor access made by delivery itself; straddling a page is split. */
    private static long physical(Cpu cpu, long linear, boolean write, int cpl, X86Exception ex) throws DeliveryFault {
        if (!PageWalker.isCanonical(linear)) {
            int v = write ? X86Exception.SS : X86Exception.GP;
            throw new DeliveryFault(X86Exception.fault(v, write ? 1 : 0, ex.returnRip()),
                    String.format("non-canonical address 0x%x", linear));
        }
        PageWalker.Translation t = PageWalker.translate(cpu.memory(), cpu.cr3(), linear);
        if (t == null || (write && !t.writable())) {
            long pfErr = (t == null ? 0 : 1) | (write ? 2 : 0);
            throw new DeliveryFault(X86Exception.pageFault(pfErr, linear, ex.returnRip()),
                    String.format("%s 0x%x is %s", write ? "stack" : "table", linear,
                            t == null ? "not mapped" : "read-only"));
        }
        if (t.bytesToPageEnd() < 8 || !cpu.memory().contains(t.physical(), 8)) {
            throw new DeliveryFault(X86Exception.fault(X86Exception.GP, 0, ex.returnRip()),
                    String.format("system structure at 0x%x straddles a page or lies outside RAM", linear));
        }
        return t.physical();
    }
}
