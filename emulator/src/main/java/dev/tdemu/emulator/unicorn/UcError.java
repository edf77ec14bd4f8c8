package dev.tdemu.emulator.unicorn;

/** Unicorn's {@code uc_err} codes (unicorn.h, 2.1), in numbering order. */
public enum UcError {
    OK,
    NOMEM,
    ARCH,
    HANDLE,
    MODE,
    VERSION,
    READ_UNMAPPED,
    WRITE_UNMAPPED,
    FETCH_UNMAPPED,
    HOOK,
    INSN_INVALID,
    MAP,
    WRITE_PROT,
    READ_PROT,
    FETCH_PROT,
    ARG,
    READ_UNALIGNED,
    WRITE_UNALIGNED,
    FETCH_UNALIGNED,
    HOOK_EXIST,
    RESOURCE,
    EXCEPTION,
    OVERFLOW;

    private static final UcError[] BY_CODE = values();

    /** The numeric {@code uc_err} value. */
    public int code() {
        return ordinal();
    }

    /** The C enumerator name, e.g. {@code UC_ERR_MAP}. */
    public String cName() {
        return "UC_ERR_" + name();
    }

    /** The constant for a code the engine returned; null for a code this binding does not know. */
    public static UcError of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
