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
    DEBUGGER_BREAKPOINTS_EXACT
}
