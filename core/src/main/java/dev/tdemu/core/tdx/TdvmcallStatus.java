package dev.tdemu.core.tdx;

import java.util.Optional;

/**
 * TDG.VP.VMCALL completion status, which the host (KVM) returns to the TD in R10 (GHCI,
 * "TDG.VP.VMCALL status codes"). TDX module statuses (RAX) are {@link TdxStatus}.
 */
public enum TdvmcallStatus {
    TDVMCALL_STATUS_SUCCESS(0x0000_0000_0000_0000L),
    /** The host did part of the work (MapGPA); the TD calls again from the address in R11. */
    TDVMCALL_STATUS_RETRY(0x0000_0000_0000_0001L),
    TDVMCALL_STATUS_INVALID_OPERAND(0x8000_0000_0000_0000L),
    /** MapGPA: a page of the range is in use. */
    TDVMCALL_STATUS_GPA_INUSE(0x8000_0000_0000_0001L),
    /** An address or size is not aligned as the leaf requires (MapGPA, GetQuote: 4 KiB). */
    TDVMCALL_STATUS_ALIGN_ERROR(0x8000_0000_0000_0002L),
    /** The host does not implement the sub-function. */
    TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED(0x8000_0000_0000_0003L);

    private final long code;

    TdvmcallStatus(long code) {
        this.code = code;
    }

    public long code() {
        return code;
    }

    public static Optional<TdvmcallStatus> of(long r10) {
        for (TdvmcallStatus s : values()) {
            if (s.code == r10) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
