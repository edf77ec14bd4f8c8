package dev.tdemu.emulator.unicorn;

/**
 * Called for successful guest memory accesses ({@code UC_HOOK_MEM_READ/WRITE/FETCH/READ_AFTER}).
 * Addresses are guest-physical; the hook range is compared with the access start only. For
 * writes and {@link MemType#READ_AFTER} {@code value} is the data; for reads and fetches it is
 * meaningless.
 */
@FunctionalInterface
public interface MemoryHook {
    void onAccess(Unicorn uc, MemType type, long address, int size, long value);
}
