package dev.tdemu.emulator.unicorn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The Java side of every upcall stub. Each entry point runs the user's hook inside a catch-all:
 * a Throwable escaping an FFM upcall would kill the JVM, so it is recorded on the engine (which
 * stops and rethrows it from {@link Unicorn#emuStart}) and a safe default goes back to the engine.
 * Once a hook has failed, later hooks of the same run are skipped.
 */
final class Upcalls {
    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();

    static final MethodHandle CODE = find("code", CodeHook.class, void.class, long.class, int.class);
    static final MethodHandle BLOCK = find("block", BlockHook.class, void.class, long.class, int.class);
    /** The engine's one UC_HOOK_INTR hook; it dispatches to the {@link InterruptHook}s in Java. */
    static final MethodHandle INTR_DISPATCH;
    /** The engine's shared code-hook stub: (engine, uc, address, size, user data = the hook's number). */
    static final MethodHandle CODE_DISPATCH;
    static final MethodHandle MEM = find("memory", MemoryHook.class, void.class, int.class, long.class, int.class, long.class);
    static final MethodHandle EVENTMEM = find("invalidMemory", InvalidMemoryHook.class, boolean.class,
            int.class, long.class, int.class, long.class);
    static final MethodHandle IN = find("in", InHook.class, int.class, int.class, int.class);
    static final MethodHandle OUT = find("out", OutHook.class, void.class, int.class, int.class, int.class);
    static final MethodHandle CPUID = find("cpuid", CpuidHook.class, int.class);
    static final MethodHandle SYSCALL = find("syscall", SyscallHook.class, void.class);
    static final MethodHandle INSN_INVALID = find("invalidInstruction", InvalidInstructionHook.class, boolean.class);
    static final MethodHandle TLB_FILL = find("tlbFill", TlbFillHook.class, boolean.class, long.class, int.class,
            MemorySegment.class);

    static {
        try {
            INTR_DISPATCH = LOOKUP.findStatic(Upcalls.class, "dispatchInterrupt", MethodType.methodType(void.class,
                    Unicorn.class, MemorySegment.class, int.class, MemorySegment.class));
            CODE_DISPATCH = LOOKUP.findStatic(Upcalls.class, "dispatchCode", MethodType.methodType(void.class,
                    Unicorn.class, MemorySegment.class, long.class, int.class, MemorySegment.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Upcalls() {
    }

    /**
     * Records a hook's failure on its engine, which stops the run and rethrows it from emuStart.
     * Nothing may escape into native code, not even a failure to record.
     */
    static void failed(Unicorn engine, Throwable t) {
        try {
            engine.hookFailed(t);
        } catch (Throwable ignored) {
            // cannot report; the engine is stopped by the first failure anyway
        }
    }

    /** {@code target} with the hook and its callback bound: the handle an upcall stub invokes. */
    static MethodHandle bind(MethodHandle target, Hook hook, Object callback) {
        return MethodHandles.insertArguments(target, 0, hook, callback);
    }

    private static MethodHandle find(String name, Class<?> callback, Class<?> ret, Class<?>... middle) {
        Class<?>[] params = new Class<?>[middle.length + 4];
        params[0] = Hook.class;
        params[1] = callback;
        params[2] = MemorySegment.class; // uc_engine *
        System.arraycopy(middle, 0, params, 3, middle.length);
        params[params.length - 1] = MemorySegment.class; // void *user_data
        try {
            return LOOKUP.findStatic(Upcalls.class, name, MethodType.methodType(ret, params));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // Every method below: nothing may escape. The inner try guards the recording itself
    // (e.g. a StackOverflowError thrown again while recording). A hook removed during a run is
    // skipped: the engine keeps calling deleted hooks until the run ends.

    private static void code(Hook k, CodeHook h, MemorySegment uc, long address, int size, MemorySegment user) {
        try {
            if (k.live()) {
                h.onInstruction(k.engine, address, size);
            }
        } catch (Throwable t) {
            failed(k.engine, t);
        }
    }

    private static void block(Hook k, BlockHook h, MemorySegment uc, long address, int size, MemorySegment user) {
        try {
            if (k.live()) {
                h.onBlock(k.engine, address, size);
            }
        } catch (Throwable t) {
            failed(k.engine, t);
        }
    }

    private static void dispatchInterrupt(Unicorn e, MemorySegment uc, int vector, MemorySegment user) {
        try {
            if (e.hookFailure == null) {
                e.dispatchInterrupt(vector);
            }
        } catch (Throwable t) {
            failed(e, t);
        }
    }

    private static void dispatchCode(Unicorn e, MemorySegment uc, long address, int size, MemorySegment user) {
        try {
            if (e.hookFailure == null) {
                e.dispatchCode(address, size, user.address());
            }
        } catch (Throwable t) {
            failed(e, t);
        }
    }

    private static void memory(Hook k, MemoryHook h, MemorySegment uc, int type, long address, int size, long value,
                               MemorySegment user) {
        try {
            if (k.live()) {
                h.onAccess(k.engine, MemType.of(type), address, size, value);
            }
        } catch (Throwable t) {
            failed(k.engine, t);
        }
    }

    /** Default false: the engine stops with the access's error (reported as suppressed). */
    private static boolean invalidMemory(Hook k, InvalidMemoryHook h, MemorySegment uc, int type, long address,
                                         int size, long value, MemorySegment user) {
        try {
            return k.live() && h.onInvalidAccess(k.engine, MemType.of(type), address, size, value);
        } catch (Throwable t) {
            failed(k.engine, t);
            return false;
        }
    }

    /** uc_tlb_entry: uint64_t paddr; uc_prot perms (int). */
    private static boolean tlbFill(Hook k, TlbFillHook h, MemorySegment uc, long vaddr, int type, MemorySegment result,
                                   MemorySegment user) {
        try {
            if (!k.live()) {
                return false;
            }
            long e = h.fill(k.engine, vaddr, MemType.of(type));
            if (e == TlbFillHook.REFUSE) {
                return false;
            }
            MemorySegment r = result.reinterpret(16);
            r.set(ValueLayout.JAVA_LONG, 0, e & ~0xFFFL);
            r.set(ValueLayout.JAVA_INT, 8, (int) (e & 7));
            return true;
        } catch (Throwable t) {
            failed(k.engine, t);
            return false;
        }
    }

    private static int in(Hook k, InHook h, MemorySegment uc, int port, int size, MemorySegment user) {
        try {
            return k.live() ? h.onIn(k.engine, port, size) : 0;
        } catch (Throwable t) {
            failed(k.engine, t);
            return 0;
        }
    }

    private static void out(Hook k, OutHook h, MemorySegment uc, int port, int size, int value, MemorySegment user) {
        try {
            if (k.live()) {
                h.onOut(k.engine, port, size, value);
            }
        } catch (Throwable t) {
            failed(k.engine, t);
        }
    }

    /** Default 0: the engine's own CPUID runs. */
    private static int cpuid(Hook k, CpuidHook h, MemorySegment uc, MemorySegment user) {
        try {
            return k.live() && h.onCpuid(k.engine) ? 1 : 0;
        } catch (Throwable t) {
            failed(k.engine, t);
            return 0;
        }
    }

    private static void syscall(Hook k, SyscallHook h, MemorySegment uc, MemorySegment user) {
        try {
            if (k.live()) {
                h.onSyscall(k.engine);
            }
        } catch (Throwable t) {
            failed(k.engine, t);
        }
    }

    /** Default false: the engine stops with UC_ERR_INSN_INVALID (reported as suppressed). */
    private static boolean invalidInstruction(Hook k, InvalidInstructionHook h, MemorySegment uc, MemorySegment user) {
        try {
            if (k.live() && h.onInvalidInstruction(k.engine)) {
                k.engine.invalidInstructionHandled();
                return true;
            }
            return false;
        } catch (Throwable t) {
            failed(k.engine, t);
            return false;
        }
    }
}
