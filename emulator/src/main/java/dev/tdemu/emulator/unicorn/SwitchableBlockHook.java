package dev.tdemu.emulator.unicorn;

import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A block hook whose Java callback can be switched on and off from any thread, during a run, at
 * the cost of one native call per block while off.
 *
 * <p>With two or more block hooks registered, translated code calls the engine's hook dispatcher
 * ({@code helper_uc_tracecode}) at the start of every block, and the dispatcher calls each hook's
 * {@code callback} pointer as it finds it at that moment. (With exactly one, Unicorn 2.1 compiles
 * a direct call to that hook's callback into each block instead, so a second, native hook whose
 * range matches no block is registered beside it: the companion.) Adding or deleting a hook
 * drops every translation, and a Java upcall on every block costs about 35 ns. So the hook stays
 * registered, and switching it rewrites its callback pointer (one aligned 8-byte store, which the
 * engine's thread sees at its next block) between the upcall stub and a native function that
 * ignores its arguments ({@code labs} of the C library: it reads one register and returns).
 *
 * <p>The pointer's place in the engine's private {@code struct hook} is found, not assumed: the
 * handle {@code uc_hook_add} returns is that structure's address, and exactly one 8-byte word in
 * its first 64 bytes must hold the stub's address. When that is not so (another layout), the hook
 * cannot be switched: it stays on for good and says so once, at warn level; {@link #switchable()}
 * tells. Measured in docs/unicorn-binding.md.
 */
public final class SwitchableBlockHook implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(SwitchableBlockHook.class);
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();
    private static final long NO_OP = noOp();
    /** Where {@code struct hook} keeps {@code callback} in Unicorn 2.1 (5 ints, a bool, begin, end). */
    private static final long EXPECTED_OFFSET = 40;
    private static final long SCANNED = 64;

    private final Hook hook;
    private final Unicorn engine;
    /** The companion hook's handle (0: none). */
    private final long companion;
    /** The hook's {@code callback} word, or null when the hook cannot be switched. */
    private final MemorySegment callbackWord;
    /** Written under this object's lock, read by {@link #isOn()} from any thread. */
    private volatile boolean on;
    /** The hook or its engine is gone: its structure must not be touched again. */
    private boolean dead;

    private SwitchableBlockHook(Unicorn engine, Hook hook, MemorySegment callbackWord, long companion) {
        this.engine = engine;
        this.companion = companion;
        this.hook = hook;
        this.callbackWord = callbackWord;
        this.on = callbackWord == null;
    }

    static SwitchableBlockHook install(Unicorn engine, Hook hook) {
        MemorySegment word = callbackWord(hook);
        if (word == null) {
            LOG.warn("Unicorn's hook structure is not as this binding knows it: the kick hook stays on "
                    + "(guests run about a third slower)");
        }
        long companion = word == null ? 0 : engine.addNativeCompanionBlockHook(MemorySegment.ofAddress(NO_OP));
        SwitchableBlockHook s = new SwitchableBlockHook(engine, hook, word, companion);
        if (word != null) {
            s.write(NO_OP);
        }
        return s;
    }

    private static MemorySegment callbackWord(Hook hook) {
        if (NO_OP == 0 || hook.handle == 0 || hook.stub == 0) {
            return null;
        }
        MemorySegment struct = MemorySegment.ofAddress(hook.handle).reinterpret(SCANNED);
        long found = -1;
        for (long off = 0; off < SCANNED; off += 8) {
            if ((long) WORD.get(struct, off) == hook.stub) {
                if (found >= 0) {
                    return null; // ambiguous
                }
                found = off;
            }
        }
        if (found < 0) {
            return null;
        }
        if (found != EXPECTED_OFFSET) {
            LOG.debug("Unicorn keeps a hook's callback at offset {} (expected {})", found, EXPECTED_OFFSET);
        }
        return struct.asSlice(found, 8);
    }

    private static long noOp() {
        return Linker.nativeLinker().defaultLookup().find("labs").map(MemorySegment::address).orElse(0L);
    }

    private void write(long target) {
        WORD.setVolatile(callbackWord, 0L, target);
    }

    /** The Java callback runs from the next block on (of this run, if one is going on). From any thread. */
    public synchronized void on() {
        if (on || dead || hook.removed) {
            return;
        }
        write(hook.stub);
        on = true;
    }

    /** The Java callback no longer runs (from the next block on); a no-op when the hook cannot be switched. */
    public synchronized void off() {
        if (!on || dead || callbackWord == null || hook.removed) {
            return;
        }
        write(NO_OP);
        on = false;
    }

    /** Whether the Java callback runs; from any thread. */
    public boolean isOn() {
        return on;
    }

    /** Whether {@link #off()} can really switch the callback off (the engine's hook layout was recognised). */
    public boolean switchable() {
        return callbackWord != null;
    }

    /** Removes the hook (on the engine's thread); switching afterwards does nothing. */
    @Override
    public synchronized void close() {
        if (dead) {
            return;
        }
        dead = true;
        hook.close();
        if (companion != 0) {
            engine.deleteNativeHook(companion);
        }
    }

    /** The engine is closing: from now on switching does nothing. */
    synchronized void detach() {
        dead = true;
    }

    @Override
    public String toString() {
        return "SwitchableBlockHook[" + (switchable() ? on ? "on" : "off" : "always on") + "]";
    }
}
