package dev.tdemu.emulator.cpu;

import dev.tdemu.emulator.unicorn.MemType;

/** Why one run of a guest engine stopped: exactly one event per run. */
public sealed interface EngineEvent {
    /** An SVM intercept (MOV DR, CPUID, HLT, MSR, MOV to CR3, VMRUN, VMMCALL), RIP on the instruction. */
    record Intercept(int exitCode, long rip) implements EngineEvent {}

    /** An exception the engine raised: faults with RIP on the instruction, INT3/INTO after it. */
    record Exception(int vector, long errorCode, long rip) implements EngineEvent {}

    /** The single-step trap after one instruction ran with RFLAGS.TF set; RIP is the next one. */
    record SingleStep(long rip) implements EngineEvent {}

    /**
     * INT 1 (CD 01), which the engine reports like a single-step trap; told apart by the CPU
     * ({@code PhysicalCpu}), never recorded by the engine hooks. RIP is past the instruction.
     */
    record Int1(long rip) implements EngineEvent {}

    /** An instruction the engine does not implement (VMCALL, TDCALL, ICEBP, UD2, …), RIP on it. */
    record InvalidInstruction(long rip) implements EngineEvent {}

    /**
     * A PAUSE found by the code scan ended a spin loop past the PLE window while another vCPU
     * waited for the engine ({@link GuestEngine#enablePauseLoopExiting}), stopped before it ran.
     */
    record PauseLoop(long rip) implements EngineEvent {}

    /** A port I/O instruction found by the code scan, stopped before it ran. */
    record PortIoInstruction(PortIo io, long rip) implements EngineEvent {}

    /**
     * Port I/O the scan did not cover (code that appeared at run time): the engine already
     * performed it (for IN with {@code value} from the device) and ran on to the end of the
     * translated block, so RIP is past it.
     */
    record ImprecisePortIo(boolean in, int port, int size, long value, long rip) implements EngineEvent {}

    /**
     * SYSCALL at {@code rip}, which the engine does not perform (it only moves RIP past it): the
     * CPU layer does ({@code SyscallEmulation}).
     */
    record Syscall(long rip) implements EngineEvent {}

    /** An enabled execute breakpoint's instruction, at {@code linear} ({@code rip} with CS's base), is about to run (RF was clear). */
    record ExecuteBreakpoint(long rip, long linear) implements EngineEvent {}

    /**
     * The TLB fill for an access was refused (a page holding an enabled data breakpoint, or an
     * access the CPU's paging rules may fault): stopped before the instruction at RIP ran, which
     * must now be single-stepped with the engine's own page walk (see {@code DrEnforcer}).
     * {@code fetch}: the refused access was the fetch of code at or after RIP, which happens when
     * the engine translates it, before the instruction's execute-breakpoint check; a data access
     * comes after that check.
     */
    record RefusedAccess(long rip, boolean fetch) implements EngineEvent {}

    /** An access to guest-physical memory that is not guest RAM. */
    record MemoryFault(MemType type, long physical, int size, long rip) implements EngineEvent {}

    /** The guest can take an interrupt now (RFLAGS.IF set, no STI/MOV SS shadow), at a block boundary; RIP where it is. */
    record InterruptWindow(long rip) implements EngineEvent {}

    /** The guest can take an NMI now (no STI/MOV SS shadow, whatever RFLAGS.IF), at a block boundary; RIP where it is. */
    record NmiWindow(long rip) implements EngineEvent {}

    /** A stop requested from outside (timeout, debugger pause), RIP where the guest was. */
    record Stopped(long rip) implements EngineEvent {}

    /**
     * The VMM completed an exit inside the engine and entered the guest again (an intercept in
     * the fastpath, {@link ExitFastpath#EXIT_FASTPATH_REENTER_GUEST}; a device access,
     * {@link GuestEngine#endRunAtNextBlock}), but something must be done between runs first: the
     * engine armed for the debug registers the entry left, exits left for between runs
     * ({@link GuestControls#afterRun}). The engine stops, then runs on from RIP. No exit.
     */
    record Reentered(long rip) implements EngineEvent {}

    /** The instruction limit of a run was reached without any event. */
    record Completed(long rip) implements EngineEvent {}
}
