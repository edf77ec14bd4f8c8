package dev.tdemu.core.pc;

/**
 * What the INIT and start-up requests from a local APIC do to its vCPU
 * ({@link MpInitState#acceptEvents()}), for the emulator to apply (KVM's kvm_apic_accept_events).
 */
public sealed interface MpInitAction {

    /** Nothing to apply. */
    record None() implements MpInitAction {
    }

    /**
     * INIT: the vCPU takes the INIT state (SDM table "IA-32 and Intel 64 Processor States
     * Following Power-up, Reset, or INIT": real mode, EFLAGS 2, CR0 0x60000010 with CD/NW kept, the
     * FPU/SSE and MSR state RESET leaves except those INIT keeps). Its local APIC was INIT-reset
     * already. An application processor then waits for a start-up IPI
     * ({@code waitForSipi}); the BSP resumes at the reset vector, CS selector 0xF000 with base
     * 0xFFFF0000 and IP 0xFFF0, where firmware would run.
     */
    record Init(boolean waitForSipi) implements MpInitAction {
        public static final int RESET_CS_SELECTOR = 0xF000;
        public static final long RESET_CS_BASE = 0xFFFF_0000L;
        public static final long RESET_RIP = 0xFFF0;
    }

    /**
     * A start-up IPI reached a vCPU waiting for it: from its INIT state it runs in real mode at
     * {@code vector << 12}: CS selector {@code vector << 8}, CS base {@code vector << 12}, limit
     * 0xFFFF, IP 0.
     */
    record Startup(int vector) implements MpInitAction {
        public Startup {
            if (vector < 0 || vector > 0xFF) {
                throw new IllegalArgumentException("a start-up vector is 0-255: " + vector);
            }
        }

        public int csSelector() {
            return vector << 8;
        }

        public long csBase() {
            return (long) vector << 12;
        }

        /** The physical address the vCPU starts at (CS base + IP 0). */
        public long startAddress() {
            return csBase();
        }

        public long rip() {
            return 0;
        }
    }

    /** A start-up IPI reached a vCPU that was not waiting for one: ignored (SDM), reported for the log. */
    record SipiIgnored(int vector) implements MpInitAction {
    }

    /**
     * INIT or SIPI reached a TD's vCPU: blocked, as the TDX module and KVM block them for a TD
     * (reported for the log). {@code sipiVector} is -1 when only an INIT came.
     */
    record BlockedInTd(boolean init, int sipiVector) implements MpInitAction {
    }

    /**
     * The wakeup mailbox woke a TD's application processor ({@link MpWakeupMailbox}): Command is to
     * be cleared and the AP starts at {@code vector} in 64-bit mode with the firmware's identity
     * map, flat selectors and interrupts disabled.
     */
    record Wakeup(long vector) implements MpInitAction {
    }

    /** The wakeup mailbox holds a command for this AP that mailbox version 0 does not define. */
    record UnknownMailboxCommand(int command) implements MpInitAction {
    }

    MpInitAction NONE = new None();
}
