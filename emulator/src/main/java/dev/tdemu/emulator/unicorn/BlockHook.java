package dev.tdemu.emulator.unicorn;

/** Called when a translated basic block starts executing ({@code UC_HOOK_BLOCK}); size is the block's. */
@FunctionalInterface
public interface BlockHook {
    void onBlock(Unicorn uc, long address, int size);
}
