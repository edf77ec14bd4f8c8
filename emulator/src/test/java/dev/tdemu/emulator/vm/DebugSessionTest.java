package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.unicorn.X86Reg;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.VmConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The VM's debugger interface driven by a scripted debugger, as gdb will drive it through the stub. */
@Timeout(60)
class DebugSessionTest {
    static final ElfImage DEBUGGEE;
    static final long FUNC, VAR, RVAR;

    static {
        try {
            DEBUGGEE = ElfImage.builtin("debuggee");
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
        FUNC = DEBUGGEE.symbol("dbg_func").orElseThrow();
        VAR = DEBUGGEE.symbol("dbg_var").orElseThrow();
        RVAR = DEBUGGEE.symbol("dbg_rvar").orElseThrow();
    }

    final BlockingQueue<DebugEvent> events = new LinkedBlockingQueue<>();
    Vm vm;
    DebugSession session;
    CompletableFuture<VmResult> result;

    void start(VmConfig config) throws Exception {
        vm = new Vm(VmSpec.from(config), Vm.Options.quiet());
        session = vm.attachDebugger(new DebugListener() {
            public void stopped(DebugEvent e) { events.add(e); }
            public void ended(VmResult r) { events.add(new DebugEvent(-1, DebugEvent.Kind.EXITED, 0, 0, r.exitStatus())); }
        }, true);
        result = CompletableFuture.supplyAsync(vm::run);
        DebugEvent first = next();
        assertThat(first.kind()).isEqualTo(DebugEvent.Kind.INTERRUPTED);
        assertThat(session.stopped()).isTrue();
    }

    DebugEvent next() throws InterruptedException {
        DebugEvent e = events.poll(20, TimeUnit.SECONDS);
        assertThat(e).as("a stop within 20 s").isNotNull();
        return e;
    }

    void continueAll() {
        Map<Integer, DebugSession.Action> all = new java.util.HashMap<>();
        for (int i = 0; i < session.vcpuCount(); i++) {
            all.put(i, DebugSession.Action.CONTINUE);
        }
        assertThat(session.resume(all).ok()).isTrue();
    }

    /** Resumes past an instruction breakpoint the way KVM's debugger users do: with RF set. */
    void continuePastBreakpoint(int vcpu) {
        session.writeRegister(vcpu, X86Reg.RFLAGS, session.readRegister(vcpu, X86Reg.RFLAGS) | 0x10000);
        continueAll();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (vm != null) {
            vm.finish(VmResult.Outcome.KILLED, "test over", -1);
            result.get(20, TimeUnit.SECONDS);
            vm.close();
        }
    }

    static VmConfig.Builder debuggee(GuestMode mode) {
        return Guests.config("debuggee", mode);
    }

    @Test
    void hardwareBreakpointAndWriteWatchpointStopEveryTimeAndTheGuestsOwnDebugRegistersSurvive() throws Exception {
        start(debuggee(GuestMode.GUEST_MODE_VMX).build());
        assertThat(session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, FUNC, 1).ok()).isTrue();
        assertThat(session.insertHardware(DebugEvent.Kind.WATCH_WRITE, VAR, 8).ok()).isTrue();
        continueAll();
        List<DebugEvent> stops = new ArrayList<>();
        while (true) {
            DebugEvent e = next();
            if (e.kind() == DebugEvent.Kind.EXITED) {
                assertThat(e.dr6()).as("guest exit status").isZero();
                break;
            }
            stops.add(e);
            if (e.kind() == DebugEvent.Kind.HARDWARE_BREAKPOINT) {
                assertThat(e.rip()).isEqualTo(FUNC);
                assertThat(session.readRegister(0, X86Reg.RIP)).isEqualTo(FUNC);
                assertThat(e.dr6() & 0xF).as("one slot reported").isEqualTo(1);
                continuePastBreakpoint(0);
            } else {
                assertThat(e.kind()).isEqualTo(DebugEvent.Kind.WATCH_WRITE);
                assertThat(e.address()).isEqualTo(VAR);
                assertThat(session.readMemory(0, VAR, 1)[0]).as("the write happened (trap)").isNotZero();
                continueAll();
            }
        }
        assertThat(stops).extracting(DebugEvent::kind).containsExactly(
                DebugEvent.Kind.HARDWARE_BREAKPOINT, DebugEvent.Kind.WATCH_WRITE, DebugEvent.Kind.HARDWARE_BREAKPOINT,
                DebugEvent.Kind.WATCH_WRITE, DebugEvent.Kind.HARDWARE_BREAKPOINT, DebugEvent.Kind.WATCH_WRITE,
                DebugEvent.Kind.HARDWARE_BREAKPOINT, DebugEvent.Kind.WATCH_WRITE, DebugEvent.Kind.HARDWARE_BREAKPOINT,
                DebugEvent.Kind.WATCH_WRITE);
        assertThat(result.get().console()).contains("debuggee: done");
    }

