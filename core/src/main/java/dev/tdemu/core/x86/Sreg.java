package dev.tdemu.core.x86;

/** The segment registers in their encoding order (the Sreg field of MOV Sreg: ES=0 … GS=5). */
public enum Sreg {
    ES, CS, SS, DS, FS, GS;

    /** The register with encoding {@code n}, 0..5 (6 and 7 are reserved and #UD). */
    public static Sreg fromEncoding(int n) {
        if (n < 0 || n > 5) {
            throw new IllegalArgumentException("segment register encoding is 0..5, not " + n);
        }
        return values()[n];
    }

    /** AT&T name: "%es". */
    public String attName() {
        return "%" + name().toLowerCase();
    }
}
