package dev.tdemu.emulator.unicorn;

import java.lang.foreign.MemorySegment;
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
    static final MethodHandle INTR = find("interrupt", InterruptHook.class, void.class, int.class);
    static final MethodHandle MEM = find("memory", MemoryHook.class, void.class, int.class, long.class, int.class, long.class);
    static final MethodHandle EVENTMEM = find("invalidMemory", InvalidMemoryHook.class, boolean.class,
            int.class, long.class, int.class, long.class);
    static final MethodHandle IN = find("in", InHook.class, int.class, int.class, int.class);
    static final MethodHandle OUT = find("out", OutHook.class, void.class, int.class, int.class, int.class);
    static final MethodHandle CPUID = find("cpuid", CpuidHook.class, int.class);
    static final MethodHandle SYSCALL = find("syscall", SyscallHook.class, void.class);
    static final MethodHandle INSN_INVALID = find("invalidInstruction", InvalidInstructionHook.class, boolean.class);

    private Upcalls() {
    }

    /** {@code target} with the engine and the callback bound: the handle an upcall stub invokes. */
    static MethodHandle bind(MethodHandle target, Unicorn engine, Object callback) {
        return MethodHandles.insertArguments(target, 0, engine, callback);
    }

    private static MethodHandle find(String name, Class<?> callback, Class<?> ret, Class<?>... middle) {
        Class<?>[] params = new Class<?>[middle.length + 4];
        params[0] = Unicorn.class;
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
    // (e.g. a StackOverflowError thrown again while recording).

    private static void code(Unicorn e, CodeHook h, MemorySegment uc, long address, int size, MemorySegment user) {
        try {
            if (e.hookFailure == null) {
                h.onInstruction(e, address, size);
            }
        } catch (Throwable t) {
            try {
                e.hookFailed(t);
            } catch (Throwable ignored) {
                // cannot report; the engine is stopped by the first failure anyway
            }
        }
    }

    private static void block(Unicorn e, BlockHook h, MemorySegment uc, long address, int size, MemorySegment user) {
        try {
            if (e.hookFailure == null) {
                h.onBlock(e, address, size);
            }
        } catch (Throwable t) {
            try {
                e.hookFailed(t);
            } catch (Throwable ignored) {
                // see code()
            }
        }
    }

    private static void interrupt(Unicorn e, InterruptHook h, MemorySegment uc, int vector, MemorySegment user) {
        try {
            if (e.hookFailure == null) {
                h.onInterrupt(e, vector);
            }
        } catch (Throwable t) {
            try {
                e.hookFailed(t);
            } catch (Throwable ignored) {
                // see code()
            }
        }
    }

    private static void memory(Unicorn e, MemoryHook h, MemorySegment uc, int type, long address, int size, long value,
                               MemorySegment user) {
        try {
            if (e.hookFailure == null) {
                h.onAccess(e, MemType.of(type), address, size, value);
            }
        } catch (Throwable t) {
            try {
                e.hookFailed(t);
            } catch (Throwable ignored) {
                // see code()
            }
        }
    }

    /** Default false: the engine stops with the access's error (reported as suppressed). */
    private static boolean invalidMemory(Unicorn e, InvalidMemoryHook h, MemorySegment uc, int type, long address,
                                         int size, long value, MemorySegment user) {
        try {
            return e.hookFailure == null && h.onInvalidAccess(e, MemType.of(type), address, size, value);
        } catch (Throwable t) {
            try {
                e.hookFailed(t);
            } catch (Throwable ignored) {
                // see code()
            }
            return false;
        }
    }

    private static int in(Unicorn e, InHook h, MemorySegment uc, int port, int size, MemorySegment user) {
        try {
            return e.hookFailure == null ? h.onIn(e, port, size) : 0;
        } catch (Throwable t) {
            try {
                e.hookFailed(t);
            } catch (Throwable ignored) {
                // see code()
            }
            return 0;
        }
    }

    private static void out(Unicorn e, OutHook h, MemorySegment uc, int port, int size, int value, MemorySegment user) {
        try {
            if (e.hookFailure == null) {
                h.onOut(e, port, size, value);
            }
        } catch (Throwable t) {
            try {
                e.hookFailed(t);
            } catch (Throwable ignored) {
                // see code()
            }
        }
    }

    /** Default 0: the engine's own CPUID runs. */
    private static int cpuid(Unicorn e, CpuidHook h, MemorySegment uc, MemorySegment user) {
        try {
            return e.hookFailure == null && h.onCpuid(e) ? 1 : 0;
        } catch (Throwable t) {
            try {
                e.hookFailed(t);
            } catch (Throwable ignored) {
                // see code()
            }
            return 0;
        }
    }

    private static void syscall(Unicorn e, SyscallHook h, MemorySegment uc, MemorySegment user) {
        try {
            if (e.hookFailure == null) {
                h.onSyscall(e);
            }
        } catch (Throwable t) {
            try {
                e.hookFailed(t);
            } catch (Throwable ignored) {
                // see code()
            }
        }
    }

    /** Default false: the engine stops with UC_ERR_INSN_INVALID (reported as suppressed). */
    private static boolean invalidInstruction(Unicorn e, InvalidInstructionHook h, MemorySegment uc, MemorySegment user) {
        try {
            return e.hookFailure == null && h.onInvalidInstruction(e);
        } catch (Throwable t) {
            try {
                e.hookFailed(t);
            } catch (Throwable ignored) {
                // see code()
            }
            return false;
        }
    }
}
