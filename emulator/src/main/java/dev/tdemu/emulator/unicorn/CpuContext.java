package dev.tdemu.emulator.unicorn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A saved CPU state ({@code uc_context}): {@link #save()} copies the engine's registers and internal
 * CPU state into it, {@link #restore()} copies them back. Memory is not part of it. Belongs to one
 * engine; freed by {@link #close()} or when the engine closes.
 */
public final class CpuContext implements AutoCloseable {
    private final Unicorn engine;
    final MemorySegment context; // uc_context *, reinterpreted to uc_context_size bytes
    boolean freed;

    CpuContext(Unicorn engine, MemorySegment context) {
        this.engine = engine;
        this.context = context;
    }

    public void save() {
        engine.saveContext(this);
    }

    public void restore() {
        engine.restoreContext(this);
    }

    /** Size of the saved state in bytes ({@code uc_context_size}). */
    public long byteSize() {
        return context.byteSize();
    }

    /** A copy of the raw saved state (the calibration reads it). */
    byte[] bytes() {
        engine.checkContext(this);
        return context.toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public void close() {
        engine.freeContext(this);
    }
}
