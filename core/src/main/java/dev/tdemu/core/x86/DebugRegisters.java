package dev.tdemu.core.x86;

/**
 * An immutable snapshot of one set of debug registers: DR0–DR3, DR6, DR7. Used for the physical
 * registers at a point in time, for a TD vCPU's saved state, and for expected values in checks.
 */
public record DebugRegisters(long dr0, long dr1, long dr2, long dr3, Dr6 dr6, Dr7 dr7) {

    /** Architectural INIT/reset state: DR0–3 = 0, DR6 = 0xFFFF0FF0, DR7 = 0x400. */
    public static final DebugRegisters INIT = new DebugRegisters(0, 0, 0, 0, Dr6.RESET, Dr7.RESET);

    public DebugRegisters {
        if (dr6 == null || dr7 == null) {
            throw new IllegalArgumentException("DR6 and DR7 are required");
        }
    }

    public static DebugRegisters of(long[] db, Dr6 dr6, Dr7 dr7) {
        if (db.length != 4) {
            throw new IllegalArgumentException("DR0-DR3 are four values, not " + db.length);
        }
        return new DebugRegisters(db[0], db[1], db[2], db[3], dr6, dr7);
    }

    /** Breakpoint address register n (0..3). */
    public long dr(int n) {
        return switch (Dr7.checkSlot(n)) {
            case 0 -> dr0;
            case 1 -> dr1;
            case 2 -> dr2;
            default -> dr3;
        };
    }

    public long[] addresses() {
        return new long[] {dr0, dr1, dr2, dr3};
    }

    /** Register DRn's value as MOV from DRn (n in 0–3, 6, 7) reads it. */
    public long read(int reg) {
        return switch (reg) {
            case 0, 1, 2, 3 -> dr(reg);
            case 6 -> dr6.value();
            case 7 -> dr7.value();
            default -> throw new IllegalArgumentException("not a debug register here: DR" + reg);
        };
    }

    public DebugRegisters withDr(int n, long address) {
        long[] a = addresses();
        a[Dr7.checkSlot(n)] = address;
        return of(a, dr6, dr7);
    }

    public DebugRegisters withDr6(Dr6 value) {
        return new DebugRegisters(dr0, dr1, dr2, dr3, value, dr7);
    }

    public DebugRegisters withDr7(Dr7 value) {
        return new DebugRegisters(dr0, dr1, dr2, dr3, dr6, value);
    }

    /** The trace record form (proto {@code DebugRegisters}). */
    public dev.tdemu.proto.DebugRegisters toProto() {
        return dev.tdemu.proto.DebugRegisters.newBuilder()
                .setDr0(dr0).setDr1(dr1).setDr2(dr2).setDr3(dr3)
                .setDr6(dr6.value()).setDr7(dr7.value())
                .build();
    }

    @Override
    public String toString() {
        return String.format("DR0=0x%x DR1=0x%x DR2=0x%x DR3=0x%x DR6=0x%x DR7=0x%x",
                dr0, dr1, dr2, dr3, dr6.value(), dr7.value());
    }
}
