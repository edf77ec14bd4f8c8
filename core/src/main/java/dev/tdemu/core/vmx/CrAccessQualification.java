package dev.tdemu.core.vmx;

/**
 * Exit qualification of a control-register access (basic reason 28, SDM "Exit Qualification for
 * Control-Register Accesses"): the CR number in bits 3:0, the access type in bits 5:4, the LMSW
 * operand type in bit 6, the general-purpose register in bits 11:8 and the LMSW source data in
 * bits 31:16.
 */
public record CrAccessQualification(int cr, AccessType type, int gpr, boolean lmswMemory, int lmswData) {
    /** Bits 5:4. */
    public enum AccessType { MOV_TO_CR, MOV_FROM_CR, CLTS, LMSW }

    public CrAccessQualification {
        if (cr < 0 || cr > 15 || gpr < 0 || gpr > 15) {
            throw new IllegalArgumentException("CR and GPR numbers are 0..15: CR" + cr + ", GPR " + gpr);
        }
    }

    public static CrAccessQualification movToCr(int cr, int gpr) {
        return new CrAccessQualification(cr, AccessType.MOV_TO_CR, gpr, false, 0);
    }

    public static CrAccessQualification movFromCr(int cr, int gpr) {
        return new CrAccessQualification(cr, AccessType.MOV_FROM_CR, gpr, false, 0);
    }

    public static CrAccessQualification fromBits(long bits) {
        return new CrAccessQualification((int) (bits & 0xF), AccessType.values()[(int) ((bits >>> 4) & 3)],
                (int) ((bits >>> 8) & 0xF), (bits & 64) != 0, (int) ((bits >>> 16) & 0xFFFF));
    }

    public long bits() {
        return cr | ((long) type.ordinal() << 4) | (lmswMemory ? 64 : 0) | ((long) gpr << 8) | ((long) (lmswData & 0xFFFF) << 16);
    }
}
