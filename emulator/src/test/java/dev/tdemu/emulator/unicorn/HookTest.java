package dev.tdemu.emulator.unicorn;

import static dev.tdemu.emulator.unicorn.BindingGuests.DATA;
import static dev.tdemu.emulator.unicorn.BindingGuests.NOPS;
import static dev.tdemu.emulator.unicorn.BindingGuests.PROTECTED_PAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every hook kind fires with the right arguments on real guest code (binding-hooks.S). */
class HookTest {
    private BareMachine m;
    private Unicorn uc;

    @BeforeEach
    void open() {
        m = BindingGuests.machine("binding-hooks");
        uc = m.engine();
    }

    @AfterEach
    void close() {
        m.close();
    }

    record Event(String kind, long a, long b, long c) {
    }

    @Test
    void codeHookSeesEachInstructionOfItsRangeOnly() {
        List<Event> seen = new ArrayList<>();
        uc.addCodeHook(NOPS + 1, NOPS + 2, (u, address, size) -> seen.add(new Event("code", address, size, 0)));
        uc.emuStart(NOPS);
        assertThat(seen).containsExactly(new Event("code", NOPS + 1, 1, 0), new Event("code", NOPS + 2, 1, 0));
    }

    @Test
    void codeHookOnAllAddressesSeesEveryInstruction() {
        List<Long> seen = new ArrayList<>();
        uc.addCodeHook((u, address, size) -> seen.add(address));
        uc.emuStart(NOPS);
        assertThat(seen).containsExactly(NOPS, NOPS + 1, NOPS + 2, NOPS + 3, NOPS + 4);
    }

    @Test
    void codeHookAddedAfterTheCodeWasTranslatedStillFires() {
        uc.emuStart(NOPS); // translate the block without hooks
        List<Long> seen = new ArrayList<>();
        uc.addCodeHook(NOPS + 3, NOPS + 3, (u, address, size) -> seen.add(address));
        uc.emuStart(NOPS);
        assertThat(seen).containsExactly(NOPS + 3);
    }

    @Test
    void emuStopInACodeHookLeavesTheInstructionUnexecuted() {
        uc.addCodeHook(NOPS + 2, NOPS + 2, (u, address, size) -> u.emuStop());
        assertThat(uc.emuStart(NOPS)).isEqualTo(EmuResult.COMPLETED);
        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(NOPS + 2);
    }

    @Test
    void blockHookSeesTheBlockStartAndSize() {
        List<Event> seen = new ArrayList<>();
        uc.addBlockHook((u, address, size) -> seen.add(new Event("block", address, size, 0)));
        uc.emuStart(NOPS);
        assertThat(seen).containsExactly(new Event("block", NOPS, 5, 0));
    }

    @Test
    void interruptHookReportsInt3AsVector3AfterTheInstruction() {
        List<Event> seen = new ArrayList<>();
        uc.addInterruptHook((u, vector) -> {
            seen.add(new Event("intr", vector, u.readReg(X86Reg.RIP), 0));
            u.emuStop();
        });
        uc.emuStart(BindingGuests.INT3);
        assertThat(seen).containsExactly(new Event("intr", 3, BindingGuests.INT3 + 1, 0));
    }

    /** A RIP written in an interrupt hook is where the guest goes on (GuestEngine's exit fastpath). */
    @Test
    void aRipWrittenInAnInterruptHookIsWhereTheGuestGoesOn() {
        List<Long> ran = new ArrayList<>();
        uc.addCodeHook(NOPS + 4, NOPS + 4, (u, address, size) -> ran.add(address));
        uc.addInterruptHook((u, vector) -> u.writeReg(X86Reg.RIP, NOPS));
        assertThat(uc.emuStart(BindingGuests.INT3)).isEqualTo(EmuResult.COMPLETED);
        assertThat(ran).containsExactly(NOPS + 4);
    }

