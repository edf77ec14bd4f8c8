package dev.tdemu.emulator.unicorn;

/**
 * Called before each instruction in the hooked range executes ({@code UC_HOOK_CODE}). Calling
 * {@link Unicorn#emuStop()} here leaves the instruction unexecuted; writing RIP redirects
 * execution. Exceptions are caught at the native boundary and rethrown by {@link Unicorn#emuStart}.
 */
@FunctionalInterface
public interface CodeHook {
    void onInstruction(Unicorn uc, long address, int size);
}
