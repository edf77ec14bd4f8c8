package dev.tdemu.emulator.machine;

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
public record X86Exception(int vector, long errorCode, boolean faultRf, long returnRip, long cr2) {
    public static final int DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
            TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19, VE = 20, CP = 21;

    public boolean hasErrorCode() {
        return errorCode >= 0;
    }

    /** Whether the architecture pushes an error code for this vector (exceptions only). */
    public static boolean pushesErrorCode(int vector) {
        return switch (vector) {
            case DF, TS, NP, SS, GP, PF, AC, CP -> true;
            default -> false;
        };
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

    /** SDM "conditions for generating a double fault": contributory exceptions. */
    static boolean isContributory(int vector) {
        return vector == DE || vector == TS || vector == NP || vector == SS || vector == GP;
    }

    /** Whether {@code second}, raised while delivering {@code first}, becomes a #DF. */
    public static boolean makesDoubleFault(int first, int second) {
        if (isContributory(first)) {
            return isContributory(second);
        }
        if (first == PF) {
            return isContributory(second) || second == PF;
        }
        return false;
    }

    public static String name(int vector) {
        return switch (vector) {
            case DE -> "#DE"; case DB -> "#DB"; case NMI -> "NMI"; case BP -> "#BP"; case OF -> "#OF";
            case BR -> "#BR"; case UD -> "#UD"; case NM -> "#NM"; case DF -> "#DF"; case TS -> "#TS";
            case NP -> "#NP"; case SS -> "#SS"; case GP -> "#GP"; case PF -> "#PF"; case MF -> "#MF";
            case AC -> "#AC"; case MC -> "#MC"; case XM -> "#XM"; case VE -> "#VE"; case CP -> "#CP";
            default -> "vector " + vector;
        };
    }

    @Override
    public String toString() {
        return name(vector) + (hasErrorCode() ? String.format("(0x%x)", errorCode) : "")
                + String.format(" at RIP 0x%x", returnRip) + (vector == PF ? String.format(" CR2=0x%x", cr2) : "");
    }
}