    @Test
    void aReadWatchpointStopsOnReadsButNotOnWrites() throws Exception {
        start(debuggee(GuestMode.GUEST_MODE_VMX).build());
        assertThat(session.insertHardware(DebugEvent.Kind.WATCH_READ, RVAR, 8).ok()).isTrue();
        assertThat(session.insertHardware(DebugEvent.Kind.WATCH_READ, VAR, 8).ok()).isTrue(); // only ever written
        continueAll();
        int reads = 0;
        for (DebugEvent e = next(); e.kind() != DebugEvent.Kind.EXITED; e = next()) {
            assertThat(e.kind()).isEqualTo(DebugEvent.Kind.WATCH_READ);
            assertThat(e.address()).isEqualTo(RVAR);
            reads++;
            continueAll();
        }
        assertThat(reads).isEqualTo(5);
    }

    @Test
    void singleStepStopsAfterEachInstructionAndHidesTheTrapFlagFromTheGuest() throws Exception {
        start(debuggee(GuestMode.GUEST_MODE_VMX).build());
        long rip = session.readRegister(0, X86Reg.RIP);
        for (int i = 0; i < 5; i++) {
            assertThat(session.resume(Map.of(0, DebugSession.Action.STEP)).ok()).isTrue();
            DebugEvent e = next();
            assertThat(e.kind()).isEqualTo(DebugEvent.Kind.STEP);
            long now = session.readRegister(0, X86Reg.RIP);
            assertThat(now).isNotEqualTo(rip);
            assertThat(session.readRegister(0, X86Reg.RFLAGS) & 0x100).as("TF hidden").isZero();
            rip = now;
        }
    }

