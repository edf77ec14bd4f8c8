package dev.tdemu.emulator.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A block hook whose Java callback can be switched on and off from any thread, during a run, at
 * the cost of about one native call per block while off.
 *
 * <p>The engine is given, as the hook's callback, a two-instruction-long trampoline of tdemu's own
 * ({@code jmp *slot(%rip)}, in an executable page; the slot in a writable page after it). The slot
 * holds the Java upcall stub (on) or a native function that ignores its arguments (off:
 * {@code labs} of the C library, which reads one register and returns); switching is one aligned
 * 8-byte store into the slot, which the engine's thread sees at its next block. Adding or deleting
 * a hook drops every translation and a Java upcall on every block costs about 35 ns, so the hook
 * stays registered and only the slot changes. With this hook the engine's only block hook, Unicorn
 * 2.1 compiles a direct call to the callback into each block ({@code gen_uc_tracecode}); with more,
 * each block calls its hook dispatcher, which calls the same trampoline. Measured in
 * docs/unicorn-binding.md.
 *
 * <p>Before it jumps, the trampoline stores the block's address in a word of the writable page
 * ({@link #lastBlockStart()}): the last block the engine started, known without a Java call. A
 * fault the engine raises when it fetches the next block (a branch to a non-canonical address)
 * is found in that block's last instruction. One store per block, beside the call.
 *
 * <p>The trampoline lives as long as the engine (translations compiled with a call to it may run
 * until the engine's next flush), and is unmapped after {@code uc_close}. Where no executable page
 * can be had, the hook is registered with the upcall stub itself and stays on for good ({@link
 * #switchable()} false; said once at warn level).
 */
public final class SwitchableBlockHook implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(SwitchableBlockHook.class);
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();
    private static final long NO_OP = noOp();

    private final Hook hook;
    private final Unicorn engine;
    /** The trampoline's slot, or null when the hook cannot be switched. */
    private final MemorySegment slot;
    /** Where the trampoline stores each block's address, or null when the hook cannot be switched. */
    private final MemorySegment lastBlock;
    /** The last block's address when there is no trampoline (the hook is always on: its callback records it). */
    private long lastBlockCalled = NO_BLOCK;
    /** {@link #lastBlockStart()} before any block started. */
    public static final long NO_BLOCK = -1;
    /** Written under this object's lock, read by {@link #isOn()} from any thread. */
    private volatile boolean on;
    /** The hook or its engine is gone: the slot must not point at the stub again. */
    private boolean dead;

    private SwitchableBlockHook(Unicorn engine, Hook hook, MemorySegment slot, MemorySegment lastBlock) {
        this.engine = engine;
        this.hook = hook;
        this.slot = slot;
        this.lastBlock = lastBlock;
        this.on = slot == null;
    }

    static SwitchableBlockHook install(Unicorn engine, BlockHook callback) {
        Trampoline t = NO_OP == 0 ? null : Trampoline.map();
        if (t == null) {
            LOG.warn("no executable page for the kick hook's trampoline: the kick hook stays on "
                    + "(guests run about a third slower)");
            SwitchableBlockHook[] self = new SwitchableBlockHook[1];
            Hook h = engine.addBlockHook((u, address, size) -> {
                self[0].lastBlockCalled = address;
                callback.onBlock(u, address, size);
            });
            self[0] = new SwitchableBlockHook(engine, h, null, null);
            return self[0];
        }
        engine.unmapAfterClose(t::unmap);
        WORD.setVolatile(t.slot, 0L, NO_OP);
        WORD.setVolatile(t.lastBlock, 0L, NO_BLOCK);
        Hook h = engine.addBlockHookCalledThrough(t.entry, callback);
        return new SwitchableBlockHook(engine, h, t.slot, t.lastBlock);
    }

    /**
     * The address of the last block the engine started (its linear address: CS's base included
     * outside 64-bit mode), or {@link #NO_BLOCK} since {@link #forgetLastBlock()}. On the
     * engine's thread, between runs or inside a hook.
     */
    public long lastBlockStart() {
        return lastBlock != null ? (long) WORD.get(lastBlock, 0L) : lastBlockCalled;
    }

    /** Makes {@link #lastBlockStart()} {@link #NO_BLOCK} until the next block starts (before a run). */
    public void forgetLastBlock() {
        if (lastBlock != null) {
            WORD.set(lastBlock, 0L, NO_BLOCK);
        } else {
            lastBlockCalled = NO_BLOCK;
        }
    }

    private static long noOp() {
        return Linker.nativeLinker().defaultLookup().find("labs").map(MemorySegment::address).orElse(0L);
    }

    /** The Java callback runs from the next block on (of this run, if one is going on). From any thread. */
    public synchronized void on() {
        if (on || dead || hook.removed) {
            return;
        }
        WORD.setVolatile(slot, 0L, hook.stub);
        on = true;
    }

    /** The Java callback no longer runs (from the next block on); a no-op when the hook cannot be switched. */
    public synchronized void off() {
        if (!on || dead || slot == null || hook.removed) {
            return;
        }
        WORD.setVolatile(slot, 0L, NO_OP);
        on = false;
    }

    /** Whether the Java callback runs; from any thread. */
    public boolean isOn() {
        return on;
    }

    /** Whether {@link #off()} can really switch the callback off (the trampoline could be mapped). */
    public boolean switchable() {
        return slot != null;
    }

    /** Removes the hook (on the engine's thread); switching afterwards does nothing. */
    @Override
    public synchronized void close() {
        if (dead) {
            return;
        }
        dead = true;
        if (slot != null) {
            WORD.setVolatile(slot, 0L, NO_OP); // translated blocks may still call the trampoline
        }
        hook.close();
    }

    /** The engine is closing: from now on switching does nothing. */
    synchronized void detach() {
        dead = true;
    }

    @Override
    public String toString() {
        return "SwitchableBlockHook[" + (switchable() ? on ? "on" : "off" : "always on") + "]";
    }

    /**
     * {@code mov %rsi, lastBlock(%rip); jmp *slot(%rip)} in a read-and-execute page, the slot at
     * the start of the writable page after it and the last block's address the word after the
     * slot. The callback's second argument (RSI in the System V ABI) is the block's address.
     */
    private record Trampoline(MemorySegment pages, MemorySegment entry, MemorySegment slot, MemorySegment lastBlock) {
        private static final long PAGE = 4096;
        private static final int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
        /**
         * mov %rsi, 0x1001(%rip) (at 0, 7 bytes: stores to 0x1008), then jmp *0xff3(%rip) (at 7, 6
         * bytes: the slot at 0x1000).
         */
        private static final byte[] CODE = {0x48, (byte) 0x89, 0x35, 0x01, 0x10, 0x00, 0x00,
            (byte) 0xFF, 0x25, (byte) 0xF3, 0x0F, 0x00, 0x00, (byte) 0xCC, (byte) 0xCC, (byte) 0xCC};
        private static final MethodHandle MMAP = libc("mmap",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        private static final MethodHandle MPROTECT = libc("mprotect", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        private static final MethodHandle MUNMAP = libc("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

        private static MethodHandle libc(String name, FunctionDescriptor fd) {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find(name).map(f -> linker.downcallHandle(f, fd)).orElse(null);
        }

        /** Maps a new trampoline, or null when the system gives no executable page. */
        static Trampoline map() {
            if (MMAP == null || MPROTECT == null || MUNMAP == null) {
                return null;
            }
            try {
                MemorySegment p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
                if (p.address() == -1L || p.address() == 0) {
                    return null;
                }
                MemorySegment pages = p.reinterpret(2 * PAGE);
                MemorySegment.copy(MemorySegment.ofArray(CODE), 0, pages, 0, CODE.length);
                if ((int) MPROTECT.invokeExact(pages, PAGE, PROT_READ | PROT_EXEC) != 0) {
                    int ignored = (int) MUNMAP.invokeExact(pages, 2 * PAGE);
                    return null;
                }
                return new Trampoline(pages, pages.asSlice(0, CODE.length), pages.asSlice(PAGE, 8), pages.asSlice(PAGE + 8, 8));
            } catch (Throwable t) {
                LOG.debug("no trampoline: {}", t.toString());
                return null;
            }
        }

        void unmap() {
            try {
                int ignored = (int) MUNMAP.invokeExact(pages, 2 * PAGE);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }
    }
}
