package dev.tdemu.core.pc;

import java.util.OptionalInt;

/**
 * One vCPU's multiple-processor initialisation state (SDM vol. 3A "Multiple-Processor (MP)
 * Initialization"; KVM's mp_state): it runs, or it waits for a start-up IPI. After power-up the
 * BSP runs and the application processors wait for SIPI (the SDM's; KVM instead wants an INIT
 * first, which every OS sends anyway). INIT puts any vCPU in its INIT state, an AP in
 * wait-for-SIPI; a SIPI starts a vCPU that waits for one and is ignored otherwise (so the second
 * SIPI of the INIT-SIPI-SIPI sequence does nothing). An INIT level de-assert is no INIT (the local
 * APIC drops it). Thread-safe; the emulator calls {@link #acceptEvents()} on its vCPU's thread
 * when the APIC kicks it.
 *
 * <p>A TD's vCPU ({@link #trustDomain}) has no INIT/SIPI: the TDX module drops them (KVM's
 * {@code vt_apic_init_signal_blocked} is true for a TD), and its application processors wait in
 * the firmware instead, polling the ACPI Multiprocessor Wakeup mailbox ({@link MpWakeupMailbox},
 * state WAIT_FOR_WAKEUP) until the OS wakes them with {@link #acceptWakeup}.
 */
public final class MpInitState {

    /** KVM's KVM_MP_STATE_RUNNABLE and KVM_MP_STATE_INIT_RECEIVED. */
    public enum State {
        RUNNABLE,
        WAIT_FOR_SIPI,
        /** A TD's application processor held by the firmware, polling the wakeup mailbox. */
        WAIT_FOR_WAKEUP
    }

    private final LocalApic apic;
    private final boolean trustDomain;
    private State state;

    public MpInitState(LocalApic apic) {
        this(apic, false);
    }

    private MpInitState(LocalApic apic, boolean trustDomain) {
        this.apic = apic;
        this.trustDomain = trustDomain;
        reset();
    }

    /** A TD vCPU's: INIT and SIPI are blocked, an AP waits for the wakeup mailbox. */
    public static MpInitState trustDomain(LocalApic apic) {
        return new MpInitState(apic, true);
    }

    public boolean isTrustDomain() {
        return trustDomain;
    }

    /** RESET: the BSP runs, an AP waits for SIPI (a TD's: for the wakeup mailbox). */
    public synchronized void reset() {
        state = apic.apicBase().bsp() ? State.RUNNABLE : trustDomain ? State.WAIT_FOR_WAKEUP : State.WAIT_FOR_SIPI;
    }

    public synchronized State state() {
        return state;
    }

    /** Whether the vCPU runs guest code (it does nothing, takes no interrupt or NMI, while waiting for SIPI). */
    public synchronized boolean runnable() {
        return state == State.RUNNABLE;
    }

    /**
     * Whether an INIT or start-up request waits that would change this vCPU's state when taken
     * (KVM's kvm_apic_has_events, as kvm_vcpu_has_events asks it): an INIT always, which wakes a
     * halted CPU whatever RFLAGS.IF says; a start-up IPI only while the vCPU waits for one (to a
     * running or halted CPU it is ignored). Any thread may ask, to see whether a halted vCPU can
     * still be woken.
     */
    public synchronized boolean eventPending() {
        if (trustDomain) {
            return false; // INIT and SIPI are blocked in a TD: they wake nothing
        }
        return apic.initPending() || (state == State.WAIT_FOR_SIPI && apic.startupPending());
    }

    /**
     * Takes the local APIC's INIT and start-up requests, INIT first, as KVM's
     * kvm_apic_accept_events: an INIT INIT-resets the local APIC and gives {@link MpInitAction.Init};
     * a SIPI then starts the vCPU if it waits for one ({@link MpInitAction.Startup}, which includes
     * the INIT state), else it is ignored. The emulator applies the result to the vCPU and resets
     * its {@link NmiState} on Init and Startup.
     */
    public synchronized MpInitAction acceptEvents() {
        boolean init;
        OptionalInt sipi;
        // One snapshot under the APIC's lock, with the INIT-reset that clears the APIC's requests: taken
        // one by one, an INIT and the SIPI sent right behind it could be split (INIT missed, SIPI taken
        // and started, then the INIT taken at the next call put the AP back in wait-for-SIPI with its
        // SIPI gone), and a reset after the lock is let go would drop a SIPI that came in between.
        // Lock order: this, then the APIC.
        synchronized (apic) {
            init = apic.takeInit();
            sipi = apic.takeStartup(); // taken before init() clears the APIC's requests
            if (init) {
                apic.init();
            }
        }
        if (trustDomain) {
            return init || sipi.isPresent() ? new MpInitAction.BlockedInTd(init, sipi.orElse(-1)) : MpInitAction.NONE;
        }
        MpInitAction result = MpInitAction.NONE;
        if (init) {
            state = apic.apicBase().bsp() ? State.RUNNABLE : State.WAIT_FOR_SIPI;
            result = new MpInitAction.Init(state == State.WAIT_FOR_SIPI);
        }
        if (sipi.isPresent()) {
            if (state == State.WAIT_FOR_SIPI) {
                state = State.RUNNABLE;
                return new MpInitAction.Startup(sipi.getAsInt());
            }
            if (!init) {
                return new MpInitAction.SipiIgnored(sipi.getAsInt());
            }
        }
        return result;
    }

    /**
     * Whether the wakeup mailbox, as {@code mailbox} shows it, has a command for this AP while it
     * waits for one (what wakes its firmware loop). Always false outside a TD and once woken.
     */
    public synchronized boolean wakeupPending(MpWakeupMailbox.Request mailbox) {
        return state == State.WAIT_FOR_WAKEUP && !(MpWakeupMailbox.poll(mailbox, apic.initialApicId())
                instanceof MpWakeupMailbox.Poll.Idle);
    }

    /**
     * The firmware loop of a TD's AP looking at the mailbox: a Wakeup command for its (initial)
     * APIC ID makes it runnable and gives {@link MpInitAction.Wakeup}, after which the emulator
     * clears Command (the acknowledgement) and starts the AP at the vector; a command mailbox
     * version 0 does not define gives {@link MpInitAction.UnknownMailboxCommand}; anything else,
     * or a vCPU not waiting for the mailbox, gives {@link MpInitAction#NONE}.
     */
    public synchronized MpInitAction acceptWakeup(MpWakeupMailbox.Request mailbox) {
        if (state != State.WAIT_FOR_WAKEUP) {
            return MpInitAction.NONE;
        }
        return switch (MpWakeupMailbox.poll(mailbox, apic.initialApicId())) {
            case MpWakeupMailbox.Poll.Idle i -> MpInitAction.NONE;
            case MpWakeupMailbox.Poll.Wakeup w -> {
                state = State.RUNNABLE;
                yield new MpInitAction.Wakeup(w.vector());
            }
            case MpWakeupMailbox.Poll.UnknownCommand u -> new MpInitAction.UnknownMailboxCommand(u.command());
        };
    }

    @Override
    public synchronized String toString() {
        return "MpInitState[" + state + "]";
    }
}
