package dev.tdemu.core.vmx;

/**
 * Exit qualification of an I/O-instruction exit (basic reason 30, SDM "Exit Qualification for
 * I/O Instructions"): access size in bits 2:0 (size - 1), direction in bit 3 (1 = IN), string
 * instruction in bit 4, REP prefix in bit 5, operand encoding in bit 6 (1 = immediate port), port
 * in bits 31:16.
 */
public record IoQualification(int size, boolean in, boolean string, boolean rep, boolean immediate, int port) {
    public IoQualification {
        if (size != 1 && size != 2 && size != 4) {
            throw new IllegalArgumentException("an I/O access is 1, 2 or 4 bytes, not " + size);
        }
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("a port is 0..0xFFFF, not " + port);
        }
    }

    public static IoQualification fromBits(long bits) {
        return new IoQualification((int) (bits & 7) + 1, (bits & 8) != 0, (bits & 16) != 0, (bits & 32) != 0, (bits & 64) != 0,
                (int) ((bits >>> 16) & 0xFFFF));
    }

    public long bits() {
        return (size - 1) | (in ? 8 : 0) | (string ? 16 : 0) | (rep ? 32 : 0) | (immediate ? 64 : 0) | ((long) port << 16);
    }
}
