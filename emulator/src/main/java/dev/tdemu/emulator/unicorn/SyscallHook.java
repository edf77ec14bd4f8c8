package dev.tdemu.emulator.unicorn;

/**
 * Called for SYSCALL instead of executing it: the engine only advances RIP past the instruction,
 * so the hook performs whatever SYSCALL should do.
 */
@FunctionalInterface
public interface SyscallHook {
    void onSyscall(Unicorn uc);
}
