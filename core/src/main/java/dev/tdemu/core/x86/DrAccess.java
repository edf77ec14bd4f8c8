package dev.tdemu.core.x86;

/**
 * Ring-0 access to a CPU's debug registers as the host kernel performs it: the model's
 * {@code get_debugreg}/{@code set_debugreg}. Registers are 0–3, 6 and 7 (Linux runs with CR4.DE=1,
 * so DR4/DR5 do not exist).
 */
public interface DrAccess {

    long getDebugreg(int reg);

    void setDebugreg(int reg, long value);
}
