package dev.tdemu.core.invariant;

/** The invariants tdemu checks; the names appear in traces and in the `tdemu check` matrix. */
public enum Invariant {
    /** When the host has breakpoints armed, the physical DRs hold them whenever host code runs. */
    HOST_BREAKPOINTS_INTACT,
    /** The guest's DR values survive exits, and its breakpoints are in hardware while it runs. */
    GUEST_BREAKPOINTS_INTACT,
    /** For a non-debug TD: no TD DR value reaches the host and no host DR value reaches the TD. */
    NO_LEAK,
    /** A debugger's hardware breakpoint is reported once per hit, with the right RIP, DR6 and DR7. */
    DEBUGGER_BREAKPOINTS_EXACT,
    /**
     * The host's IA32_DEBUGCTL is its own whenever host code runs, and its host-owned bits
     * (FREEZE_IN_SMM) stay the host's while the guest runs, since SMM runs with whatever is loaded.
     */
    HOST_DEBUGCTL_INTACT,
    /**
     * DR6 holds its architectural reset value 0xFFFF0FF0 whenever host code runs: no stale status
     * bit, and BLD (bit 11, active low) set, so that the host's #DB handler never reports a bus
     * lock that did not happen.
     */
    DR6_RESET_VALUE,
    /**
     * While KVM enters the guest (after its entry sequence, before the hardware entry), DR7 enables
     * no breakpoint when the host has some, so none can fire in the noinstr entry path (f85d40160691).
     */
    HOST_BREAKPOINTS_DISABLED_AT_ENTRY
}
