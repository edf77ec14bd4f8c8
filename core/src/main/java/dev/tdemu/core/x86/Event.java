package dev.tdemu.core.x86;

import dev.tdemu.core.x86.ExceptionVector.DoubleFaultClass;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * An event the processor delivers through the IDT (or the real-mode IVT): what happened, not
 * where. The four kinds follow the VMX interruption types KVM works with: a hardware exception
 * (an {@link ExceptionVector} with its error code and, for #PF, CR2), an NMI, an external
 * interrupt (any vector 0–255: a PIC may deliver vector 8 in real mode, where it is IRQ 0, not
 * #DF), and a software interrupt (INT n, INT3, INTO, INT1/ICEBP) with its instruction length.
 *
 * <p>The kind decides three things delivery needs: whether the EXT bit is set in the error code
 * of a fault raised while delivering it ({@link #external()}), whether the gate's DPL is checked
 * against the CPL ({@link #checksGateDpl()}), and its class for the double-fault rules.
 *
 * <p>Build one, with the RIP the frame saves, through the static methods:
 * <pre>{@code
 * Event.fault(GP).errorCode(0).at(rip)
 * Event.trap(DB).after(nextRip)
 * Event.pageFault(errorCode, cr2).at(rip)
 * Event.softwareInterrupt(0x80, 2).at(rip)     // saves rip + 2
 * Event.externalInterrupt(0x20).at(rip)
 * }</pre>
 */
public sealed interface Event {

    /** The IDT vector, 0–255. */
    int vector();

    /**
     * EXT (bit 0 of a selector error code): the event came from outside the program, so a fault
     * raised while delivering it sets EXT. Clear only for INT n, INT3 and INTO (SDM 6.13).
     */
    boolean external();

    /** Whether the gate's DPL must be at least the CPL (INT n, INT3 and INTO only; SDM 6.12.1.1). */
    default boolean checksGateDpl() {
        return false;
    }

    /** Table 6-4 class: every interrupt is benign. */
    default DoubleFaultClass doubleFaultClass() {
        return DoubleFaultClass.BENIGN;
    }

    /** Short form for messages: "#GP(0x0)", "INT 0x80", "IRQ vector 0x20", "NMI". */
    String describe();

    /**
     * A hardware exception.
     *
     * @param exception the vector
     * @param errorCode present exactly when {@link ExceptionVector#pushesErrorCode()}
     * @param cr2       for #PF the faulting linear address (CR2 is written as delivery starts); absent otherwise
     */
    record HardwareException(ExceptionVector exception, OptionalInt errorCode, OptionalLong cr2) implements Event {
        public HardwareException {
            if (exception == ExceptionVector.NMI) {
                throw new IllegalArgumentException("NMI is an interrupt: use Event.nmi()");
            }
            if (errorCode.isPresent() != exception.pushesErrorCode()) {
                throw new IllegalArgumentException(exception.mnemonic()
                        + (exception.pushesErrorCode() ? " pushes an error code: give one" : " pushes no error code"));
            }
            if (cr2.isPresent() != (exception == ExceptionVector.PF)) {
                throw new IllegalArgumentException("CR2 belongs to #PF only, not " + exception.mnemonic());
            }
        }

        @Override
        public int vector() {
            return exception.vector();
        }

        @Override
        public boolean external() {
            return true;
        }

        @Override
        public DoubleFaultClass doubleFaultClass() {
            return exception.doubleFaultClass();
        }

        @Override
        public String describe() {
            return exception.mnemonic() + (errorCode.isPresent() ? String.format("(0x%x)", errorCode.getAsInt()) : "")
                    + (cr2.isPresent() ? String.format(" CR2=0x%x", cr2.getAsLong()) : "");
        }
    }

    /** The non-maskable interrupt (vector 2). */
    record Nmi() implements Event {
        @Override
        public int vector() {
            return ExceptionVector.NMI.vector();
        }

        @Override
        public boolean external() {
            return true;
        }

        @Override
        public String describe() {
            return "NMI";
        }
    }

    /** A maskable interrupt from the PIC or the local APIC (INTR), any vector 0–255. */
    record ExternalInterrupt(int vector) implements Event {
        public ExternalInterrupt {
            checkVector(vector);
        }

        @Override
        public boolean external() {
            return true;
        }

        @Override
        public String describe() {
            return String.format("interrupt vector 0x%x", vector);
        }
    }

    /** The instructions that raise an event themselves. */
    enum Instruction {
        /** CD ib: any vector, gate DPL checked, EXT clear (VMX "software interrupt"). */
        INT_N,
        /** CC: #BP, gate DPL checked, EXT clear (VMX "software exception"). */
        INT3,
        /** CE: #OF when OF=1, gate DPL checked, EXT clear (VMX "software exception"); #UD in 64-bit mode. */
        INTO,
        /** F1: #DB without a DR6 condition, no DPL check, EXT set (VMX "privileged software exception"). */
        INT1
    }

    /**
     * An event raised by an instruction. The frame saves the RIP after it.
     *
     * @param instruction which one
     * @param vector      its vector (3 for INT3, 4 for INTO, 1 for INT1)
     * @param length      the instruction's length with prefixes, 1–15
     */
    record SoftwareInterrupt(Instruction instruction, int vector, int length) implements Event {
        public SoftwareInterrupt {
            checkVector(vector);
            int fixed = switch (instruction) {
                case INT_N -> vector;
                case INT3 -> ExceptionVector.BP.vector();
                case INTO -> ExceptionVector.OF.vector();
                case INT1 -> ExceptionVector.DB.vector();
            };
            if (vector != fixed) {
                throw new IllegalArgumentException(instruction + " raises vector " + fixed + ", not " + vector);
            }
            if (length < 1 || length > 15) {
                throw new IllegalArgumentException("an instruction is 1..15 bytes, not " + length);
            }
        }

        @Override
        public boolean external() {
            return instruction == Instruction.INT1;
        }

        @Override
        public boolean checksGateDpl() {
            return instruction != Instruction.INT1;
        }

        @Override
        public String describe() {
            return switch (instruction) {
                case INT_N -> String.format("INT 0x%x", vector);
                case INT3 -> "INT3";
                case INTO -> "INTO";
                case INT1 -> "INT1";
            };
        }
    }

    private static void checkVector(int vector) {
        if (vector < 0 || vector > 255) {
            throw new IllegalArgumentException("an interrupt vector is 0..255, not " + vector);
        }
    }

    /** An exception that faults: the frame saves the instruction's own RIP, with RF set. */
    static ExceptionBuilder fault(ExceptionVector vector) {
        return ExceptionBuilder.of(vector, ExceptionVector.Type.FAULT);
    }

    /** An exception that traps: the frame saves the next instruction's RIP. */
    static ExceptionBuilder trap(ExceptionVector vector) {
        return ExceptionBuilder.of(vector, ExceptionVector.Type.TRAP);
    }

    /** An abort (#DF, #MC): the saved RIP is not meaningful to the handler; RF is set as for a fault. */
    static ExceptionBuilder abort(ExceptionVector vector) {
        return ExceptionBuilder.of(vector, ExceptionVector.Type.ABORT);
    }

    /** #PF with its error code and the linear address for CR2. */
    static ExceptionBuilder pageFault(int errorCode, long cr2) {
        return new ExceptionBuilder(ExceptionVector.PF, ExceptionVector.Type.FAULT, OptionalInt.of(errorCode),
                OptionalLong.of(cr2));
    }

    /**
     * {@code vector} as an exit or the engine reported it, to be injected again (KVM's
     * kvm_queue_exception_e, and kvm_queue_exception_p with #PF's CR2 as the payload): the error
     * code is kept when the vector pushes one and dropped otherwise, CR2 is kept for #PF only.
     * NMI gives the NMI. {@link #at} then places it: RF set unless the vector is a trap.
     *
     * @param errorCode the reported error code (ignored for a vector that pushes none)
     * @param cr2       the reported linear address (ignored except for #PF)
     */
    static Event exception(ExceptionVector vector, int errorCode, long cr2) {
        if (vector == ExceptionVector.NMI) {
            return nmi();
        }
        return new HardwareException(vector, vector.pushesErrorCode() ? OptionalInt.of(errorCode) : OptionalInt.empty(),
                vector == ExceptionVector.PF ? OptionalLong.of(cr2) : OptionalLong.empty());
    }

    static Nmi nmi() {
        return new Nmi();
    }

    static ExternalInterrupt externalInterrupt(int vector) {
        return new ExternalInterrupt(vector);
    }

    /** INT n of {@code length} bytes (2, or more with prefixes). */
    static SoftwareInterrupt softwareInterrupt(int vector, int length) {
        return new SoftwareInterrupt(Instruction.INT_N, vector, length);
    }

    /** INT3 (CC) of {@code length} bytes. */
    static SoftwareInterrupt int3(int length) {
        return new SoftwareInterrupt(Instruction.INT3, ExceptionVector.BP.vector(), length);
    }

    /** INTO (CE) of {@code length} bytes. */
    static SoftwareInterrupt into(int length) {
        return new SoftwareInterrupt(Instruction.INTO, ExceptionVector.OF.vector(), length);
    }

    /** INT1/ICEBP (F1) of {@code length} bytes. */
    static SoftwareInterrupt int1(int length) {
        return new SoftwareInterrupt(Instruction.INT1, ExceptionVector.DB.vector(), length);
    }

    /**
     * This event interrupting the instruction at {@code rip}: for an interrupt, the instruction
     * that runs after the handler returns; for a software interrupt, the INT instruction itself
     * (the frame saves {@code rip + length}). Exceptions say fault or trap through their builder.
     */
    default EventDelivery at(long rip) {
        return switch (this) {
            case HardwareException e -> new EventDelivery(e, rip, e.exception().type() != ExceptionVector.Type.TRAP);
            case SoftwareInterrupt s -> new EventDelivery(s, rip + s.length(), false);
            case Nmi n -> new EventDelivery(n, rip, false);
            case ExternalInterrupt i -> new EventDelivery(i, rip, false);
        };
    }

    /**
     * A hardware exception being built: its vector, whether it faults or traps, and the error code.
     * Immutable; {@link #at} (faults, aborts) or {@link #after} (traps) gives the delivery.
     */
    record ExceptionBuilder(ExceptionVector vector, ExceptionVector.Type type, OptionalInt errorCode, OptionalLong cr2) {
        static ExceptionBuilder of(ExceptionVector vector, ExceptionVector.Type type) {
            boolean allowed = vector.type() == type
                    || vector.type() == ExceptionVector.Type.FAULT_OR_TRAP && type != ExceptionVector.Type.ABORT;
            if (!allowed) {
                throw new IllegalArgumentException(vector.mnemonic() + " is " + vector.type().name().toLowerCase()
                        + ", not " + type.name().toLowerCase());
            }
            return new ExceptionBuilder(vector, type, OptionalInt.empty(), OptionalLong.empty());
        }

        public ExceptionBuilder errorCode(int code) {
            return new ExceptionBuilder(vector, type, OptionalInt.of(code), cr2);
        }

        /** The exception as an event, without a place. */
        public HardwareException event() {
            return new HardwareException(vector, errorCode, cr2);
        }

        /** A fault or abort at the instruction at {@code rip}: RF set in the frame (SDM 17.3.1.1). */
        public EventDelivery at(long rip) {
            if (type == ExceptionVector.Type.TRAP) {
                throw new IllegalStateException(vector.mnemonic() + " as a trap is delivered after its instruction: use after(nextRip)");
            }
            return new EventDelivery(event(), rip, true);
        }

        /** A trap after the instruction; {@code nextRip} is the one to run when the handler returns. */
        public EventDelivery after(long nextRip) {
            if (type != ExceptionVector.Type.TRAP) {
                throw new IllegalStateException(vector.mnemonic() + " as a " + type.name().toLowerCase()
                        + " is delivered at its instruction: use at(rip)");
            }
            return new EventDelivery(event(), nextRip, false);
        }
    }
}
