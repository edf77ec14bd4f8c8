package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Gpr;

/** What a TDCALL does, from {@link TdxModule#tdcall}. Every TDCALL, whatever its registers, ends in one. */
public sealed interface TdcallResult {

    /**
     * The module completed the leaf inside the TD: write {@code updates} (RAX holds the status),
     * set RIP to {@code nextRip}, and when {@code singleStepTrap} deliver the single-step #DB (BS)
     * the completed TDCALL owes because RFLAGS.TF was set.
     */
    record Completed(GprUpdates updates, long nextRip, boolean singleStepTrap) implements TdcallResult {
        public long status() {
            return updates.value(Gpr.RAX);
        }
    }

    /** TDCALL outside CPL 0 of 64-bit mode: #GP(0) at the TDCALL, nothing else changes. */
    record InjectGp(String reason) implements TdcallResult {
    }

    /**
     * TDG.VP.VMCALL: a TD exit to the host (exit reason TDCALL) with {@code args}. The host answers
     * with {@link TdxModule#vmcallReturn}, which completes the TDCALL at the next TDH.VP.ENTER.
     */
    record VmcallExit(TdVmcallArgs args) implements TdcallResult {
    }

    /**
     * TDG.MEM.PAGE.ACCEPT of a page no private memory backs: the module exits to the host with an
     * EPT violation at {@code gpa}, and the host has nothing to map there.
     */
    record EptViolationExit(long gpa) implements TdcallResult {
    }

    /**
     * A leaf (or feature of one) that tdemu's module does not model, called with valid operands:
     * the VMM must stop the TD with {@code what}, never carry on as if it had worked.
     */
    record NotModelled(TdcallLeaf leaf, String what) implements TdcallResult {
    }
}
