package dev.tdemu.emulator.unicorn;

/**
 * Unicorn's {@code uc_mem_type}: the kind of access a memory hook reports, and (through
 * {@link #hookBit()}) the {@code UC_HOOK_MEM_*} event that reports it.
 */
public enum MemType {
    READ(16, Uc.UC_HOOK_MEM_READ, true),
    WRITE(17, Uc.UC_HOOK_MEM_WRITE, true),
    FETCH(18, Uc.UC_HOOK_MEM_FETCH, true),
    READ_UNMAPPED(19, Uc.UC_HOOK_MEM_READ_UNMAPPED, false),
    WRITE_UNMAPPED(20, Uc.UC_HOOK_MEM_WRITE_UNMAPPED, false),
    FETCH_UNMAPPED(21, Uc.UC_HOOK_MEM_FETCH_UNMAPPED, false),
    WRITE_PROT(22, Uc.UC_HOOK_MEM_WRITE_PROT, false),
    READ_PROT(23, Uc.UC_HOOK_MEM_READ_PROT, false),
    FETCH_PROT(24, Uc.UC_HOOK_MEM_FETCH_PROT, false),
    /** A completed read, reported with the value read. */
    READ_AFTER(25, Uc.UC_HOOK_MEM_READ_AFTER, true);

    private static final int FIRST = 16;
    private static final MemType[] BY_CODE = values();

    private final int code;
    private final int hookBit;
    private final boolean valid;

    MemType(int code, int hookBit, boolean valid) {
        this.code = code;
        this.hookBit = hookBit;
        this.valid = valid;
    }

    /** The {@code uc_mem_type} value. */
    public int code() {
        return code;
    }

    /** The {@code UC_HOOK_MEM_*} bit that subscribes to this access type. */
    public int hookBit() {
        return hookBit;
    }

    /**
     * True for successful accesses ({@link MemoryHook}); false for unmapped and protection events
     * ({@link InvalidMemoryHook}).
     */
    public boolean isValidAccess() {
        return valid;
    }

    /** The type for a {@code uc_mem_type} value; null when unknown. */
    public static MemType of(int code) {
        int i = code - FIRST;
        return i >= 0 && i < BY_CODE.length ? BY_CODE[i] : null;
    }
}
