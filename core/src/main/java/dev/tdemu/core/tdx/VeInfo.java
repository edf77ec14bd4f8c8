package dev.tdemu.core.tdx;

/**
 * The #VE information the TDX module records when it converts an event into a virtualization
 * exception, and TDG.VP.VEINFO.GET returns (RCX, RDX, R8, R9, R10): the VMX exit reason and exit
 * qualification the event would have caused, its guest-linear and guest-physical address (EPT
 * violations only), and the instruction's length and VMX instruction information.
 */
public record VeInfo(int exitReason, long exitQualification, long gla, long gpa, int instructionLength,
        int instructionInfo) {

    /** #VE is vector 20. */
    public static final int VE_VECTOR = 20;

    /** An instruction's #VE: no linear or physical address. */
    public static VeInfo instruction(int exitReason, long exitQualification, int instructionLength) {
        return new VeInfo(exitReason, exitQualification, 0, 0, instructionLength, 0);
    }

    /** R10 of TDG.VP.VEINFO.GET: instruction information in bits 63:32, length in bits 31:0. */
    public long lengthAndInfo() {
        return ((long) instructionInfo << 32) | Integer.toUnsignedLong(instructionLength);
    }
}
