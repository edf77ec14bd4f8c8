package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.Rflags;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.emulator.machine.GuestMemory;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GuestEngineTest {
    static final long CODE = 0x100000;
    GuestMemory mem;
    GuestEngine engine;
    final List<String> io = new ArrayList<>();

    GuestEngine start(String hex) {
        mem = new GuestMemory(4L << 20);
        BootStructures.build(mem, 1);
        byte[] code = HexFormat.of().parseHex(hex);
        mem.writeBytes(CODE, code);
        engine = new GuestEngine(mem, BootStructures.entryState(mem, 0, 1, CODE), new GuestEngine.FallbackIo() {
            public long in(int port, int size) { io.add("in " + port); return 0x5a; }
            public void out(int port, int size, long value) { io.add("out " + port + "=" + value); }
        });
        engine.scanCode(CODE, code);
        return engine;
    }

    @AfterEach
    void close() {
        if (engine != null) engine.close();
        if (mem != null) mem.close();
    }

    void skip(int bytes) {
        engine.engine().writeReg(X86Reg.RIP, engine.rip() + bytes);
    }

    /**
     * A kick from another thread ends the run at an instruction boundary: resuming never repeats
     * an instruction (the engine's own cross-thread stop can; see StopTest). The loop keeps
     * counter + RCX == 2^40 after whole iterations and one less with RIP on the INC.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void aKickFromAnotherThreadStopsBetweenInstructionsAndTheGuestResumesExactlyThere() throws Exception {
        kickTheCountingLoop(true);
    }

    /**
     * The same with the kick hook's callback switched off before each run (a PC vCPU nothing has
     * asked to be kickable): the kick switches it on during the run, and the stop is as precise.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void aKickWithTheKickHookSwitchedOffSwitchesItOnAndStopsBetweenInstructions() throws Exception {
        kickTheCountingLoop(false);
    }

    private void kickTheCountingLoop(boolean hookKeptOn) throws Exception {
        // movabs $2^40,%rcx ; mov $0x200000,%ebx ; 1: dec %rcx ; incq (%rbx) ; test %rcx,%rcx ; jnz 1b ; hlt
        start("48b90000000000010000" + "bb00002000" + "48ffc9" + "48ff03" + "4885c9" + "75f5" + "f4");
        if (hookKeptOn) {
            engine.enableKicks();
        } else {
            engine.makeKickable();
        }
        long n = 1L << 40;
        var random = new java.util.Random(5);
        try (var runner = java.util.concurrent.Executors.newSingleThreadExecutor()) {
            for (int i = 0; i < 200; i++) {
                if (!hookKeptOn) {
                    engine.disableKicks();
                    assertThat(engine.kicksEnabled()).isFalse();
                }
                var run = runner.submit(engine::run);
                java.util.concurrent.locks.LockSupport.parkNanos(20_000 + random.nextInt(300_000));
                engine.kick();
                EngineEvent e = run.get(10, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(e).isInstanceOf(EngineEvent.Stopped.class);
                long rip = engine.rip();
                assertThat(((EngineEvent.Stopped) e).rip()).isEqualTo(rip);
                long counter = mem.segment().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0x200000);
                long rcx = engine.engine().readReg(X86Reg.RCX);
                if (rip != CODE) {
                    assertThat(counter + rcx == n || counter + rcx == n - 1 && rip == CODE + 18)
                            .as("kick %d: counter %d + RCX %d at RIP 0x%x", i, counter, rcx, rip).isTrue();
                }
            }
        }
        engine.kick();
        long before = engine.rip();
        assertThat(engine.run()).as("a kick pending before the run ends it before any instruction")
                .isEqualTo(new EngineEvent.Stopped(before));
    }

    /**
     * A kick that stops an application processor right after its MOV to CR0 set PE, before the far
     * jump: CS still holds its real-mode base (the SIPI page) in the descriptor cache, which its
     * selector read as a protected-mode selector does not tell. The RIP the run leaves is the
     * offset from that base (before: the linear address, and the AP resumed 0x8000 bytes off and
     * ran into zeros; a four-vCPU pc64-smp failed that way in 3-8 % of runs).
     */
    @Test
    void aKickRightAfterMovToCr0SetsPeLeavesTheRipRelativeToCssCachedBase() {
        start("f4");
        // at 0x8000, CS 0x0800: mov %cr0,%eax ; or $1,%eax ; mov %eax,%cr0 ; hlt
        mem.writeBytes(0x8000, HexFormat.of().parseHex("0f20c0" + "6683c801" + "0f22c0" + "f4"));
        engine.loadInitState(false, 0x0800, 0x8000, 0, 0);
        engine.makeKickable();
        engine.engine().addCodeHook(0x8007, 0x8007, (u, rip, size) -> engine.kick()); // during the MOV to CR0's block
        EngineEvent e = engine.run();
        assertThat(e).isEqualTo(new EngineEvent.Stopped(10));
        assertThat(engine.rip()).as("IP of the HLT after MOV to CR0").isEqualTo(10);
        assertThat(engine.engine().readReg(X86Reg.CR0) & 1).as("PE").isEqualTo(1);
    }

    /**
     * Kicks between chained blocks: the engine's own RIP is stale there (a resume from it would
     * run the loop's tail twice), so the kick must put the guest at the block it stopped before.
     * Invariants of the loop: inc + R13 == N at the loop head, plain == inc or inc - 1.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void kicksOnALockedLoopWithChainedBlocksResumeWithoutRepeatingAnything() throws Exception {
        // mov $0x200000,%rbx ; mov $N,%r13 ; 2: lock incq (%rbx) ; mov $3,%eax ; lock xadd %rax,0x40(%rbx)
        // 3: xor %eax,%eax ; mov $1,%ecx ; lock cmpxchg %rcx,0x100(%rbx) ; jne 3b
        // mov 0xc0(%rbx),%rax ; add $1,%rax ; mov %rax,0xc0(%rbx) ; movq $0,0x100(%rbx) ; dec %r13 ; jnz 2b ; hlt
        start("48c7c30000200049c7c500e1f505f048ff03b803000000f0480fc1434031c0b901000000f0480fb18b0001000075ee488b83c00000004883c001488983c000000048c783000100000000000049ffcd75bdf4");
        engine.enableKicks();
        var random = new java.util.Random(5);
        try (var runner = java.util.concurrent.Executors.newSingleThreadExecutor()) {
            for (int i = 0; i < 2000; i++) {
                var run = runner.submit(engine::run);
                java.util.concurrent.locks.LockSupport.parkNanos(2_000 + random.nextInt(30_000));
                engine.kick();
                EngineEvent e = run.get(10, java.util.concurrent.TimeUnit.SECONDS);
                long rip = engine.rip();
                long inc = mem.segment().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0x200000);
                long plain = mem.segment().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0x2000c0);
                long r13 = engine.engine().readReg(X86Reg.R13);
                assertThat(e).isEqualTo(new EngineEvent.Stopped(rip));
                if (rip != CODE && rip != CODE + 7) {
                    assertThat(plain <= inc && inc - plain <= 1 && inc + r13 >= 100000000 && inc + r13 <= 100000001)
                            .as("kick %d: inc %d plain %d R13 %d at RIP +0x%x", i, inc, plain, r13, rip - CODE).isTrue();
                }
            }
        }
    }

    @Test
    void guestStartsAtItsEntryInLongModeWithTheAbiRegisters() {
        start("f4");
        var u = engine.engine();
        assertThat(engine.rip()).isEqualTo(CODE);
        assertThat(u.readReg(X86Reg.CR0)).as("paging on").isEqualTo(BootStructures.CR0);
        assertThat(u.readReg(X86Reg.CR4)).isEqualTo(BootStructures.CR4);
        assertThat(u.readReg(X86Reg.CS)).isEqualTo(BootStructures.KERNEL_CS);
        assertThat(u.readReg(X86Reg.CR3)).isEqualTo(BootStructures.PML4_BASE);
        assertThat(u.readReg(X86Reg.RSI)).isEqualTo(mem.size());
        assertThat(u.readReg(X86Reg.RSP)).isEqualTo(mem.size() - 16);
        assertThat(u.readMmr(X86Reg.TR).base()).isEqualTo(BootStructures.tssBase(0));
        // x87 and SSE as KVM's vCPU reset leaves them
        assertThat(u.readReg(X86Reg.FPCW)).isEqualTo(0x37F);
        assertThat(u.readReg(X86Reg.FPTAG)).as("every x87 register empty").isEqualTo(0xFFFF);
        assertThat(u.readReg(X86Reg.MXCSR)).as("SSE exceptions masked").isEqualTo(0x1F80);
    }

    @Test
    void movDrCpuidMsrAndHltAreInterceptedPreciselyWhereverTheCodeIs() {
        // mov %rax,%dr7 ; mov %dr0,%rbx ; cpuid ; rdmsr ; mov %rax,%cr3 ; hlt
        start("0f23f8" + "0f21c3" + "0fa2" + "0f32" + "0f22d8" + "f4");
        int[][] expected = {{SvmGuestMode.EXIT_WRITE_DR0 + 7, 0, 3}, {SvmGuestMode.EXIT_READ_DR0, 3, 3},
            {SvmGuestMode.EXIT_CPUID, 6, 2}, {SvmGuestMode.EXIT_MSR, 8, 2}, {SvmGuestMode.EXIT_WRITE_CR3, 10, 3},
            {SvmGuestMode.EXIT_HLT, 13, 1}};
        for (int[] e : expected) {
            assertThat(engine.run()).isEqualTo(new EngineEvent.Intercept(e[0], CODE + e[1]));
            skip(e[2]);
        }
        assertThat(engine.engine().readReg(X86Reg.DR7)).as("the engine's own DR7 never changes").isEqualTo(0x400);
    }

    @Test
    void interceptAfterInt3StillReportsItsOwnRip() {
        // int3 ; cpuid
        start("cc" + "0fa2");
        assertThat(engine.run()).isEqualTo(new EngineEvent.Exception(3, -1, CODE + 1));
        engine.engine().clearExceptionInFlight();
        assertThat(engine.run()).isEqualTo(new EngineEvent.Intercept(SvmGuestMode.EXIT_CPUID, CODE + 1));
    }

    @Test
    void vmcallTdcallAndIcebpStopAsInvalidInstructionsOnTheInstruction() {
        start("0f01c1" + "660f01cc" + "f1");
        assertThat(engine.run()).isEqualTo(new EngineEvent.InvalidInstruction(CODE));
        skip(3);
        assertThat(engine.run()).isEqualTo(new EngineEvent.InvalidInstruction(CODE + 3));
        skip(4);
        assertThat(engine.run()).isEqualTo(new EngineEvent.InvalidInstruction(CODE + 7));
    }

    @Test
    void scannedPortIoStopsBeforeTheInstructionAndUnscannedIoFallsBack() {
        // out %al,$0xe9 ; mov $0xf4,%dx ; out %al,(%dx) ; hlt
        start("e6e9" + "66baf400" + "ee" + "f4");
        EngineEvent first = engine.run();
        assertThat(first).isEqualTo(new EngineEvent.PortIoInstruction(new PortIo(false, 1, 0xe9, false, false, 8, 2), CODE));
        skip(2);
        assertThat(engine.run()).isInstanceOf(EngineEvent.PortIoInstruction.class);
        assertThat(io).as("nothing reached the fallback").isEmpty();
        // Code written at run time is not scanned: the engine performs the I/O through the fallback.
        mem.writeBytes(CODE + 0x100, HexFormat.of().parseHex("e680f4"));
        engine.engine().removeCache(CODE + 0x100, CODE + 0x103);
        engine.engine().writeReg(X86Reg.RIP, CODE + 0x100);
        // (No kick hook here: the engine stops from inside the hook, the rest of the block runs,
        // and the HLT's intercept, a precise state, is what the run reports.)
        EngineEvent late = engine.run();
        assertThat(late).isEqualTo(new EngineEvent.Intercept(SvmGuestMode.EXIT_HLT, CODE + 0x102));
        assertThat(io).containsExactly("out 128=0");
    }

    /**
     * Unscanned I/O in a block the engine chains to the next (a direct jump after it): the run
     * ends at the next block's start with RIP there, each instruction of the block run once. The
     * engine writes no RIP once it has chained the two blocks (the second pass here) and, with code
     * hooks present, does not restore it from the block it stopped before, so a stop
     * from inside the I/O hook left RIP at the start of the stretch and the guest ran it, the
     * I/O included, again.
     */
    @Test
    void unscannedPortIoEndsTheRunAtTheNextBlockWithItsRip() {
        // The loaded code has an I/O instruction, so the engine has a code hook (with one, it
        // does not restore RIP from the block it stopped before either).
        start("e6e9" + "f4");
        engine.makeKickable();
        // push $2 ; popfq (ends a block) ; incq (%rdx) ; out %al,$0x80 ; incq (%rdx) ; jmp 1f ;
        // 1: incq 8(%rdx) ; hlt   (written, so not scanned)
        byte[] code = HexFormat.of().parseHex("6a02" + "9d" + "48ff02" + "e680" + "48ff02" + "eb00" + "48ff4208" + "f4");
        mem.writeBytes(CODE + 0x100, code);
        long counters = 0x200000;
        for (int pass = 1; pass <= 2; pass++) {
            var u = engine.engine();
            mem.write64(counters, 0);
            mem.write64(counters + 8, 0);
            u.writeReg(X86Reg.RDX, counters);
            u.writeReg(X86Reg.RIP, CODE + 0x100);
            EngineEvent e = engine.run();
            assertThat(e).as("pass %d", pass).isEqualTo(new EngineEvent.ImprecisePortIo(false, 0x80, 1, 0, CODE + 0x10d));
            assertThat(engine.rip()).isEqualTo(CODE + 0x10d);
            assertThat(mem.read64(counters)).as("the block's increments ran once each").isEqualTo(2);
            assertThat(mem.read64(counters + 8)).as("the next block did not run").isZero();
            assertThat(engine.run()).isEqualTo(new EngineEvent.Intercept(SvmGuestMode.EXIT_HLT, CODE + 0x111));
            assertThat(mem.read64(counters + 8)).isEqualTo(1);
        }
        assertThat(io).containsExactly("out 128=0", "out 128=0");
    }

    /** An exception after unscanned I/O in the same block is the run's event: the I/O asks nothing more. */
    @Test
    void anExceptionAfterUnscannedPortIoInTheSameBlockIsTheEvent() {
        start("f4");
        engine.makeKickable();
        // in $0x80,%al ; ud2
        mem.writeBytes(CODE + 0x100, HexFormat.of().parseHex("e480" + "0f0b"));
        engine.engine().writeReg(X86Reg.RIP, CODE + 0x100);
        assertThat(engine.run()).isEqualTo(new EngineEvent.InvalidInstruction(CODE + 0x102));
        assertThat(io).containsExactly("in 128");
        assertThat(engine.engine().readReg(X86Reg.RAX) & 0xFF).isEqualTo(0x5a);
    }

    @Test
    void executeBreakpointStopsBeforeTheInstructionUnlessRfIsSet() {
        // nop ; nop ; hlt
        start("90" + "90" + "f4");
        DebugRegisters regs = DebugRegisters.INIT.withDr(1, CODE + 1)
                .withDr7(Dr7.RESET.withSlot(1, BreakpointType.EXECUTE, BreakpointLength.ONE, true, false));
        engine.armDebugRegisters(regs);
        assertThat(engine.run()).isEqualTo(new EngineEvent.ExecuteBreakpoint(CODE + 1, CODE + 1));
        var u = engine.engine();
        u.writeReg(X86Reg.RFLAGS, u.readReg(X86Reg.RFLAGS) | Rflags.RF);
        assertThat(engine.run()).isEqualTo(new EngineEvent.Intercept(SvmGuestMode.EXIT_HLT, CODE + 2));
        assertThat(u.readReg(X86Reg.RFLAGS) & Rflags.RF).as("RF cleared after its one instruction").isZero();
    }

    @Test
    void accessToAWatchedPageStopsBeforeTheInstructionAndAStepRecordsIt() {
        // mov $1,%rax ; mov %rax,0x200010 ; mov 0x200100,%rbx ; hlt
        start("48c7c001000000" + "48890425" + "10002000" + "488b1c25" + "00012000" + "f4");
        DebugRegisters regs = DebugRegisters.INIT.withDr(0, 0x200010)
                .withDr7(Dr7.RESET.withSlot(0, BreakpointType.WRITE, BreakpointLength.EIGHT, false, true));
        engine.armDebugRegisters(regs);
        EngineEvent ev = engine.run();
        assertThat(ev).isEqualTo(new EngineEvent.RefusedAccess(CODE + 7, false));
        assertThat(engine.engine().readReg(X86Reg.RAX)).as("earlier instructions ran").isEqualTo(1);
        assertThat(mem.read64(0x200010)).as("the store did not happen").isZero();
        var u = engine.engine();
        engine.enforcer().openForStep();
        u.writeReg(X86Reg.RFLAGS, u.readReg(X86Reg.RFLAGS) | Rflags.TF);
        assertThat(engine.run()).isEqualTo(new EngineEvent.SingleStep(CODE + 15));
        var accesses = engine.enforcer().closeAfterStep();
        assertThat(accesses).hasSize(1);
        assertThat(accesses.getFirst().physical()).isEqualTo(0x200010);
        assertThat(mem.read64(0x200010)).isEqualTo(1);
        u.writeReg(X86Reg.RFLAGS, u.readReg(X86Reg.RFLAGS) & ~Rflags.TF);
        // A read on the same (write-watched) page is allowed.
        assertThat(engine.run()).isEqualTo(new EngineEvent.Intercept(SvmGuestMode.EXIT_HLT, CODE + 23));
    }

    /**
     * A fetch from a page that is not present, with an execute breakpoint on the target: the code
     * breakpoint fault comes before the code page fault (SDM priority 7 before 8). While a data
     * breakpoint is armed the refused fetch is stepped with RF set, so tdemu checks the execute
     * breakpoint itself first.
     */
    @Test
    void anExecuteBreakpointOnAnUnmappedTargetFaultsBeforeThePageFaultWhileAWatchIsArmed() {
        // mov $0x600000,%eax ; jmp *%rax   (guest RAM, and the identity map, end at 4 MiB)
        start("b800006000" + "ffe0");
        PhysicalCpu cpu = new PhysicalCpu(0);
        cpu.hardware().load(WRITE_WATCH_AT_0x200010.withDr(1, 0x600000)
                .withDr7(WRITE_WATCH_AT_0x200010.dr7().withSlot(1, BreakpointType.EXECUTE, BreakpointLength.ONE, false, true)));
        VmExit exit = cpu.runGuest(engine, ALL_EXCEPTIONS_EXIT);
        assertThat(exit).isInstanceOf(VmExit.ExceptionNmi.class);
        assertThat(((VmExit.ExceptionNmi) exit).vector()).isEqualTo(dev.tdemu.core.x86.ExceptionVector.DB);
        assertThat(((VmExit.ExceptionNmi) exit).rip()).isEqualTo(0x600000);
        assertThat(engine.enforcer().refusals()).as("the fetch was refused first").isEqualTo(1);
    }

    /**
     * The step that records a refused instruction's accesses relies on the engine checking for
     * memory hooks when code runs: a single-step translation of that instruction made before any
     * data breakpoint was armed (with TF and RF, as the step uses) still reports to the hook.
     */
    @Test
    void aStepThroughATranslationMadeBeforeTheWatchWasArmedStillRecordsTheHit() {
        // mov %rax,0x200010 ; hlt
        start("48890425" + "10002000" + "f4");
        var u = engine.engine();
        long flags = u.readReg(X86Reg.RFLAGS);
        u.writeReg(X86Reg.RFLAGS, flags | Rflags.TF | Rflags.RF);
        assertThat(engine.run()).isEqualTo(new EngineEvent.SingleStep(CODE + 8)); // no watch, no hooks
        u.writeReg(X86Reg.RIP, CODE);
        u.writeReg(X86Reg.RFLAGS, flags);
        PhysicalCpu cpu = new PhysicalCpu(0);
        cpu.hardware().load(WRITE_WATCH_AT_0x200010);
        VmExit exit = cpu.runGuest(engine, ALL_EXCEPTIONS_EXIT);
        assertThat(exit).isInstanceOf(VmExit.ExceptionNmi.class);
        assertThat(((VmExit.ExceptionNmi) exit).vector()).isEqualTo(dev.tdemu.core.x86.ExceptionVector.DB);
        assertThat(((VmExit.ExceptionNmi) exit).rip()).isEqualTo(CODE + 8);
    }

    /** A run that starts with TF set and is refused: the step that follows records each access once. */
    @Test
    void aRefusedSingleStepRecordsEachAccessOnce() {
        // mov %rax,0x200010 ; hlt
        start("48890425" + "10002000" + "f4");
        engine.armDebugRegisters(WRITE_WATCH_AT_0x200010);
        var u = engine.engine();
        u.writeReg(X86Reg.RFLAGS, u.readReg(X86Reg.RFLAGS) | Rflags.TF);
        assertThat(engine.run()).isEqualTo(new EngineEvent.RefusedAccess(CODE, false));
        engine.enforcer().openForStep();
        assertThat(engine.run()).isEqualTo(new EngineEvent.SingleStep(CODE + 8));
        assertThat(engine.enforcer().closeAfterStep()).hasSize(1);
    }

    @Test
    void watchedPageReachedThroughANonIdentityMappingStillStopsAsAWatchedAccess() {
        // mov $1,%rax ; mov %rax,(%rdx) ; hlt   with RDX = linear 4 GiB + 2 MiB + 0x10, mapped to physical 0x200010
        start("48c7c001000000" + "488902" + "f4");
        long pdpt = BootStructures.PML4_BASE + 0x1000, pd = 0x30000;
        mem.write64(pdpt + 8 * 4, pd | 7);   // PDPT[4] -> a page directory for linear 4 GiB
        mem.write64(pd + 8, 0x200000 | 0x87); // PD[1]: linear 4 GiB + 2 MiB -> physical 2 MiB (2 MiB page)
        engine.engine().writeReg(X86Reg.CR3, BootStructures.PML4_BASE);
        long linear = (4L << 30) + 0x200010;
        engine.engine().writeReg(X86Reg.RDX, linear);
        DebugRegisters regs = DebugRegisters.INIT.withDr(0, linear)
                .withDr7(Dr7.RESET.withSlot(0, BreakpointType.WRITE, BreakpointLength.EIGHT, false, true));
        engine.armDebugRegisters(regs);
        EngineEvent ev = engine.run();
        assertThat(ev).isEqualTo(new EngineEvent.RefusedAccess(CODE + 7, false));
        engine.enforcer().openForStep();
        var u = engine.engine();
        u.writeReg(X86Reg.RFLAGS, u.readReg(X86Reg.RFLAGS) | Rflags.TF);
        assertThat(engine.run()).isInstanceOf(EngineEvent.SingleStep.class);
        var accesses = engine.enforcer().closeAfterStep();
        // The engine reports the physical access; PhysicalCpu maps it back through the operand (RDX).
        assertThat(accesses).extracting(a -> a.physical()).containsExactly(0x200010L);
        assertThat(engine.enforcer().linearThroughWatch(0x200010)).isEqualTo(linear);
        assertThat(mem.read64(0x200010)).isEqualTo(1);
    }

    static final DebugRegisters WRITE_WATCH_AT_0x200010 = DebugRegisters.INIT.withDr(0, 0x200010)
            .withDr7(Dr7.RESET.withSlot(0, BreakpointType.WRITE, BreakpointLength.EIGHT, false, true));

    /** Exception exits for every vector, so a test sees the fault itself. */
    static final GuestControls ALL_EXCEPTIONS_EXIT = new GuestControls() {
        public java.util.Optional<dev.tdemu.core.vmx.MovDrQualification> movDrExit(dev.tdemu.core.x86.CpuMode m, int dr,
                dev.tdemu.core.vmx.MovDrDirection d, int gpr) {
            return java.util.Optional.empty();
        }

        public boolean exceptionExits(dev.tdemu.core.x86.ExceptionVector vector) {
            return true;
        }

        public boolean ioPassthrough(int port) {
            return true;
        }

        public boolean vmcallExits() {
            return true;
        }

        public boolean tdcallExits() {
            return false;
        }
    };

    /**
     * A data breakpoint costs nothing on other pages: the engine's TLB keeps full entries for them
     * (even the 4 KiB page next to the watched one inside the same 2 MiB guest page), so a loop of
     * 10,000 loads and stores needs a handful of TLB fills and no stop at all.
     */
    @Test
    void aDataBreakpointLeavesOtherPagesInTheEnginesTlb() {
        // mov $0x201000,%ebx ; mov $10000,%ecx ; 1: mov %rcx,(%rbx) ; mov (%rbx),%rax ; dec %ecx ; jnz 1b ; hlt
        start("bb00102000" + "b910270000" + "48890b" + "488b03" + "ffc9" + "75f6" + "f4");
        engine.armDebugRegisters(WRITE_WATCH_AT_0x200010);
        assertThat(engine.run()).isEqualTo(new EngineEvent.Intercept(SvmGuestMode.EXIT_HLT, CODE + 20));
        assertThat(mem.read64(0x201000)).isEqualTo(1);
        assertThat(engine.enforcer().refusals()).isZero();
        assertThat(engine.enforcer().fills()).isBetween(1L, 8L);
        // The walk set the Accessed and Dirty flags the CPU would have (2 MiB page: in the PDE).
        assertThat(mem.read64(BootStructures.PML4_BASE + 0x2000 + 8) & 0x60).isEqualTo(0x60);
    }

    /**
     * A page fault while a data breakpoint is armed still has its exact CR2 and error code: the
     * refused fill only knows the page, so the instruction is re-run with the engine's own walk.
     */
    @Test
    void aPageFaultWhileADataBreakpointIsArmedKeepsItsExactAddressAndErrorCode() {
        // mov $7,%eax ; mov %rax,0x300123 ; hlt
        start("b807000000" + "48890425" + "23013000" + "f4");
        long pde = BootStructures.PML4_BASE + 0x2000 + 8; // linear 2-4 MiB
        mem.write64(pde, mem.read64(pde) & ~2L);            // read-only, and CR0.WP is set
        PhysicalCpu cpu = new PhysicalCpu(0);
        cpu.hardware().load(WRITE_WATCH_AT_0x200010);
        VmExit exit = cpu.runGuest(engine, ALL_EXCEPTIONS_EXIT);
        assertThat(exit).isInstanceOf(VmExit.ExceptionNmi.class);
        VmExit.ExceptionNmi pf = (VmExit.ExceptionNmi) exit;
        assertThat(pf.vector()).isEqualTo(dev.tdemu.core.x86.ExceptionVector.PF);
        assertThat(pf.errorCode()).as("present, write, supervisor").isEqualTo(3);
        assertThat(pf.rip()).isEqualTo(CODE + 5);
        assertThat(engine.engine().readReg(X86Reg.CR2)).isEqualTo(0x300123);
        assertThat(engine.enforcer().refusals()).as("the fill hook refused it first").isEqualTo(1);
        assertThat(mem.read64(0x300120)).isZero();
    }

    /**
     * Every store of this loop lands on the watched page (next to the watched range), so each is
     * refused and single-stepped: 40,000 steps must leave the guest's state intact. (Dropping the
     * step's translation before each step corrupted it after about 30,000.)
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void fortyThousandStepsOnAWatchedPageKeepTheGuestStateExact() {
        // mov $0x200000,%ebx ; mov $40000,%ecx ; xor %edx,%edx ; 1: mov %rcx,(%rbx) ; add (%rbx),%rdx ; dec %ecx ; jnz 1b ; hlt
        start("bb00002000" + "b9409c0000" + "31d2" + "48890b" + "480313" + "ffc9" + "75f6" + "f4");
        engine.enforcer().allowHotPages(false); // every access stepped: the path a cold page takes
        PhysicalCpu cpu = new PhysicalCpu(0);
        cpu.hardware().load(WRITE_WATCH_AT_0x200010);
        VmExit exit = cpu.runGuest(engine, ALL_EXCEPTIONS_EXIT);
        assertThat(exit).isEqualTo(new VmExit.Hlt(CODE + 22, 1));
        assertThat(engine.engine().readReg(X86Reg.RDX)).isEqualTo(40000L * 40001 / 2);
        assertThat(engine.enforcer().refusals()).isEqualTo(40000);
        assertThat(engine.engine().readReg(X86Reg.RFLAGS) & (Rflags.TF | Rflags.RF)).isZero();
    }

    /** The hot loop of the hot-page tests: 100,000 stores next to the watched range (RBX = 0x200000, RDX their sum). */
    static final String HOT_LOOP = "bb00002000" + "b9a0860100" + "31d2" + "48890b" + "480313" + "ffc9" + "75f6";
    static final long HOT_SUM = 100000L * 100001 / 2;

    private VmExit runHot(String tail) {
        start(HOT_LOOP + tail);
        PhysicalCpu cpu = new PhysicalCpu(0);
        cpu.hardware().load(WRITE_WATCH_AT_0x200010);
        return cpu.runGuest(engine, ALL_EXCEPTIONS_EXIT);
    }

    private void assertHotPageModeCarriedTheLoop() {
        String state = engine.dataBreakpointState();
        assertThat(state).contains("hot-page mode entered 1 time(s)");
        assertThat(engine.enforcer().refusals()).as(state).isLessThan(1000);
        assertThat(engine.engine().readReg(X86Reg.RDX)).isEqualTo(HOT_SUM);
    }

    /**
     * A page stored to 100,000 times next to the watched range becomes hot: its stores stay in the
     * engine (a few dozen are stepped before that), and the ADD to memory that does meet the range,
     * 8 bytes of which 4 overlap it, still traps after its instruction with B0 and RIP on the next
     * one, the addition made exactly once.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void onAHotWatchedPageAStoreOverlappingTheRangeTrapsAfterItsInstructionExactly() {
        // loop ; add %rdx,0xc(%rbx) ; nop ; hlt  (a read-modify-write: made twice, it would double)
        VmExit exit = runHot("4801530c" + "90" + "f4");
        assertHotPageModeCarriedTheLoop();
        assertThat(exit).isInstanceOf(VmExit.ExceptionNmi.class);
        VmExit.ExceptionNmi db = (VmExit.ExceptionNmi) exit;
        assertThat(db.vector()).isEqualTo(dev.tdemu.core.x86.ExceptionVector.DB);
        assertThat(db.pending().b(0)).isTrue();
        assertThat(db.rip()).isEqualTo(CODE + 26);
        assertThat(mem.read64(0x20000c)).isEqualTo(HOT_SUM);
        assertThat(engine.enforcer().isHot()).isTrue();
    }

    /**
     * REP STOSQ over the watched range on a hot page: the trap comes after the iteration that
     * wrote it, with RIP still on the instruction (iterations left), RCX and RDI as that iteration
     * left them, and only the iterations that ran stored.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void onAHotWatchedPageRepStosTrapsAfterTheIterationThatMetTheRange() {
        // loop ; lea 8(%rbx),%rdi ; mov $4,%ecx ; mov $0x77,%eax ; rep stosq ; hlt
        VmExit exit = runHot("488d7b08" + "b904000000" + "b877000000" + "f348ab" + "f4");
        assertHotPageModeCarriedTheLoop();
        assertThat(exit).isInstanceOf(VmExit.ExceptionNmi.class);
        VmExit.ExceptionNmi db = (VmExit.ExceptionNmi) exit;
        assertThat(db.pending().b(0)).isTrue();
        assertThat(db.rip()).isEqualTo(CODE + 36);
        var u = engine.engine();
        assertThat(u.readReg(X86Reg.RCX)).isEqualTo(2);
        assertThat(u.readReg(X86Reg.RDI)).isEqualTo(0x200018);
        assertThat(mem.read64(0x200008)).isEqualTo(0x77);
        assertThat(mem.read64(0x200010)).isEqualTo(0x77);
        assertThat(mem.read64(0x200018)).isZero();
    }

    /**
     * A read/write breakpoint on a hot page: the loop's loads and stores next to the range stay in
     * the engine, and a load from the range traps after its instruction with the loaded value in
     * place and RIP on the next instruction.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void onAHotReadWriteWatchedPageALoadFromTheRangeTrapsAfterItsInstruction() {
        // loop ; mov 0x10(%rbx),%rsi ; nop ; hlt
        start(HOT_LOOP + "488b7310" + "90" + "f4");
        mem.write64(0x200010, 0x1234);
        PhysicalCpu cpu = new PhysicalCpu(0);
        cpu.hardware().load(DebugRegisters.INIT.withDr(0, 0x200010)
                .withDr7(Dr7.RESET.withSlot(0, BreakpointType.READ_WRITE, BreakpointLength.EIGHT, false, true)));
        VmExit exit = cpu.runGuest(engine, ALL_EXCEPTIONS_EXIT);
        assertHotPageModeCarriedTheLoop();
        assertThat(exit).isInstanceOf(VmExit.ExceptionNmi.class);
        VmExit.ExceptionNmi db = (VmExit.ExceptionNmi) exit;
        assertThat(db.pending().b(0)).isTrue();
        assertThat(db.rip()).isEqualTo(CODE + 26);
        assertThat(engine.engine().readReg(X86Reg.RSI)).isEqualTo(0x1234);
    }

    /**
     * A LOCK-prefixed store on a hot page is made without the engine updating RIP, so tdemu cannot
     * tell which instruction made it: the hit is still reported, once, at the end of its block
     * (here before the HLT), the store made once, and the page leaves hot-page mode.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void onAHotWatchedPageALockedStoreIsReportedAtTheEndOfItsBlock() {
        // loop ; lock incq 0x10(%rbx) ; nop ; hlt
        VmExit exit = runHot("f048ff4310" + "90" + "f4");
        assertHotPageModeCarriedTheLoop();
        assertThat(exit).isInstanceOf(VmExit.ExceptionNmi.class);
        VmExit.ExceptionNmi db = (VmExit.ExceptionNmi) exit;
        assertThat(db.pending().b(0)).isTrue();
        assertThat(db.rip()).isIn(CODE + 27, CODE + 28);
        assertThat(mem.read64(0x200010)).isEqualTo(1);
        assertThat(engine.dataBreakpointState()).contains("1 reported late");
    }

    /**
     * The trap the address check alone falls into: RIP was last updated by a plain store whose
     * operand, with the registers as they are now, is the watched address, while the hit is the
     * LOCK INC after it. Rewinding to the store would run it and the ADD again; the value the hit
     * stores (1, not RAX) shows it is not that store's, so the hit is reported late instead, and
     * every instruction ran once.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void onAHotWatchedPageAHitIsNotPinnedOnAnEarlierStoreWhoseOperandNowPointsThere() {
        // loop ; mov $0x55,%eax ; lea 8(%rbx),%rbx ; mov %rax,(%rbx) ; add $8,%rbx ; lock incq (%rbx) ; nop ; hlt
        VmExit exit = runHot("b855000000" + "488d5b08" + "488903" + "4883c308" + "f048ff03" + "90" + "f4");
        assertHotPageModeCarriedTheLoop();
        assertThat(exit).isInstanceOf(VmExit.ExceptionNmi.class);
        assertThat(((VmExit.ExceptionNmi) exit).pending().b(0)).isTrue();
        assertThat(((VmExit.ExceptionNmi) exit).rip()).isIn(CODE + 42, CODE + 43);
        assertThat(engine.engine().readReg(X86Reg.RBX)).isEqualTo(0x200010);
        assertThat(mem.read64(0x200008)).isEqualTo(0x55);
        assertThat(mem.read64(0x200010)).isEqualTo(1);
        assertThat(engine.dataBreakpointState()).contains("1 reported late");
    }

    /** Code that rewrites itself still runs the new bytes when the engine's TLB is filled by tdemu. */
    @Test
    void selfModifyingCodeWithADataBreakpointArmedRunsTheNewBytes() {
        // mov $1,%eax ; movb $0xf4,CODE+13 ; CODE+13: inc %eax (becomes hlt) ; hlt
        start("b801000000" + "c60425" + "0d001000" + "f4" + "ffc0" + "f4");
        engine.armDebugRegisters(WRITE_WATCH_AT_0x200010);
        assertThat(engine.run()).isEqualTo(new EngineEvent.Intercept(SvmGuestMode.EXIT_HLT, CODE + 13));
        assertThat(engine.engine().readReg(X86Reg.RAX)).isEqualTo(1);
    }

    /**
     * Segment register writes between runs (exception delivery) reach guest memory through the
     * engine's TLB; in virtual-TLB mode that would call the fill hook from a critical downcall,
     * which the JVM cannot survive. They must not.
     */
    @Test
    void segmentRegisterWritesWithADataBreakpointArmedDoNotCallTheFillHook() {
        start("f4");
        engine.armDebugRegisters(WRITE_WATCH_AT_0x200010);
        long before = engine.enforcer().fills();
        var u = engine.engine();
        u.writeReg(X86Reg.SS, BootStructures.USER_DS);
        u.writeReg(X86Reg.CS, BootStructures.USER_CS);
        u.writeReg(X86Reg.CS, BootStructures.KERNEL_CS);
        u.writeReg(X86Reg.SS, BootStructures.KERNEL_DS);
        u.writeReg(X86Reg.DS, BootStructures.KERNEL_DS);
        assertThat(engine.enforcer().fills()).isEqualTo(before);
        assertThat(engine.run()).isEqualTo(new EngineEvent.Intercept(SvmGuestMode.EXIT_HLT, CODE));
    }

    @Test
    void guestAccessToTheHypervisorRegionIsAMemoryFault() {
        // map the hypervisor region into the guest's page tables (PDPT entry 512 GiB is PML4 slot 1).
        start("48b8" + "0000000080000000" + "488b00" + "f4");
        long pdpt = BootStructures.PML4_BASE + 0x5000, pd = 0x30000;
        mem.write64(BootStructures.PML4_BASE + 8, pdpt | 7);
        mem.write64(pdpt, pd | 7);
        mem.write64(pd, SvmGuestMode.HV_BASE | 0x87L); // 2 MiB page at the hypervisor region
        EngineEvent ev = engine.run();
        assertThat(ev).isInstanceOf(EngineEvent.MemoryFault.class);
        assertThat(((EngineEvent.MemoryFault) ev).physical()).isEqualTo(SvmGuestMode.HV_BASE);
    }

    @Test
    void stopFromAnotherThreadEndsAnInfiniteLoop() throws Exception {
        start("ebfe");
        Thread t = Thread.ofVirtual().start(() -> {
            try { Thread.sleep(50); } catch (InterruptedException e) { return; }
            engine.stop();
        });
        assertThat(engine.run()).isEqualTo(new EngineEvent.Stopped(CODE));
        t.join();
    }
}
