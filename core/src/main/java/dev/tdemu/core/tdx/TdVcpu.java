package dev.tdemu.core.tdx;

import dev.tdemu.core.vmx.ExceptionBitmap;
import dev.tdemu.core.x86.DebugRegisters;

import java.util.Optional;

/**
 * The TDX module's per-TD-vCPU state (its TDVPS): the TD it belongs to and its VCPU_INDEX, the
 * TD's saved DR0–3/DR6/DR7 (INIT values at creation), the TD's exception bitmap, the host DRs
 * saved by TDH.VP.ENTER, the #VE information until the TD reads it, the CPUID #VE controls, and a
 * TDG.VP.VMCALL waiting for the host's answer.
 *
 * <p>The accessors expose module-private state for the model and its checks; the host's only
 * legitimate way in is {@link TdxModule}'s interface. A vCPU runs on one thread at a time.
 */
public final class TdVcpu {

    private final Td td;
    private final int vcpuIndex;
    private DebugRegisters savedDebugRegisters = DebugRegisters.INIT;
    private ExceptionBitmap exceptionBitmap = ExceptionBitmap.NONE;
    private DebugRegisters hostAtEnter;
    private long hostDebugctlAtEnter;
    private long debugctl;
    private boolean running;
    private VeInfo veInfo;
    private boolean cpuidSupervisorVe;
    private boolean cpuidUserVe;
    private PendingVmcall pendingVmcall;

    /** A TDG.VP.VMCALL the host has not answered: what completing it needs. */
    record PendingVmcall(int gprSelect, long nextRip, boolean trapFlag) {
    }

    /**
     * A vCPU of a TD of its own with these attributes (one vCPU, GPAW 48, every private GPA backed
     * and accepted). Multi-vCPU TDs create their vCPUs with {@link Td#addVcpu()}.
     */
    public TdVcpu(TdAttributes attributes) {
        this(new Td(new TdParams(attributes, 1, TdParams.GPAW_48, 1L << 47, 1L << 47)), 0);
    }

    TdVcpu(Td td, int vcpuIndex) {
        this.td = td;
        this.vcpuIndex = vcpuIndex;
    }

    public Td td() {
        return td;
    }

    public TdAttributes attributes() {
        return td.attributes();
    }

    /** VCPU_INDEX: this vCPU's place in the TD's creation order, from 0. */
    public int vcpuIndex() {
        return vcpuIndex;
    }

    /** The TD's own DR values as last saved by a TD exit (or written through the debug interface). */
    public DebugRegisters savedDebugRegisters() {
        return savedDebugRegisters;
    }

    /** Which exceptions in the TD exit to the host; only a debug TD's host can change it. */
    public ExceptionBitmap exceptionBitmap() {
        return exceptionBitmap;
    }

    /** The physical DRs the module found at the last TDH.VP.ENTER, or null before the first. */
    public DebugRegisters hostAtEnter() {
        return hostAtEnter;
    }

    /** The host's IA32_DEBUGCTL the module found at the last TDH.VP.ENTER. */
    public long hostDebugctlAtEnter() {
        return hostDebugctlAtEnter;
    }

    /** The TD's own IA32_DEBUGCTL as the last TD exit saved it. */
    public long debugctl() {
        return debugctl;
    }

    /** Whether the vCPU is between TDH.VP.ENTER and its TD exit. */
    public boolean running() {
        return running;
    }

    /** The #VE information recorded by the last #VE, while the TD has not read it with TDG.VP.VEINFO.GET. */
    public Optional<VeInfo> veInfo() {
        return Optional.ofNullable(veInfo);
    }

    /** TDG.VP.CPUIDVE.SET: CPUID at CPL 0 / CPL > 0 always raises #VE. */
    public boolean cpuidSupervisorVe() {
        return cpuidSupervisorVe;
    }

    public boolean cpuidUserVe() {
        return cpuidUserVe;
    }

    /** Whether a TDG.VP.VMCALL of this vCPU waits for the host's answer. */
    public boolean vmcallPending() {
        return pendingVmcall != null;
    }

    void setSavedDebugRegisters(DebugRegisters value) {
        savedDebugRegisters = value;
    }

    void setExceptionBitmap(ExceptionBitmap value) {
        exceptionBitmap = value;
    }

    void enter(DebugRegisters host, long hostDebugctl) {
        hostAtEnter = host;
        hostDebugctlAtEnter = hostDebugctl;
        running = true;
    }

    void setDebugctl(long value) {
        debugctl = value;
    }

    void exit() {
        running = false;
    }

    void setVeInfo(VeInfo value) {
        veInfo = value;
    }

    void setCpuidVe(boolean supervisor, boolean user) {
        cpuidSupervisorVe = supervisor;
        cpuidUserVe = user;
    }

    PendingVmcall pendingVmcall() {
        return pendingVmcall;
    }

    void setPendingVmcall(PendingVmcall value) {
        pendingVmcall = value;
    }
}
