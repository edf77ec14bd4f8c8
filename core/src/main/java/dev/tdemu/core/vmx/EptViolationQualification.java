package dev.tdemu.core.vmx;

/**
 * Exit qualification of an EPT violation (basic reason 48, SDM "Exit Qualification for EPT
 * Violations"): the access that caused it (bit 0 data read, bit 1 data write, bit 2 instruction
 * fetch) and what the EPT entry allowed (bits 5:3 readable, writable, executable). In tdemu an EPT
 * violation is an access to guest-physical memory that is neither RAM nor a device, so the entry
 * allowed nothing.
 */
public record EptViolationQualification(Access access, boolean readable, boolean writable, boolean executable) {
    /** The kind of access, as bits 2:0 record it. */
    public enum Access { READ, WRITE, FETCH }

    /** An access to guest-physical memory that nothing backs (no EPT entry at all). */
    public static EptViolationQualification unbacked(Access access) {
        return new EptViolationQualification(access, false, false, false);
    }

    public long bits() {
        long b = switch (access) {
            case READ -> 1;
            case WRITE -> 2;
            case FETCH -> 4;
        };
        return b | (readable ? 8 : 0) | (writable ? 16 : 0) | (executable ? 32 : 0);
    }
}
