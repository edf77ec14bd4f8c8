package dev.tdemu.emulator.unicorn;

/**
 * Called for every interrupt or exception the guest raises ({@code UC_HOOK_INTR}) instead of
 * delivery through the guest IDT, which the engine never does. Faults report RIP on the faulting
 * instruction, traps (int3, single step) RIP after it. The error code of #GP, #PF and the like is
 * {@link Unicorn#exceptionErrorCode()}; before delivering by hand, call
 * {@link Unicorn#clearExceptionInFlight()} so the next exception is not turned into #DF.
 * Without any interrupt hook the engine stops with {@link UcError#EXCEPTION}.
 */
@FunctionalInterface
public interface InterruptHook {
    void onInterrupt(Unicorn uc, int vector);
}
