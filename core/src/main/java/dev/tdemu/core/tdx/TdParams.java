package dev.tdemu.core.tdx;

/**
 * What the host fixes when it creates a TD (TD_PARAMS of TDH.MNG.INIT, and the private memory it
 * adds): the TD's ATTRIBUTES, MAX_VCPUS, its guest-physical address width, and how much private
 * memory backs GPAs {@code [0, privateMemoryBytes)}.
 *
 * @param gpaw 48 or 52; bit {@code gpaw - 1} of a GPA is the SHARED bit
 * @param privateMemoryBytes private memory from GPA 0, a multiple of 4 KiB; a GPA at or above it
 *                           has no private page, so the host cannot map it when the TD accepts it
 * @param initiallyAcceptedBytes the part of it the host added before the TD ran (TDH.MEM.PAGE.ADD:
 *                               mapped and accepted); the rest starts pending (TDH.MEM.PAGE.AUG)
 */
public record TdParams(TdAttributes attributes, int maxVcpus, int gpaw, long privateMemoryBytes,
        long initiallyAcceptedBytes) {

    public static final int GPAW_48 = 48;
    public static final int GPAW_52 = 52;

    public TdParams {
        java.util.Objects.requireNonNull(attributes);
        if (maxVcpus < 1) {
            throw new IllegalArgumentException("a TD needs at least one vCPU, not " + maxVcpus);
        }
        if (gpaw != GPAW_48 && gpaw != GPAW_52) {
            throw new IllegalArgumentException("GPAW is 48 or 52, not " + gpaw);
        }
        long sharedBit = 1L << (gpaw - 1);
        if (privateMemoryBytes < 0 || privateMemoryBytes > sharedBit || (privateMemoryBytes & 0xFFF) != 0) {
            throw new IllegalArgumentException(String.format(
                    "private memory must be a multiple of 4 KiB below the shared bit (0x%x), not 0x%x", sharedBit,
                    privateMemoryBytes));
        }
        if (initiallyAcceptedBytes < 0 || initiallyAcceptedBytes > privateMemoryBytes
                || (initiallyAcceptedBytes & 0xFFF) != 0) {
            throw new IllegalArgumentException(String.format(
                    "initially accepted memory must be a multiple of 4 KiB within the private memory (0x%x), not 0x%x",
                    privateMemoryBytes, initiallyAcceptedBytes));
        }
    }

    /**
     * tdemu's TDs as the emulator builds them: GPAW 48 and all of {@code memoryBytes} added before
     * the TD runs (the emulator loads the whole image and maps all RAM up front).
     */
    public static TdParams of(TdAttributes attributes, int maxVcpus, long memoryBytes) {
        return new TdParams(attributes, maxVcpus, GPAW_48, memoryBytes, memoryBytes);
    }

    /** The SHARED bit of a GPA (bit GPAW-1). */
    public long sharedBit() {
        return 1L << (gpaw - 1);
    }

    /** Whether {@code gpa} fits in GPAW bits. */
    public boolean gpaInRange(long gpa) {
        return (gpa >>> gpaw) == 0;
    }
}
