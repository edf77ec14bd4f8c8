package dev.tdemu.emulator.unicorn;

import java.lang.foreign.Arena;

/**
 * A registered hook. A native hook owns its upcall stub (in its own arena) for exactly as long as
 * the hook exists: {@link #close()} deletes it ({@code uc_hook_del}) and frees the stub — deferred
 * to the end of the current {@link Unicorn#emuStart} when removed during a run, as the engine keeps
 * calling deleted hooks until the run ends (the binding skips them) and may be executing the stub.
 * Interrupt hooks are dispatched in Java from the engine's single interrupt hook and own nothing
 * native. Closing the engine frees all hooks.
 */
public final class Hook implements AutoCloseable {
    /** How translated code must be refreshed when this hook appears or goes away. */
    enum Invalidation { NONE, RANGE, ALL }

    final Unicorn engine;
    final String description;
    final Invalidation invalidation;
    final long begin;
    final long end;
    /** For hooks dispatched in Java (interrupt hooks): the callback. */
    final Object callback;
    /** The engine's uc_hook handle; 0 for hooks dispatched in Java. */
    long handle;
    /** Owns the upcall stub; null for hooks dispatched in Java and once freed. */
    Arena arena;
    /** The upcall stub's address (the engine's {@code hook->callback}); 0 for hooks dispatched in Java. */
    long stub;
    /** Non-zero for a hook the engine's shared code-hook stub dispatches (its user data). */
    long dispatchId;
    boolean removed;

    Hook(Unicorn engine, String description, Invalidation invalidation, long begin, long end, Object callback) {
        this.engine = engine;
        this.description = description;
        this.invalidation = invalidation;
        this.begin = begin;
        this.end = end;
        this.callback = callback;
    }

    /** Whether the hook's callback may run: not removed, and no hook of this run has failed. */
    boolean live() {
        return !removed && engine.hookFailure == null;
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
