package dev.tdemu.core.pc;

/**
 * The NMI state of one vCPU's core (SDM vol. 3A "Nonmaskable Interrupt (NMI)" and "Handling
 * Multiple NMIs"): which NMIs wait, and whether NMIs are blocked. NMIs reach the core through its
 * local APIC — LINT1 in NMI mode, an NMI IPI, an I/O APIC entry in NMI mode — which latches them
 * ({@link ApicCpuInterface#takeNmi}); this class takes them from there at every call, so the
 * limits below apply at the moment the core looks.
 *
 * <p>Delivering an NMI blocks further NMIs until the next IRET completes. While blocked, one NMI
 * stays latched and further ones are lost; while not blocked two may wait, as KVM allows
 * (process_nmi: the hypervisor cannot take the first as fast as hardware would, so a second that
 * arrived meanwhile is kept). The core still applies what this class cannot see: the MOV SS
 * shadow, and a vCPU waiting for SIPI takes nothing. Thread-safe; meant for its vCPU's thread.
 */
public final class NmiState {

    private final ApicCpuInterface apic;
    private int latched;
    private boolean blocked;

    public NmiState(ApicCpuInterface apic) {
        this.apic = apic;
    }

    /** Takes the NMIs the local APIC latched, within the limit the blocking state allows. */
    private void collect() {
        while (apic.takeNmi()) {
            latched = Math.min(latched + 1, blocked ? 1 : 2);
        }
    }

    /** Whether an NMI would be delivered at this instruction boundary: one is latched and NMIs are not blocked. */
    public synchronized boolean deliverable() {
        collect();
        return latched > 0 && !blocked;
    }

    /**
     * The core delivers an NMI (vector 2 through the IDT) if one is deliverable: it leaves the
     * latch and NMIs are blocked from now until {@link #iret()}.
     *
     * @return whether an NMI is to be delivered now
     */
    public synchronized boolean takePending() {
        collect();
        if (latched == 0 || blocked) {
            return false;
        }
        latched--;
        blocked = true;
        return true;
    }

    /**
     * The core completed an IRET: NMIs are unblocked (whichever handler's IRET it was, as the SDM
     * says). NMIs that arrived in the handler are taken first, so they are counted under the
     * blocked limit.
     */
    public synchronized void iret() {
        collect();
        blocked = false;
    }

    /** Whether NMIs are blocked (an NMI handler runs and has not executed IRET). */
    public synchronized boolean blocked() {
        return blocked;
    }

    /** How many NMIs wait (0-2; at most 1 while blocked). */
    public synchronized int latched() {
        collect();
        return latched;
    }

    /** RESET or INIT: nothing latched, not blocked (KVM's kvm_vcpu_reset). The APIC's own latch is cleared by its reset/init. */
    public synchronized void reset() {
        latched = 0;
        blocked = false;
    }

    @Override
    public synchronized String toString() {
        return "NmiState[latched=" + latched + (blocked ? " blocked]" : "]");
    }
}
