package dev.tdemu.core.x86;

/**
 * Ring-0 access to a CPU's debug state as the host kernel performs it: the model's
 * {@code get_debugreg}/{@code set_debugreg} and {@code get_debugctlmsr}/{@code update_debugctlmsr}.
 * Registers are 0–3, 6 and 7 (Linux runs with CR4.DE=1, so DR4/DR5 do not exist).
 */
public interface DrAccess {

    long getDebugreg(int reg);

    void setDebugreg(int reg, long value);

    /** RDMSR IA32_DEBUGCTL. An access that cannot reach the MSR says so loudly. */
    default long getDebugctlmsr() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no IA32_DEBUGCTL");
    }

    /** WRMSR IA32_DEBUGCTL (the kernel's update_debugctlmsr). */
    default void updateDebugctlmsr(long value) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no IA32_DEBUGCTL");
    }
}
