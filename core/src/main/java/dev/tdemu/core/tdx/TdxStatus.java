package dev.tdemu.core.tdx;

/** TDX module completion status codes the model returns (the class bits follow the ABI's layout). */
public enum TdxStatus {
    SUCCESS(0L),
    /** An operand is not valid for this TD; returned for debug-interface calls on a non-debug TD. */
    TDX_OPERAND_INVALID(0xC000_0100_0000_0000L);

    private final long code;

    TdxStatus(long code) {
        this.code = code;
    }

    public long code() {
        return code;
    }
}