    /** ... and a stop asked for in the same hook, before the RIP write or after it, still ends the run there. */
    @Test
    void aStopInAnInterruptHookWinsOverARipWrittenBeforeOrAfterIt() {
        for (boolean stopFirst : new boolean[] {true, false}) {
            List<Long> ran = new ArrayList<>();
            Hook code = uc.addCodeHook(NOPS + 4, NOPS + 4, (u, address, size) -> ran.add(address));
            Hook intr = uc.addInterruptHook((u, vector) -> {
                if (stopFirst) {
                    u.emuStop();
                }
                u.writeReg(X86Reg.RIP, NOPS);
                if (!stopFirst) {
                    u.emuStop();
                }
            });
            uc.emuStart(BindingGuests.INT3);
            assertThat(ran).as("stop %s the RIP write", stopFirst ? "before" : "after").isEmpty();
            assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(NOPS);
            code.close();
            intr.close();
        }
    }

    @Test
    void interruptHookReportsDivideErrorAsVector0OnTheInstruction() {
        List<Event> seen = new ArrayList<>();
        uc.addInterruptHook((u, vector) -> {
            seen.add(new Event("intr", vector, u.readReg(X86Reg.RIP), 0));
            u.emuStop();
        });
        uc.emuStart(BindingGuests.DIVIDE);
        assertThat(seen).containsExactly(new Event("intr", 0, BindingGuests.DIVIDE + 9, 0));
    }

    @Test
    void interruptHookReportsGeneralProtectionAsVector13() {
        List<Integer> vectors = new ArrayList<>();
        uc.addInterruptHook((u, vector) -> {
            vectors.add(vector);
            u.emuStop();
        });
        uc.emuStart(BindingGuests.GP);
        assertThat(vectors).containsExactly(13);
        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(BindingGuests.GP + 4); // on the mov to DS
    }

