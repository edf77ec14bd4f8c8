package dev.tdemu.core.vmx;

/**
 * Exit qualification of an APIC-access exit (basic reason 44, SDM vol. 3C "Exit Qualification for
 * APIC-Access VM Exits from Linear Accesses and Guest-Physical Accesses"): the access type in bits
 * 15:12 and, for the linear access types (0-3), the offset of the access within the APIC-access
 * page in bits 11:0.
 */
public record ApicAccessQualification(AccessType type, int offset) {
    /** Bits 15:12 of the qualification. */
    public enum AccessType {
        /** A data read during instruction execution. */
        LINEAR_READ(0),
        /** A data write during instruction execution. */
        LINEAR_WRITE(1),
        /** An instruction fetch. */
        LINEAR_FETCH(2),
        /** A read or write during event delivery. */
        LINEAR_EVENT_DELIVERY(3),
        /** A guest-physical access during event delivery (no offset). */
        GUEST_PHYSICAL_EVENT_DELIVERY(10),
        /** A guest-physical access for an instruction fetch or during instruction execution (no offset). */
        GUEST_PHYSICAL_INSTRUCTION(15);

        private final int code;

        AccessType(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        /** Whether bits 11:0 hold the offset (the linear access types). */
        public boolean hasOffset() {
            return code <= 3;
        }

        static AccessType fromCode(int code) {
            for (AccessType t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            throw new IllegalArgumentException("APIC-access type " + code + " is reserved");
        }
    }

    public ApicAccessQualification {
        if (offset < 0 || offset > 0xFFF) {
            throw new IllegalArgumentException("an offset within the APIC-access page is 0..0xFFF, not " + offset);
        }
        if (!type.hasOffset() && offset != 0) {
            throw new IllegalArgumentException("a " + type + " access has no offset");
        }
    }

    /** A data read ({@code write} false) or write by an instruction at {@code offset} within the page. */
    public static ApicAccessQualification linear(boolean write, int offset) {
        return new ApicAccessQualification(write ? AccessType.LINEAR_WRITE : AccessType.LINEAR_READ, offset);
    }

    public static ApicAccessQualification fromBits(long bits) {
        AccessType type = AccessType.fromCode((int) ((bits >>> 12) & 0xF));
        return new ApicAccessQualification(type, type.hasOffset() ? (int) (bits & 0xFFF) : 0);
    }

    public long bits() {
        return ((long) type.code << 12) | offset;
    }
}
