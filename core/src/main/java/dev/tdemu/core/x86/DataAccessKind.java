package dev.tdemu.core.x86;

/** Direction of a data access. A locked read-modify-write is a WRITE (it also reads, which R/W=11 matches anyway). */
public enum DataAccessKind {
    READ,
    WRITE
}