    @Test
    void withoutAnInterruptHookAnExceptionEndsTheRunWithAnError() {
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.INT3))
                .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.EXCEPTION));
    }

    @Test
    void memoryHooksSeeAddressSizeAndValue() {
        List<Event> seen = new ArrayList<>();
        m.ram().set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, DATA + 8, 0x0123456789abcdefL);
        uc.addMemoryHook(EnumSet.of(MemType.READ, MemType.WRITE, MemType.READ_AFTER), DATA, DATA + 0xfff,
                (u, type, address, size, value) -> seen.add(new Event(type.name(), address, size,
                        type == MemType.READ ? 0 : value)));
        uc.emuStart(BindingGuests.MEMORY);
        assertThat(seen).containsExactly(
                new Event("WRITE", DATA, 8, 0x1122334455667788L),
                new Event("READ", DATA + 8, 8, 0),
                new Event("READ_AFTER", DATA + 8, 8, 0x0123456789abcdefL),
                new Event("WRITE", DATA + 0x10, 1, 0x5a));
    }

    @Test
    void fetchMemoryHooksAreRefusedBecauseTheEngineNeverCallsThem() {
        assertThatThrownBy(() -> uc.addMemoryHook(EnumSet.of(MemType.FETCH), 1, 0, (u, t, a, s, v) -> { }))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("code hook");
    }

    @Test
    void memoryHookOutsideItsRangeStaysSilent() {
        List<Long> seen = new ArrayList<>();
        uc.addMemoryHook(EnumSet.of(MemType.READ, MemType.WRITE), DATA + 0x1000, DATA + 0x1fff,
                (u, type, address, size, value) -> seen.add(address));
        uc.emuStart(BindingGuests.MEMORY);
        assertThat(seen).isEmpty();
    }

    @Test
    void unmappedReadAndWriteAreReportedAndCanBeFixedByMapping() {
        List<Event> seen = new ArrayList<>();
        uc.addInvalidMemoryHook(EnumSet.of(MemType.READ_UNMAPPED, MemType.WRITE_UNMAPPED), 1, 0,
                (u, type, address, size, value) -> {
                    seen.add(new Event(type.name(), address, size, value));
                    u.map(address & ~0xfffL, 0x1000, Protection.RW);
                    return true;
                });
        uc.emuStart(BindingGuests.UNMAPPED);
        assertThat(seen).containsExactly(
                new Event("READ_UNMAPPED", 0x40000000L, 8, 0),
                new Event("WRITE_UNMAPPED", 0x40001000L, 4, 0xcafe));
        assertThat(uc.read(0x40001000L, 4)).containsExactly(0xfe, 0xca, 0, 0);
    }

    @Test
    void unmappedAccessRefusedByTheHookEndsTheRunWithTheError() {
        uc.addInvalidMemoryHook(EnumSet.of(MemType.READ_UNMAPPED), 1, 0, (u, type, address, size, value) -> false);
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.UNMAPPED))
                .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.READ_UNMAPPED));
    }

    @Test
    void unmappedFetchIsReported() {
        List<Event> seen = new ArrayList<>();
        uc.addInvalidMemoryHook(EnumSet.of(MemType.FETCH_UNMAPPED), 1, 0, (u, type, address, size, value) -> {
            seen.add(new Event(type.name(), address, 0, 0));
            return false;
        });
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.FETCH_UNMAPPED))
                .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.FETCH_UNMAPPED));
        assertThat(seen).containsExactly(new Event("FETCH_UNMAPPED", 0x50000000L, 0, 0));
    }

    @Test
    void writeToReadOnlyPageIsAProtectionEvent() {
        uc.protect(PROTECTED_PAGE, 0x1000, Protection.R);
        List<Event> seen = new ArrayList<>();
        uc.addInvalidMemoryHook(EnumSet.of(MemType.WRITE_PROT), 1, 0, (u, type, address, size, value) -> {
            seen.add(new Event(type.name(), address, size, value));
            return false;
        });
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.WRITE_READ_ONLY))
                .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.WRITE_PROT));
        assertThat(seen).containsExactly(new Event("WRITE_PROT", PROTECTED_PAGE, 8, 1));
    }

    @Test
    void fetchFromNonExecutablePageIsAProtectionEvent() {
        uc.protect(PROTECTED_PAGE, 0x1000, Protection.RW);
        List<Event> seen = new ArrayList<>();
        uc.addInvalidMemoryHook(EnumSet.of(MemType.FETCH_PROT), 1, 0, (u, type, address, size, value) -> {
            seen.add(new Event(type.name(), address, 0, 0));
            return false;
        });
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.FETCH_NO_EXEC))
                .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.FETCH_PROT));
        assertThat(seen).containsExactly(new Event("FETCH_PROT", PROTECTED_PAGE, 0, 0));
    }

    @Test
    void inAndOutHooksSeePortSizeAndValue() {
        List<Event> seen = new ArrayList<>();
        uc.addInHook((u, port, size) -> {
            seen.add(new Event("in", port, size, 0));
            return port == 0x60 ? 0x1c : 0x12345678;
        });
        uc.addOutHook((u, port, size, value) -> seen.add(new Event("out", port, size, value)));
        uc.emuStart(BindingGuests.PORT_IO);
        assertThat(seen).containsExactly(
                new Event("in", 0x60, 1, 0),
                new Event("in", 0x5658, 4, 0),
                new Event("out", 0x80, 1, 0xab),
                new Event("out", 0x3f8, 2, 0xbeef));
        assertThat(uc.readReg(X86Reg.BL)).isEqualTo(0x1c);
        assertThat(uc.readReg(X86Reg.R12D)).isEqualTo(0x12345678);
    }

    // Engine facts the VM must design around (UNICORN.md / docs/unicorn-binding.md):

    @Test
    void portIoHooksSeeTheStartOfTheTranslatedBlockAsRip() {
        List<Long> rips = new ArrayList<>();
        uc.addInHook((u, port, size) -> {
            rips.add(u.readReg(X86Reg.RIP));
            return 0;
        });
        uc.addOutHook((u, port, size, value) -> rips.add(u.readReg(X86Reg.RIP)));
        uc.emuStart(BindingGuests.PORT_IO);
        assertThat(rips).containsOnly(BindingGuests.PORT_IO).hasSize(4);
    }

    @Test
    void aStopFromAnOutHookTakesEffectOnlyAtTheEndOfTheBlock() {
        uc.addInHook((u, port, size) -> 0);
        uc.addOutHook((u, port, size, value) -> u.emuStop());
        uc.emuStart(BindingGuests.PORT_IO);
        assertThat(uc.readReg(X86Reg.RIP)).as("after the block's hlt").isEqualTo(BindingGuests.PORT_IO + 0x1b);
        assertThat(uc.readReg(X86Reg.AX)).as("the second OUT's mov ran").isEqualTo(0xbeef);
    }

    @Test
    void aCodeHookOnTheInstructionAfterAnOutMakesAStopFromTheOutHookPrecise() {
        long afterFirstOut = BindingGuests.PORT_IO + 0x10;
        uc.addInHook((u, port, size) -> 0);
        uc.addOutHook((u, port, size, value) -> u.emuStop());
        uc.addCodeHook(afterFirstOut, afterFirstOut, (u, address, size) -> { });
        uc.emuStart(BindingGuests.PORT_IO);
        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(afterFirstOut);
        assertThat(uc.readReg(X86Reg.AX)).isEqualTo(0xab);
    }

    @Test
    void cpuidAndSyscallHooksSeeRipOnTheirInstruction() {
        List<Long> rips = new ArrayList<>();
        uc.addCpuidHook(u -> {
            rips.add(u.readReg(X86Reg.RIP));
            return false;
        });
        uc.addSyscallHook(u -> rips.add(u.readReg(X86Reg.RIP)));
        uc.emuStart(BindingGuests.CPUID);
        uc.emuStart(BindingGuests.SYSCALL);
        assertThat(rips).containsExactly(BindingGuests.CPUID + 4, BindingGuests.SYSCALL);
    }

    @Test
    void cpuidHookCanReplaceTheResult() {
        uc.addCpuidHook(u -> {
            assertThat(u.readReg(X86Reg.EAX)).isZero();
            u.writeRegs(new X86Reg[] {X86Reg.RAX, X86Reg.RBX, X86Reg.RCX, X86Reg.RDX}, new long[] {0x21, 0x756e6547, 0x6c65746e,
                0x49656e69});
            return true;
        });
        uc.emuStart(BindingGuests.CPUID);
        assertThat(uc.readRegs(X86Reg.RAX, X86Reg.RBX, X86Reg.RCX, X86Reg.RDX))
                .containsExactly(0x21, 0x756e6547, 0x6c65746e, 0x49656e69);
    }

    @Test
    void cpuidHookReturningFalseLetsTheEngineAnswer() {
        int[] calls = {0};
        uc.addCpuidHook(u -> {
            calls[0]++;
            return false;
        });
        uc.writeReg(X86Reg.RBX, 0xdead);
        uc.emuStart(BindingGuests.CPUID);
        assertThat(calls[0]).isEqualTo(1);
        assertThat(uc.readReg(X86Reg.EAX)).as("max basic leaf").isPositive();
        assertThat(uc.readReg(X86Reg.RBX)).isNotEqualTo(0xdead);
    }

    @Test
    void syscallHookRunsInsteadOfSyscall() {
        List<Long> seen = new ArrayList<>();
        uc.addSyscallHook(u -> seen.add(u.readReg(X86Reg.RIP)));
        uc.emuStart(BindingGuests.SYSCALL);
        assertThat(seen).hasSize(1);
        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(BindingGuests.SYSCALL + 3); // after syscall (2) and hlt (1)
    }

    @Test
    void invalidInstructionHookSeesVmcallAndUd2WithRipOnThem() {
        List<String> seen = new ArrayList<>();
        uc.addInvalidInstructionHook(u -> {
            long rip = u.readReg(X86Reg.RIP);
            byte[] insn = u.read(rip, 3);
            boolean vmcall = insn[0] == 0x0f && insn[1] == 0x01 && insn[2] == (byte) 0xc1;
            seen.add(Long.toHexString(rip) + " " + HexFormat.of().formatHex(insn, 0, vmcall ? 3 : 2));
            u.writeReg(X86Reg.RIP, rip + (vmcall ? 3 : 2));
            return true;
        });
        uc.emuStart(BindingGuests.INVALID);
        assertThat(seen).containsExactly(
                Long.toHexString(BindingGuests.INVALID) + " 0f01c1",
                Long.toHexString(BindingGuests.INVALID + 3) + " 0f0b");
        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(BindingGuests.INVALID + 6);
    }

    @Test
    void aHandledInvalidInstructionIsNotReportedAgainAsUndefinedOpcode() {
        List<String> seen = new ArrayList<>();
        uc.addInterruptHook((u, vector) -> {
            seen.add("interrupt " + vector);
            u.emuStop();
        });
        uc.addInvalidInstructionHook(u -> {
            long rip = u.readReg(X86Reg.RIP);
            seen.add("invalid " + Long.toHexString(rip));
            u.writeReg(X86Reg.RIP, rip == BindingGuests.INVALID ? rip + 3 : rip + 2);
            return true;
        });
        uc.emuStart(BindingGuests.INVALID);
        assertThat(seen).containsExactly("invalid " + Long.toHexString(BindingGuests.INVALID),
                "invalid " + Long.toHexString(BindingGuests.INVALID + 3));
        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(BindingGuests.INVALID + 6);
    }

    @Test
    void anInvalidInstructionHookMayEndTheRunWithRipOnTheInstruction() {
        uc.addInvalidInstructionHook(u -> {
            u.emuStop(); // a VM exit: leave RIP on VMCALL for the exit handler
            return true;
        });
        assertThat(uc.emuStart(BindingGuests.INVALID)).isEqualTo(EmuResult.COMPLETED);
        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(BindingGuests.INVALID);
    }

    @Test
    void withoutAnInvalidInstructionHookTheRunEndsWithTheErrorEvenIfInterruptsAreHooked() {
        List<Integer> vectors = new ArrayList<>();
        uc.addInterruptHook((u, vector) -> vectors.add(vector));
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.INVALID + 3)) // UD2
                .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.INSN_INVALID));
        assertThat(vectors).isEmpty();
    }

    @Test
    void anExceptionWithOnlyAnInvalidInstructionHookEndsTheRunNamingTheVector() {
        uc.addInvalidInstructionHook(u -> false);
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.INT3))
                .isInstanceOf(UnicornException.class)
                .hasMessageContaining("vector 3")
                .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.EXCEPTION));
    }

    @Test
    void interruptHooksRunInOrderAndAHookCanBeRemoved() {
        List<String> seen = new ArrayList<>();
        Hook first = uc.addInterruptHook((u, vector) -> seen.add("first " + vector));
        uc.addInterruptHook((u, vector) -> {
            seen.add("second " + vector);
            u.emuStop();
        });
        uc.emuStart(BindingGuests.INT3);
        first.close();
        uc.emuStart(BindingGuests.INT3);
        assertThat(seen).containsExactly("first 3", "second 3", "second 3");
    }

    @Test
    void invalidInstructionRefusedByTheHookEndsTheRunWithTheError() {
        uc.addInvalidInstructionHook(u -> false);
        assertThatThrownBy(() -> uc.emuStart(BindingGuests.INVALID))
                .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.INSN_INVALID));
        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(BindingGuests.INVALID);
    }

    @Test
    void removedHooksAreNotCalledAgain() {
        List<String> seen = new ArrayList<>();
        Hook code = uc.addCodeHook(NOPS, NOPS + 4, (u, address, size) -> seen.add("code"));
        Hook block = uc.addBlockHook((u, address, size) -> seen.add("block"));
        Hook out = uc.addOutHook((u, port, size, value) -> seen.add("out"));
        Hook mem = uc.addMemoryHook(EnumSet.of(MemType.WRITE), 1, 0, (u, type, address, size, value) -> seen.add("mem"));
        uc.emuStart(NOPS);
        uc.emuStart(BindingGuests.PORT_IO);
        uc.emuStart(BindingGuests.MEMORY);
        assertThat(seen).contains("code", "block", "out", "mem");
        for (Hook h : List.of(code, block, out, mem)) {
            h.close();
            assertThat(h.isActive()).isFalse();
        }
        code.close(); // twice is harmless
        seen.clear();
        uc.emuStart(NOPS);
        uc.emuStart(BindingGuests.PORT_IO);
        uc.emuStart(BindingGuests.MEMORY);
        assertThat(seen).isEmpty();
    }

    @Test
    void aHookMayRemoveItselfWhileRunning() {
        List<Long> seen = new ArrayList<>();
        Hook[] self = new Hook[1];
        self[0] = uc.addCodeHook((u, address, size) -> {
            seen.add(address);
            self[0].close();
        });
        uc.emuStart(NOPS);
        uc.emuStart(NOPS);
        assertThat(seen).containsExactly(NOPS);
    }

    @Test
    void memoryHookTypesMustMatchTheHookKind() {
        assertThatThrownBy(() -> uc.addMemoryHook(EnumSet.of(MemType.READ_UNMAPPED), 1, 0, (u, t, a, s, v) -> { }))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> uc.addInvalidMemoryHook(EnumSet.of(MemType.READ), 1, 0, (u, t, a, s, v) -> true))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
