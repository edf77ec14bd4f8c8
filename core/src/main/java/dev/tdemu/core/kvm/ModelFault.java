package dev.tdemu.core.kvm;

/**
 * A deliberate fault {@link PolicyModelRun} puts into the exit path after KVM's exit sequence, so a
 * test can show that a column of {@link ModelMatrix} fails when the state it judges is broken (the
 * model's counterpart of the emulator's FaultInjection). Never used in a normal run.
 */
public enum ModelFault {
    NONE,
    /** The host's DR0–DR3, DR6 and DR7 are wiped to their INIT values while it has breakpoints. */
    BREAK_HOST_RESTORE,
    /** The physical IA32_DEBUGCTL is left 0, as a VM exit with "clear DEBUGCTL" leaves it. */
    CLEAR_HOST_DEBUGCTL,
    /** 0 is written to DR6 (on a CPU with bus-lock detection that clears BLD). */
    ZERO_DR6
}
