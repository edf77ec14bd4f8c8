package dev.tdemu.core.x86;

/** The exception vectors the debug-register model can raise or intercept. */
public enum ExceptionVector {
    /** #DB, debug exception. */
    DB(1),
    /** #BP, breakpoint (INT3). */
    BP(3),
    /** #UD, invalid opcode (MOV DR4/DR5 with CR4.DE=1). */
    UD(6),
    /** #GP, general protection; always with error code 0 in this model. */
    GP(13);

    private final int vector;

    ExceptionVector(int vector) {
        this.vector = vector;
    }

    /** The IDT vector number, which is also the bit in the VMX exception bitmap. */
    public int vector() {
        return vector;
    }

    public static ExceptionVector fromVector(int vector) {
        for (ExceptionVector v : values()) {
            if (v.vector == vector) {
                return v;
            }
        }
        throw new IllegalArgumentException("exception vector not modelled: " + vector);
    }
}
