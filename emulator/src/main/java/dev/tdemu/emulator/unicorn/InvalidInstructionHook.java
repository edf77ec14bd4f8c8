package dev.tdemu.emulator.unicorn;

/**
 * Called for an instruction the engine cannot execute (VMCALL, VMMCALL, TDCALL, UD2, ICEBP,
 * SYSENTER ...), with RIP on it. Return true to continue at whatever RIP the hook left (it must
 * move RIP, or the instruction faults again), false to stop with {@link UcError#INSN_INVALID}.
 */
@FunctionalInterface
public interface InvalidInstructionHook {
    boolean onInvalidInstruction(Unicorn uc);
}
