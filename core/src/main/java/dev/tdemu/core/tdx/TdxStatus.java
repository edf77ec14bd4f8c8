package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Gpr;
import java.util.Optional;

/**
 * TDX module completion status (RAX after a TDCALL, or a host-side interface call), as the TDX
 * module ABI lays it out: bit 63 error, bit 62 non-recoverable, bits 47:40 class, bits 39:32 the
 * code within the class; bits 31:0 are details, usually the operand ID of the offending operand
 * (a GPR's encoding, {@link #withOperand}) or, for the page-acceptance statuses, the Secure EPT
 * level at which the walk stopped ({@link #withDetail}).
 *
 * <p>This is the one place that holds the numbers; only the statuses tdemu's module can return
 * are listed. The GHCI statuses a TDG.VP.VMCALL returns in R10 are {@link TdvmcallStatus}.
 */
public enum TdxStatus {
    TDX_SUCCESS(0x0000_0000_0000_0000L),
    /** An operand (named by the details) is not valid: reserved bits, alignment, range, unknown leaf. */
    TDX_OPERAND_INVALID(0xC000_0100_0000_0000L),
    /** TDG.VP.VEINFO.GET with no #VE information left to read. */
    TDX_NO_VALID_VE_INFO(0xC000_0704_0000_0000L),
    /** TDG.MEM.PAGE.ACCEPT of a page that is already accepted (a warning: bit 63 clear). */
    TDX_PAGE_ALREADY_ACCEPTED(0x0000_0B0A_0000_0000L),
    /** TDG.MEM.PAGE.ACCEPT at a size other than the one the page is mapped with. */
    TDX_PAGE_SIZE_MISMATCH(0xC000_0B0B_0000_0000L),
    /** TDG.VM.RD/WR, TDG.VP.RD/WR: the field identifier names no field (or has reserved bits set). */
    TDX_METADATA_FIELD_ID_INCORRECT(0xC000_0C00_0000_0000L),
    /** TDG.VM.WR, TDG.VP.WR: the field, or the bits the write mask selects, may not be written by the TD. */
    TDX_METADATA_FIELD_NOT_WRITABLE(0xC000_0C01_0000_0000L),
    /** TDG.VM.RD, TDG.VP.RD: the TD may not read the field. */
    TDX_METADATA_FIELD_NOT_READABLE(0xC000_0C02_0000_0000L),
    /** TDG.VM.WR, TDG.VP.WR: the value would change bits the TD may not write. */
    TDX_METADATA_FIELD_VALUE_NOT_VALID(0xC000_0C03_0000_0000L);

    /** Bits 63:32: the status proper; bits 31:0 carry details. */
    public static final long STATUS_MASK = 0xFFFF_FFFF_0000_0000L;

    private final long code;

    TdxStatus(long code) {
        this.code = code;
    }

    /** The status with zero details. */
    public long code() {
        return code;
    }

    /** The status with the operand ID of {@code operand} in the details (bits 31:0). */
    public long withOperand(Gpr operand) {
        return code | operand.index();
    }

    /** The status with {@code detail} (e.g. a Secure EPT level) in bits 31:0. */
    public long withDetail(int detail) {
        return code | Integer.toUnsignedLong(detail);
    }

    /** Bit 63: the call failed (TDX_PAGE_ALREADY_ACCEPTED, for one, is only a warning). */
    public boolean isError() {
        return code < 0;
    }

    /** The status a RAX value carries (details ignored), if it is one tdemu's module returns. */
    public static Optional<TdxStatus> of(long rax) {
        long status = rax & STATUS_MASK;
        for (TdxStatus s : values()) {
            if (s.code == status) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