    /** RIPs after each single step until the guest exits, stepping on the vCPU's thread or on this one. */
    List<Long> stepToTheEnd(boolean here) throws Exception {
        List<Long> rips = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            long handedBack = session.borrowsHandedBackUnfinished();
            assertThat(session.resume(Map.of(0, DebugSession.Action.STEP), here).ok()).isTrue();
            boolean arrivedBeforeReturn = !events.isEmpty();
            // On a busy machine a step can outlast the debugger thread's time budget; it then
            // ends on the vCPU's own thread, after resume returned. That is the only exception.
            boolean outOfTime = session.borrowsHandedBackUnfinished() > handedBack;
            DebugEvent e = next();
            if (e.kind() == DebugEvent.Kind.EXITED) { // the VM ends once the vCPU threads are gone: later
                assertThat(e.dr6()).as("guest exit status").isZero();
                return rips;
            }
            assertThat(e.kind()).isEqualTo(DebugEvent.Kind.STEP);
            if (here) {
                assertThat(arrivedBeforeReturn || outOfTime).as("step %d: the stop arrived before resume returned", i).isTrue();
            }
            rips.add(session.readRegister(0, X86Reg.RIP));
            assertThat(session.readRegister(0, X86Reg.RFLAGS) & 0x100).as("TF hidden after step %d at 0x%x", i,
                    rips.getLast()).isZero();
        }
        throw new AssertionError("the guest did not exit within 10,000 steps");
    }

    @Test
    void aLoneStepOnTheDebuggersThreadStopsBeforeResumeReturnsAndWalksTheSamePathAsTheVcpusThread() throws Exception {
        // Stepping the whole debuggee crosses guest MOV DR, VMCALL and port-I/O exits.
        start(debuggee(GuestMode.GUEST_MODE_VMX).build());
        List<Long> onVcpuThread = stepToTheEnd(false);
        assertThat(result.get(20, TimeUnit.SECONDS).console()).contains("debuggee: done");
        tearDown();
        start(debuggee(GuestMode.GUEST_MODE_VMX).build());
        List<Long> here = stepToTheEnd(true);
        assertThat(result.get(20, TimeUnit.SECONDS).console()).contains("debuggee: done");
        assertThat(here).isEqualTo(onVcpuThread);
        assertThat(new java.util.HashSet<>(here)).as("the steps went somewhere").hasSizeGreaterThan(40);
    }

    @Test
    void afterStepsOnTheDebuggersThreadTheVcpusOwnThreadRunsItAgain() throws Exception {
        start(debuggee(GuestMode.GUEST_MODE_VMX).build());
        for (int i = 0; i < 3; i++) {
            assertThat(session.resume(Map.of(0, DebugSession.Action.STEP), true).ok()).isTrue();
            assertThat(next().kind()).isEqualTo(DebugEvent.Kind.STEP);
        }
        assertThat(session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, FUNC, 1).ok()).isTrue();
        continueAll();
        DebugEvent bp = next();
        assertThat(bp.kind()).isEqualTo(DebugEvent.Kind.HARDWARE_BREAKPOINT);
        assertThat(bp.rip()).isEqualTo(FUNC);
    }

    @Test
    void loneStepsOnTheDebuggersThreadLeaveTheVcpusOwnThreadAsleep() throws Exception {
        // Each wake-up of the parked thread is a cross-CPU wake-up that costs about as much as the step.
        start(Guests.config("bench-debug", GuestMode.GUEST_MODE_VMX).build()); // calls bench_func forever
        long before = session.vcpuThreadWakeups();
        long handedBack = session.borrowsHandedBackUnfinished();
        for (int i = 0; i < 200; i++) {
            assertThat(session.resume(Map.of(0, DebugSession.Action.STEP), true).ok()).isTrue();
            assertThat(next().kind()).isEqualTo(DebugEvent.Kind.STEP);
        }
        // A step that outlasts the borrow budget (a busy machine preempting the debugger's thread) is
        // handed back to the vCPU's thread by design: that wake-up is allowed, no other.
        long outOfTime = session.borrowsHandedBackUnfinished() - handedBack;
        assertThat(session.vcpuThreadWakeups() - before).as("vCPU thread wake-ups during 200 lone steps, %d of which outlasted the budget", outOfTime)
                .isLessThan(5 + outOfTime);
        long benchFunc = ElfImage.builtin("bench-debug").symbol("bench_func").orElseThrow();
        assertThat(session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, benchFunc, 1).ok()).isTrue();
        continueAll();
        assertThat(next().kind()).isEqualTo(DebugEvent.Kind.HARDWARE_BREAKPOINT);
        // (No "the continue woke the vCPU's thread" check: a thread still on its way back from
        // reporting the attach stop takes the continue without ever waiting, as one full run under
        // load showed.)
    }

    @Test
    void aKickBeforeTheFirstEntrySwitchesTheKickHookOnAndIsRemembered() throws Exception {
        // A kick before the first entry switches the kick hook's callback on at once and waits
        // for the run; an attached debugger does not keep it on (the guest runs at full speed).
        start(Guests.config("bench-debug", GuestMode.GUEST_MODE_VMX).build());
        Vcpu v = vm.vcpu(0);
        assertThat(v.engine().kicksEnabled()).as("parked before its first entry").isFalse();
        v.kick();
        assertThat(v.engine().kicksEnabled()).as("switched on by the kick").isTrue();
        long benchFunc = ElfImage.builtin("bench-debug").symbol("bench_func").orElseThrow();
        assertThat(session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, benchFunc, 1).ok()).isTrue();
        continueAll();
        assertThat(next().kind()).isEqualTo(DebugEvent.Kind.HARDWARE_BREAKPOINT);
    }

    @Test
    void aTripleFaultWithADebuggerPresentStopsBeforeTheShutdownWithTheStateIntact() throws Exception {
        start(Guests.config("robust-triple", GuestMode.GUEST_MODE_VMX).build());
        session.debuggerPresent(true);
        continueAll();
        DebugEvent e = next();
        assertThat(e.kind()).isEqualTo(DebugEvent.Kind.SHUTDOWN);
        assertThat(e.detail()).contains("triple fault").contains("IDT limit 0x0 does not cover vector 6");
        assertThat(session.readRegister(0, X86Reg.RIP)).as("RIP of the faulting instruction").isEqualTo(e.rip());
        assertThat(result).as("the VM waits for the debugger").isNotDone();
        continueAll();
        assertThat(next().kind()).isEqualTo(DebugEvent.Kind.EXITED);
        VmResult r = result.get(30, TimeUnit.SECONDS);
        assertThat(r.outcome()).isEqualTo(VmResult.Outcome.TRIPLE_FAULT);
        assertThat(r.detail()).isEqualTo(e.detail());
    }

    @Test
    void aCaughtExceptionStopsBeforeDeliveryAtTheFaultingInstructionAndContinueDeliversItToTheGuest() throws Exception {
        ElfImage guest = ElfImage.builtin("catch-faults");
        long pfAt = guest.symbol("catch_pf_at").orElseThrow(), udAt = guest.symbol("catch_ud_at").orElseThrow();
        start(Guests.config("catch-faults", GuestMode.GUEST_MODE_VMX).build());
        session.debuggerPresent(true);
        assertThat(session.monitor("catch pf 6")).isEqualTo("the VM stops before delivering: #UD (6) #PF (14)\n");
        continueAll();
        DebugEvent pf = next();
        assertThat(pf.kind()).isEqualTo(DebugEvent.Kind.EXCEPTION);
        assertThat(pf.dr6()).as("the vector").isEqualTo(14);
        assertThat(pf.rip()).isEqualTo(pfAt);
        assertThat(session.readRegister(0, X86Reg.RIP)).as("not delivered yet").isEqualTo(pfAt);
        assertThat(pf.detail()).isEqualTo(String.format("tdemu: vCPU 0 raised #PF (vector 14), error code 0x0, CR2 0x7f0000000000 "
                + "at RIP 0x%x; not delivered yet: continue delivers it to the guest", pfAt));
        continueAll();
        DebugEvent ud = next();
        assertThat(ud.kind()).isEqualTo(DebugEvent.Kind.EXCEPTION);
        assertThat(ud.dr6()).isEqualTo(6);
        assertThat(ud.rip()).isEqualTo(udAt);
        assertThat(ud.detail()).startsWith("tdemu: vCPU 0 raised #UD (vector 6) at RIP ");
        continueAll();
        assertThat(next().kind()).isEqualTo(DebugEvent.Kind.EXITED);
        VmResult r = result.get(30, TimeUnit.SECONDS);
        assertThat(r.exitStatus()).as("the guest's handlers saw each exception once, #PF with its error code and CR2").isZero();
    }

    @Test
    void monitorCatchOffCatchesNothingAndTheGuestHandlesItsOwnExceptions() throws Exception {
        start(Guests.config("catch-faults", GuestMode.GUEST_MODE_VMX).build());
        session.debuggerPresent(true);
        session.monitor("catch gp pf");
        assertThat(session.monitor("catch off")).startsWith("no guest exception is caught");
        assertThat(session.monitor("catch")).startsWith("no guest exception is caught");
        continueAll();
        assertThat(next().kind()).isEqualTo(DebugEvent.Kind.EXITED);
        assertThat(result.get(30, TimeUnit.SECONDS).exitStatus()).isZero();
    }

    @Test
    void monitorCatchRefusesWhatCannotBeCaughtWithTheReason() throws Exception {
        start(Guests.config("halt", GuestMode.GUEST_MODE_VMX).build());
        assertThatThrownBy(() -> session.monitor("catch 1")).hasMessageContaining("#DB (vector 1) cannot be caught");
        assertThatThrownBy(() -> session.monitor("catch df")).hasMessageContaining("'df' is not an exception");
        assertThatThrownBy(() -> session.monitor("catch 8")).hasMessageContaining("vector 8 cannot be caught");
        assertThatThrownBy(() -> session.monitor("catch 32")).hasMessageContaining("vector 32 cannot be caught");
        assertThatThrownBy(() -> session.monitor("catch pf bogus")).hasMessageContaining("'bogus' is not an exception");
        assertThat(session.monitor("catch")).as("a refused list adds nothing").startsWith("no guest exception is caught");
        assertThat(session.monitor("catch 0xd #UD")).isEqualTo("the VM stops before delivering: #UD (6) #GP (13)\n");
    }

    @Test
    void aTripleFaultWithoutADebuggerConnectedEndsTheVmAtOnce() throws Exception {
        start(Guests.config("robust-triple", GuestMode.GUEST_MODE_VMX).build());
        session.debuggerPresent(false); // e.g. the client detached
        continueAll();
        assertThat(next().kind()).isEqualTo(DebugEvent.Kind.EXITED);
        assertThat(result.get(30, TimeUnit.SECONDS).outcome()).isEqualTo(VmResult.Outcome.TRIPLE_FAULT);
    }

    @Test
    void aVcpuThatHaltsForGoodDuringAStepOnTheDebuggersThreadEndsTheVm() throws Exception {
        start(Guests.config("halt", GuestMode.GUEST_MODE_VMX).build());
        assertThat(session.resume(Map.of(0, DebugSession.Action.STEP), true).ok()).isTrue(); // cli
        assertThat(next().kind()).isEqualTo(DebugEvent.Kind.STEP);
        assertThat(session.resume(Map.of(0, DebugSession.Action.STEP), true).ok()).isTrue(); // hlt with IF=0
        assertThat(next().kind()).isEqualTo(DebugEvent.Kind.EXITED);
        assertThat(result.get(20, TimeUnit.SECONDS).outcome()).isNotEqualTo(VmResult.Outcome.INTERNAL_ERROR);
    }

    @Test
    void softwareBreakpointsAreInt3sThatReadBackAsTheOriginalByte() throws Exception {
        start(debuggee(GuestMode.GUEST_MODE_VMX).build());
        byte original = session.readMemory(0, FUNC, 1)[0];
        assertThat(session.insertSoftware(FUNC).ok()).isTrue();
        assertThat(session.readMemory(0, FUNC, 1)[0]).isEqualTo(original);
        continueAll();
        int hits = 0;
        for (DebugEvent e = next(); e.kind() != DebugEvent.Kind.EXITED; e = next()) {
            assertThat(e.kind()).isEqualTo(DebugEvent.Kind.SOFTWARE_BREAKPOINT);
            assertThat(session.readRegister(0, X86Reg.RIP)).as("reported on the INT3").isEqualTo(FUNC);
            hits++;
            // as gdb does: lift the breakpoint, step over it, put it back, continue
            session.removeSoftware(FUNC);
            session.resume(Map.of(0, DebugSession.Action.STEP));
            assertThat(next().kind()).isEqualTo(DebugEvent.Kind.STEP);
            session.insertSoftware(FUNC);
            continueAll();
        }
        assertThat(hits).isEqualTo(5);
    }

    @Test
    void aFifthHardwareBreakpointIsRefusedWithAReason() throws Exception {
        start(debuggee(GuestMode.GUEST_MODE_VMX).build());
        for (int i = 0; i < 4; i++) {
            assertThat(session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, FUNC + i, 1).ok()).isTrue();
        }
        DebugSession.Result fifth = session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, FUNC + 4, 1);
        assertThat(fifth.ok()).isFalse();
        assertThat(fifth.message()).contains("all four");
    }

    @Test
    void watchedRangesAreSplitIntoAlignedDebugRegisterPieces() {
        assertThat(DebugSession.alignedPieces(0x1000, 8)).containsExactly(new long[] {0x1000, 8});
        assertThat(DebugSession.alignedPieces(0x1002, 4)).containsExactly(new long[] {0x1002, 2}, new long[] {0x1004, 2});
        assertThat(DebugSession.alignedPieces(0x1008, 16)).containsExactly(new long[] {0x1008, 8}, new long[] {0x1010, 8});
        assertThat(DebugSession.alignedPieces(0x1001, 7))
                .containsExactly(new long[] {0x1001, 1}, new long[] {0x1002, 2}, new long[] {0x1004, 4});
        assertThat(DebugSession.alignedPieces(0x1003, 3)).containsExactly(new long[] {0x1003, 1}, new long[] {0x1004, 2});
        assertThat(DebugSession.alignedPieces(0x1000, 32)).hasSize(4);
    }

    /**
     * A watchpoint that is not one aligned 1/2/4/8-byte piece takes a debug register per piece
     * (as gdbserver does on x86): a 16-byte write watch fires on a write to either half, and
     * removing it frees both slots.
     */
    @Test
    void aLongOrUnalignedWatchpointTakesOneSlotPerAlignedPiece() throws Exception {
        start(debuggee(GuestMode.GUEST_MODE_VMX).build());
        assertThat(session.insertHardware(DebugEvent.Kind.WATCH_WRITE, VAR, 16).ok()).isTrue(); // dbg_var, dbg_rvar
        assertThat(session.insertHardware(DebugEvent.Kind.WATCH_WRITE, VAR, 16).ok()).as("inserted twice: no new slots").isTrue();
        assertThat(session.insertHardware(DebugEvent.Kind.WATCH_ACCESS, VAR + 0x102, 4).ok()).as("2 more slots").isTrue();
        DebugSession.Result full = session.insertHardware(DebugEvent.Kind.WATCH_WRITE, VAR + 0x201, 2);
        assertThat(full.ok()).isFalse();
        assertThat(full.message()).contains("all four");
        assertThat(session.removeHardware(DebugEvent.Kind.WATCH_ACCESS, VAR + 0x102, 4).ok()).isTrue();
        DebugSession.Result three = session.insertHardware(DebugEvent.Kind.WATCH_WRITE, VAR + 0x301, 7);
        assertThat(three.ok()).isFalse();
        assertThat(three.message()).contains("takes 3 x86 debug registers").contains("only 2 of the four are free");
        assertThat(session.insertHardware(DebugEvent.Kind.WATCH_WRITE, VAR, 33).message()).contains("1 to 32 bytes");
        continueAll();
        DebugEvent e = next();
        assertThat(e.kind()).isEqualTo(DebugEvent.Kind.WATCH_WRITE);
        assertThat(e.address()).as("the piece that was written").isEqualTo(VAR);
        assertThat(session.removeHardware(DebugEvent.Kind.WATCH_WRITE, VAR, 16).ok()).isTrue();
        for (int i = 0; i < 4; i++) {
            assertThat(session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, FUNC + 0x10 + i, 1).ok())
                    .as("slot %d free again", i).isTrue();
        }
    }

    @Test
    void aNonDebugTdRefusesBreakpointsRegistersMemoryAndStepping() throws Exception {
        start(debuggee(GuestMode.GUEST_MODE_TD).build());
        DebugSession.Result r = session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, FUNC, 1);
        assertThat(r.ok()).isFalse();
        assertThat(r.message()).contains("not a debug TD");
        assertThat(session.insertSoftware(FUNC).message()).contains("not a debug TD");
        assertThatThrownBy(() -> session.readRegister(0, X86Reg.RIP)).hasMessageContaining("not a debug TD");
        assertThatThrownBy(() -> session.readMemory(0, FUNC, 4)).hasMessageContaining("not a debug TD");
        assertThat(session.resume(Map.of(0, DebugSession.Action.STEP)).message()).contains("not a debug TD");
    }

    @Test
    void aDebugTdTakesHardwareBreakpointsThroughTheModulesDebugInterface() throws Exception {
        long hypercall = ElfImage.builtin("host-bp-survives").symbol("tdemu_hypercall").orElseThrow();
        start(Guests.config("host-bp-survives", GuestMode.GUEST_MODE_TD).setDebugTd(true).build());
        assertThat(session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, hypercall, 1).ok()).isTrue();
        continueAll();
        int hits = 0;
        for (DebugEvent e = next(); e.kind() != DebugEvent.Kind.EXITED; e = next()) {
            assertThat(e.kind()).isEqualTo(DebugEvent.Kind.HARDWARE_BREAKPOINT);
            assertThat(e.rip()).isEqualTo(hypercall);
            hits++;
            continuePastBreakpoint(0);
        }
        assertThat(hits).as("one per round").isEqualTo(20);
        assertThat(result.get().exitStatus()).isZero();
    }

    /**
     * A TD's MOV DR runs on the hardware registers (KVM cannot intercept it), and in a debug TD
     * the debugger's breakpoints are those registers: a guest that programs its own DR7 replaces
     * them, as it would on real TDX. (In a VMX guest KVM keeps both apart.)
     */
    @Test
    void inADebugTdTheGuestsOwnDr7WriteReplacesTheDebuggersBreakpointsAsOnRealTdx() throws Exception {
        start(debuggee(GuestMode.GUEST_MODE_TD).setDebugTd(true).build());
        assertThat(session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, FUNC, 1).ok()).isTrue();
        continueAll();
        DebugEvent e = next();
        assertThat(e.kind()).as("the guest's DR7 write at start-up disarmed slot 0").isEqualTo(DebugEvent.Kind.EXITED);
        assertThat(result.get().exitStatus()).isZero();
    }

    @Test
    void aStopOnOneVcpuHoldsEveryVcpu() throws Exception {
        start(Guests.config("multi-vcpu", GuestMode.GUEST_MODE_VMX).setVcpus(2).build());
        long func1 = ElfImage.builtin("multi-vcpu").symbol("funcs").orElseThrow() + 8; // vCPU 1's function
        assertThat(session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, func1, 1).ok()).isTrue();
        continueAll();
        DebugEvent e = next();
        assertThat(e.kind()).isEqualTo(DebugEvent.Kind.HARDWARE_BREAKPOINT);
        assertThat(e.vcpu()).isEqualTo(1);
        assertThat(session.stopped()).as("all-stop: every vCPU held").isTrue();
        session.removeHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, func1, 1);
        continuePastBreakpoint(1);
        DebugEvent end = next();
        assertThat(end.kind()).isEqualTo(DebugEvent.Kind.EXITED);
    }

    static long readLong(DebugSession s, int vcpu, long address) {
        return java.nio.ByteBuffer.wrap(s.readMemory(vcpu, address, 8)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** Waits (at most 20 s) until vCPU {@code runner}'s counter at {@code counter}, read through the stopped vCPU {@code via}, moves. */
    static void awaitProgress(DebugSession s, int via, long counter) throws InterruptedException {
        long before = readLong(s, via, counter);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (readLong(s, via, counter) == before) {
            assertThat(System.nanoTime()).as("the running vCPU's counter moves").isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    /**
     * Non-stop mode: a breakpoint holds only the vCPU that hit it, the other runs on (its counter
     * moves, read through the held one), a breakpoint can be removed while a vCPU runs (it pauses
     * for the moment, unreported), a vCPU is stopped alone on request (INTERRUPTED) and resumed
     * alone while the other stays held, and a running vCPU's registers are refused.
     */
    @Test
    void inNonStopModeEachVcpuStopsAndResumesOnItsOwn() throws Exception {
        start(Guests.config("nonstop", GuestMode.GUEST_MODE_VMX).setVcpus(2).build());
        ElfImage elf = ElfImage.builtin("nonstop");
        long tick1 = elf.symbol("tick1").orElseThrow();
        long count0 = elf.symbol("count0").orElseThrow();
        long count1 = elf.symbol("count1").orElseThrow();
        session.nonStop(true);
        assertThat(session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, tick1, 1).ok()).isTrue();
        continueAll();
        DebugEvent hit = next();
        assertThat(hit.kind()).isEqualTo(DebugEvent.Kind.HARDWARE_BREAKPOINT);
        assertThat(hit.vcpu()).isEqualTo(1);
        assertThat(session.stopped(1)).isTrue();
        assertThat(session.stopped(0)).as("vCPU 0 runs on").isFalse();
        assertThat(session.readRegister(1, X86Reg.RIP)).isEqualTo(tick1);
        awaitProgress(session, 1, count0);
        assertThatThrownBy(() -> session.readRegister(0, X86Reg.RIP)).hasMessageContaining("vCPU 0 is running");

        assertThat(session.removeHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, tick1, 1).ok())
                .as("removed while vCPU 0 runs").isTrue();
        assertThat(session.stopped(0)).as("vCPU 0 was only paused for it").isFalse();
        awaitProgress(session, 1, count0);

        session.stop(List.of(0));
        DebugEvent stop = next();
        assertThat(stop.kind()).as("the pause was not reported; the stop is").isEqualTo(DebugEvent.Kind.INTERRUPTED);
        assertThat(stop.vcpu()).isZero();
        assertThat(session.stopped()).isTrue();

        // vCPU 1 alone runs (past its old breakpoint, now removed); vCPU 0 stays where it stopped.
        long rip0 = session.readRegister(0, X86Reg.RIP);
        assertThat(session.resume(Map.of(1, DebugSession.Action.CONTINUE)).ok()).isTrue();
        assertThat(session.stopped(0)).isTrue();
        awaitProgress(session, 0, count1);
        assertThat(session.readRegister(0, X86Reg.RIP)).isEqualTo(rip0);
        assertThat(session.resume(Map.of(1, DebugSession.Action.CONTINUE)).message()).contains("vCPU 1 is running");

        session.nonStop(false);
        assertThat(session.stopped()).as("leaving non-stop mode holds every vCPU").isTrue();
    }

    /**
     * Non-stop mode on a PC kernel whose processors send each other IPIs (pc64-smp): the AP stops
     * at a breakpoint in its handler of the BSP's first fixed IPI; held there, the IPIs the BSP
     * sends it next stay pending in its local APIC while the BSP runs on, waiting for the AP's
     * answers without being blocked by it (it stops alone when asked); resumed, the AP takes them
     * and the kernel passes every check.
     */
    @Test
    void inNonStopModeAVcpuHeldByTheDebuggerDoesNotBlockTheOtherAndTakesItsIpisWhenResumed() throws Exception {
        java.nio.file.Path kernel = java.nio.file.Files.createTempFile("pc64-smp", ".elf");
        try (var in = DebugSessionTest.class.getResourceAsStream("/guests/multiboot/pc64-smp.elf")) {
            assertThat(in).as("test kernel guests/multiboot/pc64-smp.elf (build testguests)").isNotNull();
            java.nio.file.Files.write(kernel, in.readAllBytes());
        }
        kernel.toFile().deleteOnExit();
        long fixedIpiHandler = ElfImage.load(kernel).symbol("isr_0x40").orElseThrow();
        start(VmConfig.newBuilder().setGuestImage(kernel.toString()).setMachine(dev.tdemu.proto.Machine.MACHINE_PC)
                .setMode(GuestMode.GUEST_MODE_VMX).setVcpus(2).setTimeoutMs(60_000).build());
        session.nonStop(true);
        assertThat(session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, fixedIpiHandler, 1).ok()).isTrue();
        continueAll();
        DebugEvent held = next();
        assertThat(held.kind()).isEqualTo(DebugEvent.Kind.HARDWARE_BREAKPOINT);
        assertThat(held.vcpu()).as("the AP takes the BSP's first fixed IPI").isEqualTo(1);
        assertThat(session.stopped(1)).isTrue();
        assertThat(session.stopped(0)).as("the BSP runs on").isFalse();
        assertThat(session.removeHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, fixedIpiHandler, 1).ok()).isTrue();

        session.stop(List.of(0));
        DebugEvent bsp = next();
        assertThat(bsp.vcpu()).as("the BSP was running, not stuck behind the held AP").isZero();
        assertThat(bsp.kind()).isEqualTo(DebugEvent.Kind.INTERRUPTED);
        assertThat(session.stopped()).isTrue();

        continueAll();
        DebugEvent end = next();
        assertThat(end.kind()).as("the kernel finishes once both run").isEqualTo(DebugEvent.Kind.EXITED);
        assertThat(result.get(30, TimeUnit.SECONDS).console()).contains("PASS").doesNotContain("FAIL");
    }

    @Test
    void monitorCommandsShowDebugRegistersExitsAndPolicyAndSwitchThePolicy() throws Exception {
        start(debuggee(GuestMode.GUEST_MODE_VMX).build());
        assertThat(session.monitor("dr")).contains("vCPU 0 on cpu 0").contains("physical").contains("guest view");
        assertThat(session.monitor("policy")).contains("UPSTREAM");
        assertThat(session.monitor("policy set upstream-6-17")).contains("policy UPSTREAM_6_17");
        assertThat(session.monitor("policy set dr7-only")).contains("DR7_ONLY");
        assertThat(session.monitor("check")).contains("every invariant holds now");
        assertThat(session.monitor("help")).contains("policy set POLICY");
        continueAll();
        assertThat(next().kind()).isEqualTo(DebugEvent.Kind.EXITED);
        assertThat(session.monitor("exits 2")).contains("DR sequence");
    }

    /**
     * Physical memory mode (QEMU's Qqemu.PhyMemMode, monitor phys): the debugger's accesses skip
     * the guest's page tables. Here the debugger itself maps linear 200 MiB onto physical 2 MiB
     * by writing a page-directory entry in physical mode; a linear read through that mapping then
     * sees what a physical write put there, while physical 200 MiB is beyond the 64 MiB of RAM.
     */
    @Test
    void physicalMemoryModeSkipsThePageTables() throws Exception {
        start(debuggee(GuestMode.GUEST_MODE_VMX).build());
        long pde100 = dev.tdemu.emulator.machine.BootStructures.PML4_BASE + 0x2000 + 8 * 100;
        long window = 100L << 21;
        assertThat(session.monitor("phys on")).contains("guest-physical");
        assertThat(session.physicalMemory()).isTrue();
        session.writeMemory(0, pde100, le64(0x200000 | 0x83)); // present, writable, 2 MiB page
        session.writeMemory(0, 0x200010, le64(0x1122334455667788L));
        assertThat(session.readMemory(0, 0x200010, 8)).isEqualTo(le64(0x1122334455667788L));
        assertThatThrownBy(() -> session.readMemory(0, window + 0x10, 8)).hasMessageContaining("beyond the guest's RAM");
        // A software breakpoint's INT3 stays hidden in physical reads too (identity-mapped here).
        assertThat(session.insertSoftware(FUNC).ok()).isTrue();
        byte original = session.readMemory(0, FUNC, 1)[0];
        assertThat(original).isNotEqualTo((byte) 0xCC);
        assertThat(session.monitor("phys off")).contains("linear");
        assertThat(session.readMemory(0, window + 0x10, 8)).as("through the new mapping").isEqualTo(le64(0x1122334455667788L));
        assertThat(session.readMemory(0, FUNC, 1)[0]).isEqualTo(original);
        session.setPhysicalMemory(true);
        session.detach();
        assertThat(session.physicalMemory()).as("the next debugger starts linear").isFalse();
    }

    static byte[] le64(long v) {
        return java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    @Test
    void monitorMistakesSayWhatIsWrong() throws Exception {
        start(debuggee(GuestMode.GUEST_MODE_VMX).build());
        assertThatThrownBy(() -> session.monitor("bogus")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unknown command 'bogus'").hasMessageContaining("policy set POLICY");
        assertThatThrownBy(() -> session.monitor("policy set nope"))
                .hasMessage("no KVM policy named 'nope'; one of: pre-tdx v1-skip-restore v5-as-posted dr7-only upstream "
                        + "pre-tdx-no-dr7-clear debugctl-at-vcpu-load tdx-merged upstream-6-17 sev-debugswap-6-5 sev-host-dr-masks "
                        + "sev-upstream sev-trust-debugswap");
        assertThatThrownBy(() -> session.monitor("policy set sev-upstream")).hasMessageContaining("cannot run a VMX vCPU");
        assertThatThrownBy(() -> session.monitor("policy tdx-dr leave-guest-state")).hasMessageContaining("runs no TD");
        assertThatThrownBy(() -> session.monitor("exits x")).hasMessage("'x' is not a positive count");
        assertThatThrownBy(() -> session.monitor("exits 0")).hasMessage("'0' is not a positive count");
        assertThatThrownBy(() -> session.monitor("phys maybe")).hasMessage("usage: phys [on|off]");
        assertThat(session.monitor("policy")).as("nothing changed").contains("UPSTREAM");
    }
}
