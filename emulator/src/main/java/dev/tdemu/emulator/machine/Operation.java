package dev.tdemu.emulator.machine;

import dev.tdemu.core.x86.Event;

/**
 * What an instruction is, for the instructions the emulator must recognise (VM exits, mode
 * switches, event delivery, debug rules); everything else is {@link Other}. Register numbers
 * follow the usual encoding (RAX=0 … R15=15), already extended by REX.
 */
public sealed interface Operation {

    /** Instructions recognised by name only: their operands, if any, are implicit or in {@link X86Instruction}. */
    enum Name {
        CLTS, STI, CLI, HLT, CPUID, RDMSR, WRMSR, RDTSC, RDTSCP,
        /** 0F 01 C1 (Intel). */
        VMCALL,
        /** 0F 01 D9 (AMD; #UD on the Intel CPU tdemu models). */
        VMMCALL,
        /** 66 0F 01 CC. */
        TDCALL,
        UD2, SYSCALL, SYSRET, SYSENTER, SYSEXIT, SWAPGS, XSETBV,
        /** F3 90. */
        PAUSE,
        MONITOR, MWAIT, WBINVD, INVD
    }

    /** One of the {@link Name}d instructions. */
    record Named(Name name) implements Operation {}

    /** 0F 23 /r (to DR, a write) or 0F 21 /r (from DR). ModRM.mod is ignored: both operands are registers. */
    record MovDr(boolean toDebugRegister, int debugRegister, int gpr) implements Operation {}

    /** 0F 22 /r (to CR) or 0F 20 /r (from CR). ModRM.mod is ignored. CR8 needs REX.R. */
    record MovCr(boolean toControlRegister, int controlRegister, int gpr) implements Operation {}

    /** LMSW (0F 01 /6) or SMSW (0F 01 /4): a register, or the memory operand when {@code gpr} is -1. */
    record MachineStatusWord(boolean load, int gpr) implements Operation {}

    /**
     * IN/OUT with an immediate port or DX, and INS/OUTS.
     *
     * @param in     IN or INS (port to register or memory)
     * @param size   1, 2 or 4 bytes per transfer
     * @param port   the immediate port, or -1 when the port is in DX
     * @param string INS/OUTS
     * @param rep    an F3 or F2 prefix on INS/OUTS (both repeat)
     */
    record PortIo(boolean in, int size, int port, boolean string, boolean rep) implements Operation {}

    /** The non-I/O string instructions. */
    enum StringKind { MOVS, CMPS, STOS, LODS, SCAS }

    /** The repeat prefix a string instruction carries. */
    enum Repeat { NONE, REP, REPNE }

    /** MOVS, CMPS, STOS, LODS or SCAS of {@code elementSize} bytes (1, 2, 4, 8). */
    record StringOp(StringKind kind, int elementSize, Repeat repeat) implements Operation {}

    /** IRET (2 bytes popped per slot), IRETD (4) or IRETQ (8). */
    record Iret(int operandSize) implements Operation {}

    /** PUSHF or POPF of {@code operandSize} bytes. */
    record Flags(boolean pop, int operandSize) implements Operation {}

    /** INT n, INT3, INTO or INT1 with the vector it raises. */
    record SoftwareInterrupt(Event.Instruction instruction, int vector) implements Operation {}

    /** MOV SS, r/m or POP SS: blocks interrupts and debug exceptions until after the next instruction. */
    record LoadSs(boolean pop) implements Operation {}

    /** INVLPG m (0F 01 /7 with a memory operand). */
    record Invlpg() implements Operation {}

    /** The system-table registers LGDT, LIDT, LLDT and LTR load. */
    enum SystemTable { GDTR, IDTR, LDTR, TR }

    /** LGDT/LIDT (memory operand) or LLDT/LTR (a selector in a register, or in memory when {@code gpr} is -1). */
    record LoadSystemTable(SystemTable table, int gpr) implements Operation {}

    /**
     * A far JMP or CALL: the mode switch. Direct (EA/9A ptr16:16/32, not in 64-bit mode) gives
     * selector and offset; indirect (FF /5, FF /3) reads them from the memory operand.
     */
    record FarTransfer(boolean call, boolean indirect, int selector, long offset) implements Operation {}

    /** The near branches, by what they do to the stack and registers besides RIP. */
    enum BranchKind {
        /** JMP rel8/rel32 (EB, E9) or JMP r/m (FF /4). */
        JMP,
        /** Jcc rel8/rel32 (70-7F, 0F 80-8F), JrCXZ (E3). */
        JCC,
        /** LOOP, LOOPE, LOOPNE (E0-E2): decrement rCX first. */
        LOOP,
        /** CALL rel32 (E8) or CALL r/m (FF /2): push the return address. */
        CALL,
        /** RET (C3) or RET imm16 (C2): pop the target, then release the immediate's bytes. */
        RET
    }

    /**
     * A near branch. The target is RIP after the instruction plus the {@link X86Instruction#immediate}
     * (relative), the ModRM operand (indirect), or the qword at RSP (RET).
     *
     * @param indirect  FF /2 or FF /4: the target is the register or memory operand
     * @param popBytes  RET imm16's immediate (bytes released after the pop), else 0
     */
    record NearBranch(BranchKind kind, boolean indirect, int popBytes) implements Operation {}

    /** An opcode that is #UD in the decoding mode (the one-byte opcodes 64-bit mode dropped, for one). */
    record Undefined(String reason) implements Operation {}

    /** Anything else; the length and operands are still decoded. */
    record Other() implements Operation {}
}
