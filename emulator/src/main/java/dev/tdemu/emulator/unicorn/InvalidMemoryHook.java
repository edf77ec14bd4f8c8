package dev.tdemu.emulator.unicorn;

/**
 * Called for an access to unmapped memory or one its protection forbids
 * ({@code UC_HOOK_MEM_*_UNMAPPED}, {@code UC_HOOK_MEM_*_PROT}). Return true to retry the access
 * (only sensible after mapping or unprotecting the memory), false to stop emulation with the
 * corresponding {@link UcError}.
 */
@FunctionalInterface
public interface InvalidMemoryHook {
    boolean onInvalidAccess(Unicorn uc, MemType type, long address, int size, long value);
}
