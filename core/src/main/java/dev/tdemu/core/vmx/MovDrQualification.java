package dev.tdemu.core.vmx;

/**
 * Exit qualification of a MOV-DR exit (basic reason 29): DR number in bits 2:0, direction in bit 4,
 * general-purpose register in bits 11:8 (0 = RAX … 15 = R15).
 */
public record MovDrQualification(int drNumber, MovDrDirection direction, int gpr) {

    public MovDrQualification {
        if (drNumber < 0 || drNumber > 7) {
            throw new IllegalArgumentException("DR number is 0..7, not " + drNumber);
        }
        if (gpr < 0 || gpr > 15) {
            throw new IllegalArgumentException("GPR is 0..15, not " + gpr);
        }
    }

    public static MovDrQualification fromBits(long bits) {
        return new MovDrQualification((int) (bits & 0x7),
                (bits & (1L << 4)) != 0 ? MovDrDirection.FROM_DR : MovDrDirection.TO_DR,
                (int) ((bits >>> 8) & 0xF));
    }

    public long bits() {
        return drNumber | (direction == MovDrDirection.FROM_DR ? 1L << 4 : 0) | ((long) gpr << 8);
    }
}
