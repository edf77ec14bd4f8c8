package dev.tdemu.core.x86;

/**
 * The architectural exception vectors 0–31 (SDM Vol. 3 Table 6-1): each with its mnemonic, whether
 * delivery pushes an error code, its type (fault, trap, abort, or the NMI interrupt), and its class
 * for the double-fault rules (Table 6-4). Vectors 15 and 22–31 are reserved by Intel and have no
 * constant; so do AMD's #HV and #SX (28, 30). AMD's #VC (29) is here for SEV-ES guests, which
 * take it for the intercepts the GHCB protocol covers; an Intel CPU never raises it. Vectors 32–255
 * are interrupts, not exceptions (see {@link Event}).
 */
public enum ExceptionVector {
    /** #DE, divide error. */
    DE(0, "#DE", false, Type.FAULT, DoubleFaultClass.CONTRIBUTORY),
    /** #DB, debug exception: a fault (instruction breakpoint, general detect) or a trap (the rest). */
    DB(1, "#DB", false, Type.FAULT_OR_TRAP, DoubleFaultClass.BENIGN),
    /** NMI, the non-maskable interrupt: vector 2 but an interrupt, not an exception. */
    NMI(2, "NMI", false, Type.INTERRUPT, DoubleFaultClass.BENIGN),
    /** #BP, breakpoint (INT3). */
    BP(3, "#BP", false, Type.TRAP, DoubleFaultClass.BENIGN),
    /** #OF, overflow (INTO). */
    OF(4, "#OF", false, Type.TRAP, DoubleFaultClass.BENIGN),
    /** #BR, BOUND range exceeded. */
    BR(5, "#BR", false, Type.FAULT, DoubleFaultClass.BENIGN),
    /** #UD, invalid opcode (also MOV DR4/DR5 with CR4.DE=1). */
    UD(6, "#UD", false, Type.FAULT, DoubleFaultClass.BENIGN),
    /** #NM, device not available. */
    NM(7, "#NM", false, Type.FAULT, DoubleFaultClass.BENIGN),
    /** #DF, double fault; its error code is always 0. */
    DF(8, "#DF", true, Type.ABORT, DoubleFaultClass.DOUBLE_FAULT),
    /** Coprocessor segment overrun: defined, but no processor after the Intel386 raises it. */
    CSO(9, "CSO", false, Type.FAULT, DoubleFaultClass.BENIGN),
    /** #TS, invalid TSS. */
    TS(10, "#TS", true, Type.FAULT, DoubleFaultClass.CONTRIBUTORY),
    /** #NP, segment not present. */
    NP(11, "#NP", true, Type.FAULT, DoubleFaultClass.CONTRIBUTORY),
    /** #SS, stack-segment fault. */
    SS(12, "#SS", true, Type.FAULT, DoubleFaultClass.CONTRIBUTORY),
    /** #GP, general protection. */
    GP(13, "#GP", true, Type.FAULT, DoubleFaultClass.CONTRIBUTORY),
    /** #PF, page fault; CR2 holds the linear address. */
    PF(14, "#PF", true, Type.FAULT, DoubleFaultClass.PAGE_FAULT),
    /** #MF, x87 floating-point error. */
    MF(16, "#MF", false, Type.FAULT, DoubleFaultClass.BENIGN),
    /** #AC, alignment check; its error code is always 0. */
    AC(17, "#AC", true, Type.FAULT, DoubleFaultClass.BENIGN),
    /** #MC, machine check. */
    MC(18, "#MC", false, Type.ABORT, DoubleFaultClass.BENIGN),
    /** #XM, SIMD floating-point exception. */
    XM(19, "#XM", false, Type.FAULT, DoubleFaultClass.BENIGN),
    /** #VE, virtualization exception; in the page-fault class for the #DF rules. */
    VE(20, "#VE", false, Type.FAULT, DoubleFaultClass.PAGE_FAULT),
    /** #CP, control-protection exception (CET); contributory. */
    CP(21, "#CP", true, Type.FAULT, DoubleFaultClass.CONTRIBUTORY),
    /**
     * #VC, VMM communication exception (AMD SEV-ES): the error code is the SVM exit code of the
     * intercept; AMD's double-fault table does not list it as contributory.
     */
    VC(29, "#VC", true, Type.FAULT, DoubleFaultClass.BENIGN);

