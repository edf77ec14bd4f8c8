package dev.tdemu.core.tdx;

/** The module refused a debug-interface request, because the TD is not a debug TD. */
public final class TdxDebugRefused extends RuntimeException {

    private final TdxStatus status;

    public TdxDebugRefused(TdxStatus status, String what) {
        super(what + ": " + status + String.format(" (0x%016x)", status.code()));
        this.status = status;
    }

    public TdxStatus status() {
        return status;
    }
}
