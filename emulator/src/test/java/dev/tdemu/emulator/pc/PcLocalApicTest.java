package dev.tdemu.emulator.pc;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local APIC of one CPU from inside a long-mode kernel: its registers (pc64-apic), its timer
 * against the TSC on the machine's virtual clock (pc64-apic-timer), and interrupt delivery:
 * self-IPIs, priorities and EOI order, the interrupt shadows (pc64-apic-irq); CR8 as the TPR and
 * NMIs with their blocking until IRET (pc64-cr8-nmi); x2APIC mode (pc64-x2apic). The kernels check
 * counts and order and compare the timer with the TSC; none measures wall time.
 */
@Timeout(60)
class PcLocalApicTest {
    static final int APIC_CHECKS = 58, TIMER_CHECKS = 18, IRQ_CHECKS = 34, CR8_NMI_CHECKS = 19, X2APIC_CHECKS = 54, NMI_WINDOW_CHECKS = 7;

    @TempDir
    Path dir;

    @Test
    void everyRegisterHasItsArchitecturalResetValueAndSemantics() {
        PcKernels.run(dir, "pc64-apic.elf").assertAllPassed(APIC_CHECKS);
    }

    @Test
    void theTimerFiresOneShotPeriodicAndAtATscDeadlineNeverBeforeItsTimeOnTheVirtualClock() {
        PcKernels.run(dir, "pc64-apic-timer.elf").assertAllPassed(TIMER_CHECKS);
    }

    /**
     * Self-IPIs, priority classes, TPR, nesting and EOI order, STI's shadow, STI;HLT woken by the
     * timer (the VMM's HLT ended the shadow, or the wake-up waited for the next instruction) and,
     * sampled under a periodic timer, no interrupt inside a MOV SS or STI shadow.
     */
    @Test
    void interruptsAreDeliveredByPriorityAfterTheirShadowsAndWakeHlt() {
        PcKernels.Run r = PcKernels.run(dir, "pc64-apic-irq.elf").assertAllPassed(IRQ_CHECKS);
        org.assertj.core.api.Assertions.assertThat(r.hex("shadow.interrupts")).as("the sample").isGreaterThanOrEqualTo(200);
    }

    /**
     * MOV to/from CR8 reaches the TPR (its reserved bits #GP, it holds interrupts back, it works
     * with the APIC globally disabled as on KVM); a self-NMI is taken with IF clear, one sent in
     * the handler waits for the handler's IRET, and the extras are lost.
     */
    @Test
    void cr8IsTheTprAndAnNmiSentInTheNmiHandlerWaitsForItsIret() {
        PcKernels.run(dir, "pc64-cr8-nmi.elf").assertAllPassed(CR8_NMI_CHECKS);
    }

    /**
     * The x2APIC as the SDM describes it: IA32_APIC_BASE's mode transitions and their #GP rules,
     * the xAPIC page undecoded in x2APIC mode, the MSRs' read-only, write-only and reserved
     * registers, the 64-bit ICR and the SELF IPI MSR, and the TSC-deadline timer through them.
     */
    @Test
    void x2apicModeTransitionsAndMsrsFollowTheSdmAndItsTscDeadlineTimerFires() {
        PcKernels.run(dir, "pc64-x2apic.elf").assertAllPassed(X2APIC_CHECKS);
    }

    /**
     * An NMI latched inside a MOV SS shadow with IF clear, or an STI shadow, is taken right after
     * the shadowed instruction, and one sent in the NMI handler right after its IRET: KVM's NMI
     * window, whose exits (EXIT_REASON_NMI_WINDOW, 8) show in the exit trace by that name, and only
     * when an NMI waits for it.
     */
    @Test
    void anNmiHeldByAShadowOrByNmiBlockingGoesInAtTheNmiWindowExit() {
        java.util.List<dev.tdemu.emulator.vm.ExitEvent> exits = new java.util.concurrent.CopyOnWriteArrayList<>();
        PcKernels.run(PcKernels.config(PcKernels.file(dir, "pc64-nmi-window.elf")).build(), java.util.List.of(exits::add))
                .assertAllPassed(NMI_WINDOW_CHECKS);
        java.util.List<dev.tdemu.emulator.vm.ExitEvent> windows = exits.stream()
                .filter(e -> e.reason() == dev.tdemu.core.vmx.ExitReason.NMI_WINDOW).toList();
        // One per held NMI: after the MOV SS shadow, after the STI shadow, at the IRET of the handler that sent
        // the fourth; the IRETs with no NMI waiting unblock NMIs without an exit, as KVM requests no window then.
        org.assertj.core.api.Assertions.assertThat(windows).as("NMI-window exits").hasSize(3);
        org.assertj.core.api.Assertions.assertThat(dev.tdemu.emulator.vm.ExitFormat.format(windows.getFirst().toProto()))
                .contains("NMI_WINDOW (8)");
    }
}