    /** SDM Table 6-1's "Type" column: where the saved instruction pointer points. */
    public enum Type {
        /** Before the instruction: the saved RIP points at it and it can be restarted. */
        FAULT,
        /** After the instruction: the saved RIP points at the next one. */
        TRAP,
        /** #DB: a fault for instruction breakpoints and general detect, a trap for the rest. */
        FAULT_OR_TRAP,
        /** No reliable saved RIP; the program cannot be resumed. */
        ABORT,
        /** NMI: an interrupt that happens to have a vector below 32. */
        INTERRUPT
    }

    /**
     * SDM Table 6-4, the classes the double-fault rules are written in. Every interrupt (INTR,
     * NMI, INT n) is benign. #DF has a class of its own: any contributory or page fault while
     * delivering it shuts the processor down (a triple fault).
     */
    public enum DoubleFaultClass { BENIGN, CONTRIBUTORY, PAGE_FAULT, DOUBLE_FAULT }

    /** What the processor does with a second exception raised while it delivers a first event (Table 6-5). */
    public enum Escalation {
        /** Deliver the second exception; the first is lost (it recurs if it was a fault). */
        HANDLE_SERIALLY,
        /** Deliver #DF instead. */
        DOUBLE_FAULT,
        /** Shutdown: the processor stops (a VM exit for a guest). */
        TRIPLE_FAULT
    }

    private final int vector;
    private final String mnemonic;
    private final boolean errorCode;
    private final Type type;
    private final DoubleFaultClass doubleFaultClass;

    ExceptionVector(int vector, String mnemonic, boolean errorCode, Type type, DoubleFaultClass doubleFaultClass) {
        this.vector = vector;
        this.mnemonic = mnemonic;
        this.errorCode = errorCode;
        this.type = type;
        this.doubleFaultClass = doubleFaultClass;
    }

    /** The IDT vector number, which is also the bit in the VMX exception bitmap. */
    public int vector() {
        return vector;
    }

    /** The SDM's name: "#GP", "NMI". */
    public String mnemonic() {
        return mnemonic;
    }

    /**
     * Whether delivering this exception pushes an error code. In real-address mode no exception
     * does; that is the delivery's rule (SDM 20.1.4), not the vector's.
     */
    public boolean pushesErrorCode() {
        return errorCode;
    }

    public Type type() {
        return type;
    }

    public DoubleFaultClass doubleFaultClass() {
        return doubleFaultClass;
    }

    /**
     * Table 6-5: a second exception of class {@code second} detected while delivering a first
     * event of class {@code first}. Benign first events (and every interrupt) let the second be
     * handled serially; contributory after contributory, and contributory or page fault after a
     * page fault, make a #DF; a contributory or page fault while delivering #DF is a triple fault.
     */
    public static Escalation escalation(DoubleFaultClass first, DoubleFaultClass second) {
        boolean secondSerious = second == DoubleFaultClass.CONTRIBUTORY || second == DoubleFaultClass.PAGE_FAULT;
        return switch (first) {
            case BENIGN -> Escalation.HANDLE_SERIALLY;
            case CONTRIBUTORY -> second == DoubleFaultClass.CONTRIBUTORY ? Escalation.DOUBLE_FAULT : Escalation.HANDLE_SERIALLY;
            case PAGE_FAULT -> secondSerious ? Escalation.DOUBLE_FAULT : Escalation.HANDLE_SERIALLY;
            case DOUBLE_FAULT -> secondSerious ? Escalation.TRIPLE_FAULT : Escalation.HANDLE_SERIALLY;
        };
    }

    /** {@link #escalation(DoubleFaultClass, DoubleFaultClass)} for two exceptions. */
    public static Escalation escalation(ExceptionVector first, ExceptionVector second) {
        return escalation(first.doubleFaultClass, second.doubleFaultClass);
    }

    /** Whether {@code vector} names an exception tdemu models (0–21 except the reserved 15, and AMD's #VC, 29). */
    public static boolean isDefined(int vector) {
        return vector >= 0 && vector <= CP.vector && vector != 15 || vector == VC.vector;
    }

    /** The exception with IDT vector {@code vector}; reserved vectors and interrupts (32–255) are refused. */
    public static ExceptionVector fromVector(int vector) {
        for (ExceptionVector v : values()) {
            if (v.vector == vector) {
                return v;
            }
        }
        throw new IllegalArgumentException(vector >= 0 && vector < 32
                ? "exception vector " + vector + " is reserved by Intel: not an exception the CPU model raises"
                : "exception vector not modelled: " + vector + " (vectors 32-255 are interrupts)");
    }
}
