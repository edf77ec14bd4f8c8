package dev.tdemu.emulator.unicorn;

/**
 * Called for CPUID with the guest's EAX/ECX in place. Return true after writing EAX, EBX, ECX and
 * EDX to replace the engine's CPUID; false to let the engine execute it.
 */
@FunctionalInterface
public interface CpuidHook {
    boolean onCpuid(Unicorn uc);
}
