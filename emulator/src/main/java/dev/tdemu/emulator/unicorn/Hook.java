package dev.tdemu.emulator.unicorn;

import java.lang.foreign.Arena;

/**
 * A registered hook. Owns its upcall stub (in its own arena) for exactly as long as the hook
 * exists: {@link #close()} deletes the hook ({@code uc_hook_del}) and frees the stub — deferred to
 * the end of the current {@link Unicorn#emuStart} when removed from inside a hook, as the engine
 * may still be executing that stub. Closing the engine frees all hooks.
 */
public final class Hook implements AutoCloseable {
    /** How translated code must be refreshed when this hook appears or goes away. */
    enum Invalidation { NONE, RANGE, ALL }

    final Unicorn engine;
    final String description;
    final long handle;
    final Invalidation invalidation;
    final long begin;
    final long end;
    Arena arena;
    boolean removed;

    Hook(Unicorn engine, String description, long handle, Arena arena, Invalidation invalidation, long begin, long end) {
        this.engine = engine;
        this.description = description;
        this.handle = handle;
        this.arena = arena;
        this.invalidation = invalidation;
        this.begin = begin;
        this.end = end;
    }

    /** Whether the hook is still registered. */
    public boolean isActive() {
        return !removed;
    }

    /** Removes the hook; later calls do nothing. Call on the engine's thread (a hook may remove itself). */
    @Override
    public void close() {
        engine.removeHook(this);
    }

    @Override
    public String toString() {
        return "Hook[" + description + (removed ? ", removed" : "") + "]";
    }
}
