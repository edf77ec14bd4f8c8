package dev.tdemu.emulator.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The C API of Unicorn 2.1 as FFM downcall handles, plus the constants transcribed from
 * unicorn.h and x86.h. Touch this class only after {@link UcLibrary#require()} succeeded.
 *
 * <p>Calls that never run guest code or hooks are {@code critical}: no thread-state transition
 * (uc_reg_read measured 7.5 ns instead of 9.7 ns) and heap arrays may be passed for memory copies.
 * uc_emu_start and everything else that can reach a hook stays a normal downcall, as upcalls from
 * a critical call are not allowed.
 */
@SuppressWarnings("restricted") // this is the FFM binding: restricted methods are its job
final class Uc {
    static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIB = UcLibrary.require();
    private static final Linker.Option CRITICAL = Linker.Option.critical(true);

    // uc_arch / uc_mode
    static final int UC_ARCH_X86 = 4;
    static final int UC_MODE_64 = 1 << 3;

    // uc_hook_type
    static final int UC_HOOK_INTR = 1;
    static final int UC_HOOK_INSN = 1 << 1;
    static final int UC_HOOK_CODE = 1 << 2;
    static final int UC_HOOK_BLOCK = 1 << 3;
    static final int UC_HOOK_MEM_READ_UNMAPPED = 1 << 4;
    static final int UC_HOOK_MEM_WRITE_UNMAPPED = 1 << 5;
    static final int UC_HOOK_MEM_FETCH_UNMAPPED = 1 << 6;
    static final int UC_HOOK_MEM_READ_PROT = 1 << 7;
    static final int UC_HOOK_MEM_WRITE_PROT = 1 << 8;
    static final int UC_HOOK_MEM_FETCH_PROT = 1 << 9;
    static final int UC_HOOK_MEM_READ = 1 << 10;
    static final int UC_HOOK_MEM_WRITE = 1 << 11;
    static final int UC_HOOK_MEM_FETCH = 1 << 12;
    static final int UC_HOOK_MEM_READ_AFTER = 1 << 13;
    static final int UC_HOOK_INSN_INVALID = 1 << 14;
    static final int UC_HOOK_EDGE_GENERATED = 1 << 15;
    static final int UC_HOOK_TLB_FILL = 1 << 17;

    // uc_x86_insn (only the ones UC_HOOK_INSN accepts and tdemu uses)
    static final int UC_X86_INS_CPUID = 113;
    static final int UC_X86_INS_IN = 218;
    static final int UC_X86_INS_OUT = 500;
    static final int UC_X86_INS_SYSCALL = 699;

    // uc_query_type
    static final int UC_QUERY_TIMEOUT = 4;

    // uc_control_type and the UC_CTL(type, nr, rw) encoding: type | nr << 26 | rw << 30
    static final int UC_CTL_IO_WRITE = 1;
    static final int UC_CTL_UC_USE_EXITS = 4;
    static final int UC_CTL_TB_REMOVE_CACHE = 9;
    static final int UC_CTL_TB_FLUSH = 10;
    static final int UC_CTL_TCG_BUFFER_SIZE = 13;
    static final int UC_CTL_TLB_FLUSH = 11;
    static final int UC_CTL_TLB_TYPE = 12;
    static final int UC_TLB_CPU = 0, UC_TLB_VIRTUAL = 1;

    static int ctlWrite(int type, int argCount) {
        return type | argCount << 26 | UC_CTL_IO_WRITE << 30;
    }

    // uc_x86_reg ids that are not ordinary registers
    static final int UC_X86_REG_MSR = 248;

    // struct uc_x86_mmr { uint16_t selector; uint64_t base; uint32_t limit; uint32_t flags; }
    static final long MMR_SELECTOR = 0, MMR_BASE = 8, MMR_LIMIT = 16, MMR_FLAGS = 20, MMR_SIZE = 24;
    // struct uc_x86_msr { uint32_t rid; uint64_t value; }
    static final long MSR_RID = 0, MSR_VALUE = 8, MSR_SIZE = 16;

    static final MethodHandle OPEN = down("uc_open", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle CLOSE = down("uc_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle ERRNO = down("uc_errno", FunctionDescriptor.of(JAVA_INT, ADDRESS), CRITICAL);
    static final MethodHandle STRERROR = down("uc_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT), CRITICAL);
    static final MethodHandle QUERY = down("uc_query", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), CRITICAL);

    static final MethodHandle MEM_MAP = down("uc_mem_map",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT));
    static final MethodHandle MEM_MAP_PTR = down("uc_mem_map_ptr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS));
    /** uc_mmio_map(uc, address, size, read_cb, user_read, write_cb, user_write). */
    static final MethodHandle MMIO_MAP = down("uc_mmio_map",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    /** uc_cb_mmio_read_t: uint64_t (uc, uint64_t offset, unsigned size, void *user). */
    static final FunctionDescriptor CB_MMIO_READ = FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS);
    /** uc_cb_mmio_write_t: void (uc, uint64_t offset, unsigned size, uint64_t value, void *user). */
    static final FunctionDescriptor CB_MMIO_WRITE = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS);
    static final MethodHandle MEM_UNMAP = down("uc_mem_unmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    static final MethodHandle MEM_PROTECT = down("uc_mem_protect",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT));
    static final MethodHandle MEM_READ = down("uc_mem_read",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), CRITICAL);
    static final MethodHandle MEM_WRITE = down("uc_mem_write",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), CRITICAL);

    static final MethodHandle REG_READ = down("uc_reg_read", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), CRITICAL);
    static final MethodHandle REG_WRITE = down("uc_reg_write", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), CRITICAL);
    static final MethodHandle REG_READ_BATCH = down("uc_reg_read_batch",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT), CRITICAL);
    static final MethodHandle REG_WRITE_BATCH = down("uc_reg_write_batch",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT), CRITICAL);

    static final MethodHandle EMU_START = down("uc_emu_start",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    static final MethodHandle EMU_STOP = down("uc_emu_stop", FunctionDescriptor.of(JAVA_INT, ADDRESS), CRITICAL);

    // uc_hook_add(uc, uc_hook *hh, int type, void *callback, void *user_data, uint64_t begin, uint64_t end, ...)
    private static final FunctionDescriptor HOOK_ADD_FIXED =
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG);
    static final MethodHandle HOOK_ADD = down("uc_hook_add", HOOK_ADD_FIXED, Linker.Option.firstVariadicArg(7));
    /** uc_hook_add with the UC_HOOK_INSN instruction id as its one variadic argument. */
    static final MethodHandle HOOK_ADD_INSN = down("uc_hook_add", HOOK_ADD_FIXED.appendArgumentLayouts(JAVA_INT),
            Linker.Option.firstVariadicArg(7));
    /** Not critical: deleting a code hook drops the translations of its range, which in virtual-TLB mode calls the TLB-fill hook. */
    static final MethodHandle HOOK_DEL = down("uc_hook_del", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    static final MethodHandle CONTEXT_ALLOC = down("uc_context_alloc", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle CONTEXT_SAVE = down("uc_context_save", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), CRITICAL);
    static final MethodHandle CONTEXT_RESTORE = down("uc_context_restore",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), CRITICAL);
    static final MethodHandle CONTEXT_FREE = down("uc_context_free", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle CONTEXT_SIZE = down("uc_context_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS), CRITICAL);

    // uc_ctl(uc, control, ...) is variadic: one handle per argument shape.
    static final MethodHandle CTL_NO_ARGS = down("uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    static final MethodHandle CTL_INT = down("uc_ctl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    static final MethodHandle CTL_TWO_LONGS = down("uc_ctl",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));

    // Upcall shapes (unicorn.h / x86.h callback typedefs), user_data last.
    /** uc_cb_hookcode_t: void (uc, uint64_t address, uint32_t size, void *user). Also UC_HOOK_BLOCK. */
    static final FunctionDescriptor CB_CODE = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS);
    /** uc_cb_hookintr_t: void (uc, uint32_t intno, void *user). */
    static final FunctionDescriptor CB_INTR = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS);
    /** uc_cb_hookmem_t: void (uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user). */
    static final FunctionDescriptor CB_MEM = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS);
    /** uc_cb_eventmem_t: bool (uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user). */
    static final FunctionDescriptor CB_EVENTMEM =
            FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS);
    /** uc_cb_insn_in_t: uint32_t (uc, uint32_t port, int size, void *user). */
    static final FunctionDescriptor CB_IN = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS);
    /** uc_cb_insn_out_t: void (uc, uint32_t port, int size, uint32_t value, void *user). */
    static final FunctionDescriptor CB_OUT = FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
    /** uc_cb_insn_cpuid_t: int (uc, void *user); nonzero skips the engine's own CPUID. */
    static final FunctionDescriptor CB_CPUID = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
    /** uc_cb_insn_syscall_t: void (uc, void *user). */
    static final FunctionDescriptor CB_SYSCALL = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS);
    /** uc_cb_tlbevent_t: bool (uc, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *result, void *user). */
    /** uc_hook_edge_gen_t: void (uc, uc_tb *cur, uc_tb *prev, void *user); uc_tb = {u64 pc; u16 icount; u16 size}. */
    static final FunctionDescriptor CB_EDGE = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS);
    static final long UC_TB_PC = 0, UC_TB_ICOUNT = 8, UC_TB_SIZE = 10;
    static final FunctionDescriptor CB_TLB_FILL = FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
    /** uc_cb_hookinsn_invalid_t: bool (uc, void *user); true continues (at the RIP the hook left). */
    static final FunctionDescriptor CB_INSN_INVALID = FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, ADDRESS);

    private Uc() {
    }

    private static MethodHandle down(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LIB.find(name).orElseThrow(() -> new UnicornUnavailableException(
                "libunicorn.so.2 lacks " + name + ": " + UnicornVersion.INSTALL_HINT, null, null));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    /** uc_strerror's text for an error code. */
    static String describe(int code) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(code);
            return s.equals(MemorySegment.NULL) ? "unknown error" : s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            return "unknown error (" + t + ")";
        }
    }
}
