package dev.tdemu.emulator.machine;

import dev.tdemu.core.x86.Event;
import dev.tdemu.core.x86.EventDelivery;
import dev.tdemu.core.x86.ExceptionVector;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * An exception or interrupt to deliver through the guest's IDT.
 *
 * @param vector     0..255
 * @param errorCode  the error code to push, or {@code -1} when the vector pushes none
 * @param faultRf    set RFLAGS.RF in the pushed frame: what the CPU does for every fault except
 *                   an instruction-breakpoint #DB, so that IRET re-runs the instruction without
 *                   re-triggering its instruction breakpoint
 * @param returnRip  the RIP pushed (the faulting instruction for faults, the next one for traps)
 * @param cr2        for #PF: the faulting linear address (CR2 is written before delivery)
 */
// superseded by core.x86.EventDelivery (built with Event.fault(GP).errorCode(0).at(rip) ...); callers migrate in the structure change
public record X86Exception(int vector, long errorCode, boolean faultRf, long returnRip, long cr2) {
    public static final int DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
            TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19, VE = 20, CP = 21;

    public boolean hasErrorCode() {
        return errorCode >= 0;
    }

    /** Whether the architecture pushes an error code for this vector (exceptions only). */
    // superseded by ExceptionVector.pushesErrorCode(); callers migrate in the structure change
    public static boolean pushesErrorCode(int vector) {
        return ExceptionVector.isDefined(vector) && ExceptionVector.fromVector(vector).pushesErrorCode();
    }

    public static X86Exception fault(int vector, long rip) {
        return new X86Exception(vector, pushesErrorCode(vector) ? 0 : -1, true, rip, 0);
    }

    public static X86Exception fault(int vector, long errorCode, long rip) {
        return new X86Exception(vector, errorCode, true, rip, 0);
    }

    public static X86Exception trap(int vector, long nextRip) {
        return new X86Exception(vector, -1, false, nextRip, 0);
    }

    public static X86Exception pageFault(long errorCode, long linear, long rip) {
        return new X86Exception(PF, errorCode, true, rip, linear);
    }

    /**
     * A fault #DB that does not set RF in the frame: an instruction breakpoint, or a #DB that KVM
     * injects itself (it sets RF only for exceptions of type EXCPT_FAULT, which #DB is not).
     */
    public static X86Exception debugFault(long rip) {
        return new X86Exception(DB, -1, false, rip, 0);
    }

    /** Whether {@code second}, raised while delivering {@code first}, becomes a #DF. */
    // superseded by ExceptionVector.escalation(first, second); callers migrate in the structure change
    public static boolean makesDoubleFault(int first, int second) {
        if (!ExceptionVector.isDefined(first) || !ExceptionVector.isDefined(second)) {
            return false; // interrupts are benign
        }
        return ExceptionVector.escalation(ExceptionVector.fromVector(first), ExceptionVector.fromVector(second))
                == ExceptionVector.Escalation.DOUBLE_FAULT;
    }

    // superseded by ExceptionVector.mnemonic(); callers migrate in the structure change
    public static String name(int vector) {
        return ExceptionVector.isDefined(vector) ? ExceptionVector.fromVector(vector).mnemonic() : "vector " + vector;
    }

    /**
     * This exception as an {@link EventDelivery}. Vectors 0-31 that name an exception become
     * hardware exceptions (NMI the NMI); every other vector becomes an external interrupt, since
     * this type cannot tell an INT n from an interrupt (the old delivery set EXT for both and left
     * the gate DPL check to its caller).
     */
    public EventDelivery toEventDelivery() {
        Event event;
        if (vector == NMI) {
            event = Event.nmi();
        } else if (ExceptionVector.isDefined(vector)) {
            ExceptionVector v = ExceptionVector.fromVector(vector);
            OptionalInt code = v.pushesErrorCode() ? OptionalInt.of(errorCode >= 0 ? (int) errorCode : 0) : OptionalInt.empty();
            event = new Event.HardwareException(v, code, v == ExceptionVector.PF ? OptionalLong.of(cr2) : OptionalLong.empty());
        } else {
            event = Event.externalInterrupt(vector);
        }
        return new EventDelivery(event, returnRip, faultRf);
    }

    /** The old form of {@code d}, for {@link IdtDelivery.Outcome}. */
    public static X86Exception of(EventDelivery d) {
        long code = -1, cr2 = 0;
        if (d.event() instanceof Event.HardwareException e) {
            code = e.errorCode().isPresent() ? e.errorCode().getAsInt() & 0xFFFF_FFFFL : -1;
            cr2 = e.cr2().orElse(0);
        }
        return new X86Exception(d.vector(), code, d.resumeFlag(), d.returnRip(), cr2);
    }

    @Override
    public String toString() {
        return name(vector) + (hasErrorCode() ? String.format("(0x%x)", errorCode) : "")
                + String.format(" at RIP 0x%x", returnRip) + (vector == PF ? String.format(" CR2=0x%x", cr2) : "");
    }
}
