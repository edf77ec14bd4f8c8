package dev.tdemu.core.kvm;

import dev.tdemu.core.tdx.TdVmcallArgs;

/** Why a guest's request ends the VM. */
public sealed interface VmEnd {

    /** TDEMU_HC_EXIT: the guest ended itself with this exit status (0-255). */
    record Exited(int status) implements VmEnd {
    }

    /**
     * TDG.VP.VMCALL&lt;ReportFatalError&gt;: the TD gave up. {@code errorCode} is its R12 (bits 31:0
     * the error code, bit 63 "R13 holds a GPA of more information"); {@code registers} are the
     * registers it passed, which KVM hands to userspace as they are (KVM_SYSTEM_EVENT_TDX_FATAL).
     */
    record TdFatalError(long errorCode, TdVmcallArgs registers) implements VmEnd {
        /** Bit 63 of R12: R13 holds the GPA of a page with more information. */
        public boolean gpaValid() {
            return errorCode < 0;
        }
    }
}
