package dev.tdemu.gdbstub.target;

/**
 * QEMU's physical memory mode ({@code Qqemu.PhyMemMode}), an optional capability of a
 * {@link DebugTarget} ({@link DebugTarget#physicalMemory()}): while on, memory reads and writes
 * address guest-physical memory instead of linear addresses. Called on the stub's event loop:
 * must not block.
 */
public interface PhysicalMemory {

    /** Whether memory accesses address guest-physical memory now. */
    boolean enabled();

    /** Switches the mode. */
    void enable(boolean on);
}
