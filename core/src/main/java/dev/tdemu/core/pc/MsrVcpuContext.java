package dev.tdemu.core.pc;

/**
 * What a vCPU's {@link MsrFile} reaches outside itself: the MSRs whose home is the CPU engine
 * (it uses them while executing guest code), CR0.PG, and IA32_DEBUGCTL,
 * whose home is the debug-register model. The emulator implements it per vCPU.
 */
public interface MsrVcpuContext {

    /**
     * The engine's value of an engine-owned MSR ({@link MsrFile#engineOwned}): EFER (with LMA as
     * the engine set it), FS/GS/KERNEL_GS base (MOV to FS/GS and SWAPGS change them), STAR,
     * LSTAR, CSTAR, FMASK.
     */
    long readEngineMsr(int index);

    /** Loads an engine-owned MSR into the engine after {@link MsrFile} validated the value. */
    void writeEngineMsr(int index, long value);

    /** CR0.PG: EFER.LME cannot change while paging is on. */
    boolean pagingEnabled();

    /** The guest's IA32_DEBUGCTL where the debug-register model keeps it (the VMCS for a VMX guest). */
    long debugctl();

    void setDebugctl(long value);
}
