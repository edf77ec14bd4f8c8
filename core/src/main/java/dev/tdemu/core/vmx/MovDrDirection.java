package dev.tdemu.core.vmx;

/** Bit 4 of the MOV-DR exit qualification. */
public enum MovDrDirection {
    /** 0: MOV to DR (the GPR is the source). */
    TO_DR,
    /** 1: MOV from DR (the GPR is the destination). */
    FROM_DR
}
