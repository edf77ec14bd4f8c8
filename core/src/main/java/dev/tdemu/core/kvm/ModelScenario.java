package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.svm.SevFeatures;
import dev.tdemu.core.tdx.TdxDrBehaviour;

import java.util.ArrayList;
import java.util.List;

/**
 * A world to run a policy in without guest code: what the host has (breakpoints, DEBUGCTL, DR
 * address masks, how it booted), what the CPU can do, and what the guest does to its debug state
 * on its first run. {@link PolicyModelRun} steps it through entries and exits; {@link PolicyDiff}
 * runs two policies over the same one.
 *
 * @param world              the vCPU kind
 * @param tdxDr              the TDX module's behaviour (TDX only)
 * @param hostBreakpoints    installed on the CPU before the first entry, slots in order
 * @param hostDrAddrMasks    amd_set_dr_addr_mask() per slot (0 = exact), SEV-ES hosts
 * @param hostDebugctl       the host's DEBUGCTL when the vCPU is first loaded
 * @param hostDebugctlInIrq  written by an IPI after the first load and before the first entry (0: none)
 * @param busLockDetect      the CPU implements DR6.BLD
 * @param clearAllDebugRegs  the host booted with clear_all_debug_regs() (before 5f465c148c61)
 * @param guestDr0           the address the guest puts in DR0 on its first run (0: it leaves DRs alone)
 * @param guestDr7           the DR7 it writes with it
 * @param guestZeroesDr6     the guest writes 0 to DR6 on its first run
 * @param guestDebugctl      the DEBUGCTL a VMX guest writes (WRMSR) before its first run
 * @param kvmDebugSwap       SEV-ES: KVM put DebugSwap in the VMSAs it created
 * @param snp                SEV-ES: an SNP guest
 * @param cpuDebugSwap       SEV-ES: the CPU supports DebugSwap
 * @param apFeatures         SEV-ES: the SEV_FEATURES the guest gives this vCPU through AP Creation (null: KVM's)
 */
public record ModelScenario(GuestWorld world, TdxDrBehaviour tdxDr, List<HostBreakpoint> hostBreakpoints,
                            List<Long> hostDrAddrMasks, long hostDebugctl, long hostDebugctlInIrq,
                            boolean busLockDetect, boolean clearAllDebugRegs, long guestDr0, long guestDr7,
                            boolean guestZeroesDr6, long guestDebugctl, boolean kvmDebugSwap, boolean snp,
                            boolean cpuDebugSwap, SevFeatures apFeatures) {

    public ModelScenario {
        hostBreakpoints = List.copyOf(hostBreakpoints);
        hostDrAddrMasks = List.copyOf(hostDrAddrMasks);
        if (hostBreakpoints.size() > 4 || hostDrAddrMasks.size() > 4) {
            throw new IllegalArgumentException("a CPU has four breakpoint slots");
        }
    }

    public static Builder builder(GuestWorld world) {
        return new Builder(world);
    }

    /** Builds a {@link ModelScenario}; everything not set is off, 0 or empty. */
    public static final class Builder {
        private final GuestWorld world;
        private TdxDrBehaviour tdxDr = TdxDrBehaviour.INIT_ON_EXIT;
        private final List<HostBreakpoint> hostBreakpoints = new ArrayList<>();
        private final List<Long> hostDrAddrMasks = new ArrayList<>();
        private long hostDebugctl;
        private long hostDebugctlInIrq;
        private boolean busLockDetect;
        private boolean clearAllDebugRegs;
        private long guestDr0;
        private long guestDr7;
        private boolean guestZeroesDr6;
        private long guestDebugctl;
        private boolean kvmDebugSwap;
        private boolean snp;
        private boolean cpuDebugSwap;
        private SevFeatures apFeatures;

        private Builder(GuestWorld world) {
            this.world = world;
        }

        public Builder tdxDr(TdxDrBehaviour b) {
            tdxDr = b;
            return this;
        }

        /** A host breakpoint in the next free slot, with its AMD address mask. */
        public Builder hostBreakpoint(HostBreakpoint bp, long drAddrMask) {
            hostBreakpoints.add(bp);
            hostDrAddrMasks.add(drAddrMask);
            return this;
        }

        public Builder hostBreakpoint(HostBreakpoint bp) {
            return hostBreakpoint(bp, 0);
        }

        public Builder hostDebugctl(long v) {
            hostDebugctl = v;
            return this;
        }

        public Builder hostDebugctlInIrq(long v) {
            hostDebugctlInIrq = v;
            return this;
        }

        public Builder busLockDetect(boolean clearAllDebugRegsAtBoot) {
            busLockDetect = true;
            clearAllDebugRegs = clearAllDebugRegsAtBoot;
            return this;
        }

        public Builder guestBreakpoint(long dr0, long dr7) {
            guestDr0 = dr0;
            guestDr7 = dr7;
            return this;
        }

        public Builder guestZeroesDr6() {
            guestZeroesDr6 = true;
            return this;
        }

        public Builder guestDebugctl(long v) {
            guestDebugctl = v;
            return this;
        }

        /** SEV-ES: KVM's view (DebugSwap in the VMSAs it made, SNP) and the CPU's DebugSwap support. */
        public Builder sev(boolean kvmDebugSwap, boolean snp, boolean cpuDebugSwap) {
            this.kvmDebugSwap = kvmDebugSwap;
            this.snp = snp;
            this.cpuDebugSwap = cpuDebugSwap;
            return this;
        }

        /** SEV-SNP AP Creation: this vCPU's VMSA gets SEV_FEATURES the guest chose. */
        public Builder apCreate(SevFeatures features) {
            apFeatures = features;
            return this;
        }

        public ModelScenario build() {
            return new ModelScenario(world, tdxDr, hostBreakpoints, hostDrAddrMasks, hostDebugctl, hostDebugctlInIrq,
                    busLockDetect, clearAllDebugRegs, guestDr0, guestDr7, guestZeroesDr6, guestDebugctl, kvmDebugSwap,
                    snp, cpuDebugSwap, apFeatures);
        }
    }
}
