package dev.tdemu.core.kvm;

import dev.tdemu.core.x86.Dr6;

import java.util.OptionalLong;

/** What the emulator does after {@link KvmVcpu#handleDr}. */
public sealed interface HandleDrResult {

    /** Lazy switch: re-enter at the same RIP; MOV-DR exiting is now off and the guest's DRs are loaded at entry. */
    record ReExecute() implements HandleDrResult {
    }

    /**
     * KVM emulated the MOV: write {@code gprValue} (if present, a MOV from DR) to register
     * {@code gpr}, then advance RIP past the instruction.
     */
    record Emulated(int gpr, OptionalLong gprValue) implements HandleDrResult {
    }

    /**
     * Inject #DB (fault, RIP unchanged) into the guest. The guest's DR6 and DR7 in KVM's view are
     * already updated ({@code guestDr6} is the new DR6); the emulator must not touch the physical DR6.
     */
    record InjectDb(Dr6 guestDr6) implements HandleDrResult {
    }

    /** Inject #GP(0), RIP unchanged. */
    record InjectGp() implements HandleDrResult {
    }

    /** Inject #UD, RIP unchanged. */
    record InjectUd() implements HandleDrResult {
    }

    /** Stop and report to the debugger (its own GD fired); RIP unchanged. */
    record ReportToDebugger(DebugStop stop) implements HandleDrResult {
    }
}
