package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.proto.GuestMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Hostile or broken guests end with a clear report; the JVM and the next VM are unaffected. */
@Timeout(120)
class RobustnessTest {
    @ParameterizedTest
    @EnumSource(value = GuestMode.class, names = {"GUEST_MODE_VMX", "GUEST_MODE_TD"})
    void aGuestEnablingEveryBreakpointSlotAtOnceIsEmulatedAndTheEngineNeverSeesIt(GuestMode mode) {
        VmResult r = Guests.run("robust-dr7-all", mode);
        assertThat(r.console()).contains("all four breakpoints fired once");
        assertThat(r.exitStatus()).isZero();
    }

    @ParameterizedTest
    @EnumSource(value = GuestMode.class, names = {"GUEST_MODE_VMX", "GUEST_MODE_TD"})
    void codeWrittenAtRunTimeIncludingMovToDr7IsInterceptedLikeLoadedCode(GuestMode mode) {
        VmResult r = Guests.run("robust-smc", mode);
        assertThat(r.console()).contains("run-time code with MOV DR7 intercepted");
        assertThat(r.exitStatus()).isZero();
    }

    /**
     * Every patch makes the engine translate the loop again; 40,000 used to fill its translation
     * buffer and the engine's own flush inside the run then crashed the JVM (SIGSEGV in
     * tb_set_jmp_target) or left the guest looping for ever.
     */
    @ParameterizedTest
    @EnumSource(value = GuestMode.class, names = {"GUEST_MODE_VMX", "GUEST_MODE_TD"})
    void aMillionPatchesOfRunningCodeRunExactlyAndNeverFillTheTranslationBuffer(GuestMode mode) {
        VmResult r = Guests.run(Guests.config("robust-smc-loop", mode).setTimeoutMs(110_000).build());
        assertThat(r.console()).contains("1000000 patches of running code, every one seen");
        assertThat(r.exitStatus()).isZero();
    }

    @Test
    void aJitWritingAndCallingAMillionFunctionsRunsEachAsWritten() {
        VmResult r = Guests.run(Guests.config("robust-jit", GuestMode.GUEST_MODE_VMX).setTimeoutMs(110_000).build());
        assertThat(r.console()).contains("1000000 freshly written functions ran as written");
        assertThat(r.exitStatus()).isZero();
    }

    /** Every hypercall and TDCALL argument is the guest's: random and hostile ones get a status, never a VMM error. */
    @ParameterizedTest
    @EnumSource(value = GuestMode.class, names = {"GUEST_MODE_VMX", "GUEST_MODE_TD"})
    void thousandsOfHypercallsAndTdcallsWithRandomRegistersAreAllAnswered(GuestMode mode) {
        VmResult r = Guests.run("robust-hc-fuzz", mode);
        assertThat(r.outcome()).as(r.detail()).isEqualTo(VmResult.Outcome.EXITED);
        assertThat(r.console()).contains("4000 fuzzed calls answered");
        assertThat(r.exitStatus()).isZero();
    }

    /**
     * Code that unmaps its own page and then runs MOV CR3 or INVLPG from it: the engine still held
     * the old translation, tdemu could not read the intercepted instruction through the new tables
     * and raised #UD. The architectural outcome is the fetch's #PF, CR2 = RIP.
     */
    @ParameterizedTest
    @EnumSource(value = GuestMode.class, names = {"GUEST_MODE_VMX", "GUEST_MODE_TD"})
    void fetchingFromAPageTheGuestUnmappedIsAPageFaultNotAnInvalidOpcode(GuestMode mode) {
        VmResult r = Guests.run("robust-pf-fetch", mode);
        assertThat(r.console()).contains("#PF at the unmapped fetch, twice (CR3 reload and INVLPG)");
        assertThat(r.exitStatus()).isZero();
    }

    @ParameterizedTest
    @EnumSource(value = GuestMode.class, names = {"GUEST_MODE_VMX", "GUEST_MODE_TD"})
    void aDebugHandlerThatFaultsEndsInAReportedTripleFault(GuestMode mode) {
        VmResult r = Guests.run("robust-db-fault", mode);
        assertThat(r.outcome()).isEqualTo(VmResult.Outcome.TRIPLE_FAULT);
        assertThat(r.detail()).contains("delivering #UD").contains("delivering #DF");
        assertThat(r.processExitStatus()).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(value = GuestMode.class, names = {"GUEST_MODE_VMX", "GUEST_MODE_TD"})
    void aFaultWithoutAnyIdtIsATripleFault(GuestMode mode) {
        VmResult r = Guests.run("robust-triple", mode);
        assertThat(r.outcome()).isEqualTo(VmResult.Outcome.TRIPLE_FAULT);
        assertThat(r.detail()).contains("IDT limit 0x0 does not cover vector 6");
    }

    @ParameterizedTest
    @EnumSource(value = GuestMode.class, names = {"GUEST_MODE_VMX", "GUEST_MODE_TD"})
    void anAccessOutsideGuestRamEndsWithAMemoryFaultNamingTheAddress(GuestMode mode) {
        VmResult r = Guests.run("robust-unmapped", mode);
        assertThat(r.outcome()).isEqualTo(VmResult.Outcome.MEMORY_FAULT);
        assertThat(r.detail()).contains("guest-physical 0x800000000");
    }

    @Test
    void aGuestThatNeverExitsIsStoppedByTheTimeout() {
        VmResult r = Guests.run(Guests.config("robust-loop", GuestMode.GUEST_MODE_VMX).setTimeoutMs(300).build());
        assertThat(r.outcome()).isEqualTo(VmResult.Outcome.TIMEOUT);
        assertThat(r.detail()).contains("300 ms");
    }

    @Test
    void aLoopingMultiVcpuTdIsStoppedByTheTimeoutOnEveryVcpu() {
        VmResult r = Guests.run(Guests.config("robust-loop", GuestMode.GUEST_MODE_TD).setVcpus(3).setTimeoutMs(300).build());
        assertThat(r.outcome()).isEqualTo(VmResult.Outcome.TIMEOUT);
        assertThat(r.detail()).as("where each vCPU was: robust-loop is one jmp at its entry")
                .endsWith("; vCPU 0 at RIP 0x100000, vCPU 1 at RIP 0x100000, vCPU 2 at RIP 0x100000");
    }

    @Test
    void afterEveryKindOfFailureTheNextVmRunsNormally() {
        Guests.run("robust-triple", GuestMode.GUEST_MODE_VMX);
        Guests.run("robust-unmapped", GuestMode.GUEST_MODE_TD);
        VmResult r = Guests.run("hello", GuestMode.GUEST_MODE_VMX);
        assertThat(r.exitStatus()).isZero();
    }

    /** The engine crashes when its MSRs are read while a guest runs; MSR exits must never reach them. */
    @Test
    void msrExitsAreAnsweredByTheVmmAndAnUnknownMsrIsGp() {
        VmResult r = Guests.run("robust-msr", GuestMode.GUEST_MODE_VMX);
        assertThat(r.console()).contains("EFER, DEBUGCTL and an unknown MSR behaved");
        assertThat(r.exitStatus()).isZero();
    }
}
