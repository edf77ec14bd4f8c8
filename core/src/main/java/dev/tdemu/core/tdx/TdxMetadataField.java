package dev.tdemu.core.tdx;

import java.util.Optional;

/**
 * The TD-scope (TDCS) and vCPU-scope (TDVPS) metadata fields a TD can name in TDG.VM.RD/WR and
 * TDG.VP.RD/WR, with their field identifiers and what the TD may read and write. tdemu answers the
 * {@link #modelled()} ones; the others are real fields it does not keep, so an access to them is
 * reported as not modelled rather than answered with a made-up value. An identifier that names
 * none of these is refused with TDX_METADATA_FIELD_ID_INCORRECT.
 *
 * <p>Field identifier layout: bits 23:0 field code, 33:32 element size, 37:34 last element in
 * field, 46:38 last field in sequence, 50 increment size, 51 write mask valid, 54:52 context,
 * 61:56 class, 63 non-architectural; bits 31:24, 49:47, 55 and 62 are reserved.
 */
public enum TdxMetadataField {
    // TD scope (TDG.VM.RD/WR)
    ATTRIBUTES(Scope.TD, 0x1110_0003_0000_0000L, -1L, 0, true),
    XFAM(Scope.TD, 0x1110_0003_0000_0001L, -1L, 0, false),
    MAX_VCPUS(Scope.TD, 0x1110_0002_0000_0002L, 0xFFFF_FFFFL, 0, true),
    GPAW(Scope.TD, 0x1110_0000_0000_0003L, 0xFFL, 0, true),
    TSC_FREQUENCY(Scope.TD, 0x1110_0001_0000_000CL, 0xFFFFL, 0, false),
    /** Bit 0: notify the host (a TD exit) when the module suspects a zero-step attack. */
    NOTIFY_ENABLES(Scope.TD, 0x9110_0003_0000_0010L, 1L, 1L, true),
    CONFIG_FLAGS(Scope.TD, 0x1110_0003_0000_0016L, -1L, 0, true),
    /** Bit 0: PENDING_VE_DISABLE. Writable when CONFIG_FLAGS allows it; tdemu does not model the write. */
    TD_CTLS(Scope.TD, 0x1110_0003_0000_0017L, -1L, 1L, false),
    NUM_VCPUS(Scope.TD, 0x9010_0002_0000_0001L, 0xFFFF_FFFFL, 0, true),
    NUM_L2_VMS(Scope.TD, 0x9010_0001_0000_0005L, 0xFFFFL, 0, false),
    TD_UUID(Scope.TD, 0x8010_0003_0000_0020L, -1L, 0, false),
    MRTD(Scope.TD, 0x1310_0003_0000_0000L, -1L, 0, false),
    MRCONFIGID(Scope.TD, 0x1310_0003_0000_0010L, -1L, 0, false),
    MROWNER(Scope.TD, 0x1310_0003_0000_0018L, -1L, 0, false),
    MROWNERCONFIG(Scope.TD, 0x1310_0003_0000_0020L, -1L, 0, false),
    RTMR(Scope.TD, 0x1310_0003_0000_0040L, -1L, 0, false),
    // vCPU scope (TDG.VP.RD/WR)
    VCPU_INDEX(Scope.VP, 0xA020_0002_0000_0002L, 0xFFFF_FFFFL, 0, true),
    CPUID_SUPERVISOR_VE(Scope.VP, 0xA020_0000_0000_0007L, 0xFFL, 0xFFL, false),
    CPUID_USER_VE(Scope.VP, 0xA020_0000_0000_0008L, 0xFFL, 0xFFL, false),
    L2_CTLS(Scope.VP, 0xA020_0003_0000_0050L, -1L, 7L, false),
    TSC_DEADLINE(Scope.VP, 0xA020_0003_0000_0058L, -1L, -1L, false),
    CPUID_CONTROL(Scope.VP, 0xA120_0000_0000_0000L, 0xFFL, 3L, false);

    /** Which metadata context a field lives in. */
    public enum Scope { TD, VP }

    /** Bits the module ignores in an identifier the TD passes: element size, increment size, write mask valid, context. */
    static final long IGNORED_ON_INPUT = (3L << 32) | (1L << 50) | (1L << 51) | (7L << 52);
    /** Reserved bits (31:24, 49:47, 55, 62) and the sequence fields (37:34, 46:38) that a single element leaves 0. */
    static final long MUST_BE_ZERO = (0xFFL << 24) | (7L << 47) | (1L << 55) | (1L << 62) | (0xFL << 34)
            | (0x1FFL << 38);

    private final Scope scope;
    private final long fieldId;
    private final long guestReadMask;
    private final long guestWriteMask;
    private final boolean modelled;

    TdxMetadataField(Scope scope, long fieldId, long guestReadMask, long guestWriteMask, boolean modelled) {
        this.scope = scope;
        this.fieldId = fieldId;
        this.guestReadMask = guestReadMask;
        this.guestWriteMask = guestWriteMask;
        this.modelled = modelled;
    }

    public Scope scope() {
        return scope;
    }

    /** The field's identifier as the ABI lists it (with its element size and context). */
    public long fieldId() {
        return fieldId;
    }

    /** The bits a TD reads (0: not readable by the TD). */
    public long guestReadMask() {
        return guestReadMask;
    }

    /** The bits a TD may write (0: not writable by the TD). */
    public long guestWriteMask() {
        return guestWriteMask;
    }

    public boolean modelled() {
        return modelled;
    }

    /** Whether {@code id} is well formed as a single element's identifier (reserved and sequence bits 0). */
    public static boolean wellFormed(long id) {
        return (id & MUST_BE_ZERO) == 0;
    }

    /** The field of {@code scope} that a well-formed {@code id} names, ignoring the bits the module ignores. */
    public static Optional<TdxMetadataField> lookup(Scope scope, long id) {
        long key = id & ~IGNORED_ON_INPUT;
        for (TdxMetadataField f : values()) {
            if (f.scope == scope && (f.fieldId & ~IGNORED_ON_INPUT) == key) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
