package dev.tdemu.emulator.vm;

import dev.tdemu.emulator.cpu.VmExit;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Lets one vCPU at a time execute guest code, so that the guest's atomic instructions are atomic.
 *
 * <p>Unicorn translates a LOCK-prefixed read-modify-write (LOCK INC, XADD, CMPXCHG, ...) into a
 * plain load and store: it runs QEMU's TCG without {@code CF_PARALLEL}, which is only correct when
 * a single thread executes guest code. Two engines sharing guest RAM on two threads then lose
 * updates (measured: two vCPUs doing 2,000,000 LOCK INC each end with about 2,100,000). So, like
 * QEMU's single-threaded TCG, tdemu serialises execution: each vCPU keeps its own thread, its own
 * engine and its own physical CPU (debug registers, host breakpoints, exits, all handled on that
 * thread in parallel), but only the holder of this fair lock is inside the engine. A vCPU that
 * waits longer than a quantum preempts the holder with a kick ({@link
 * dev.tdemu.emulator.cpu.GuestEngine#kick()}: the engine's own cross-thread stop is not precise),
 * and the holder hands the lock over and continues later where it stopped, without an exit.
 *
 * <p>Exit handling, the host workload, HLT waits and debugger pauses all happen outside the lock.
 */
final class GuestScheduler {
    private static final org.apache.logging.log4j.Logger LOG = org.apache.logging.log4j.LogManager.getLogger("dev.tdemu.emulator.vm");
    /** How long a waiting vCPU lets the running one execute before preempting it. */
    static final long QUANTUM_MICROS = 2_000;
    /**
     * KVM's ple_window, in PAUSEs rather than cycles: how many PAUSEs a run may execute before a
     * spin hands the engine to a waiting vCPU ({@link dev.tdemu.emulator.cpu.GuestEngine.PauseLoopExiting}).
     * Chosen by a sweep over pc64-pause-handoff's hand-overs (docs/emulator.md, "Several vCPUs").
     */
    static final int PLE_WINDOW = 128;

    private final ReentrantLock lock = new ReentrantLock(true);
    private final Vm vm;
    private volatile Vcpu running;

    GuestScheduler(Vm vm) {
        this.vm = vm;
    }

    /**
     * Runs {@code body} (guest execution for {@code v} until its next exit) holding the engine
     * lock. A preemption is invisible to the guest and to the VMM: the vCPU gives the lock up and
     * carries on where it was once it has the lock again, unless the stop was also meant for
     * something else (the VM ended, the debugger holds this vCPU).
     */
    VmExit run(Vcpu v, Supplier<VmExit> body) {
        while (true) {
            acquire(v);
            running = v;
            VmExit exit;
            try {
                exit = body.get();
            } finally {
                running = null;
                lock.unlock();
            }
            // A preemption that coincided with the local APIC's kick (an IPI, a device's interrupt)
            // is an exit after all: the VMM must look at what the APIC has.
            if (exit instanceof VmExit.ExternalInterrupt && v.takePreempted() && !vm.finished() && !vm.debugHoldRequested(v)
                    && !v.takeEventKick()) {
                // The preempting kick switched the block hook's callback on; the vCPU carries on
                // without an entry (which is where it is switched off), so switch it off here, or
                // every block until the next exit would pay an upcall.
                v.engine().disableKicks();
                continue;
            }
            return exit;
        }
    }

    /**
     * The local APIC has an event for {@code v} (an IPI, a device's interrupt): the vCPU holding
     * the engine lock, if another, hands it over at its next instruction boundary, so the event is
     * taken without waiting for a quantum (an IPI round trip between a spinning sender and its
     * target would otherwise cost a quantum each way).
     */
    void wantedBy(Vcpu v) {
        Vcpu holder = running;
        if (holder != null && holder != v && lock.hasQueuedThreads()) {
            holder.preempt();
        }
    }

    /** Whether another vCPU waits for the engine lock: only then does a PAUSE loop end a run. */
    boolean othersWaiting() {
        return lock.hasQueuedThreads();
    }

    /**
     * The vCPU holding the engine spins in a PAUSE loop while another waits, in a VM whose spins
     * take no exit (a TD, an SEV-ES guest): it hands the engine on at its next block, as a
     * preemption does, invisible to the guest and the VMM. On the holder's own thread.
     */
    void yieldRunning() {
        Vcpu holder = running;
        if (holder != null) {
            holder.preempt();
        }
    }

    /**
     * PAUSE-loop exiting for the vCPUs of this VM: a VMX guest's spin ends with a PAUSE_INSTRUCTION
     * exit (KVM's handle_pause yields); a TD's or an SEV-ES guest's with a preemption (the TDX
     * module enables no PAUSE-loop exiting; tdemu's exit trace speaks VMX, and SEV-ES's PAUSE
     * intercept is not modelled).
     */
    dev.tdemu.emulator.cpu.GuestEngine.PauseLoopExiting pauseLoopExiting(Mode mode) {
        return new dev.tdemu.emulator.cpu.GuestEngine.PauseLoopExiting(PLE_WINDOW, this::othersWaiting,
                mode == Mode.VMX ? null : this::yieldRunning);
    }

    private void acquire(Vcpu v) {
        boolean interrupted = false;
        long t0 = System.nanoTime();
        int kicks = 0;
        try {
            if (v.takeUrgent() && !lock.tryLock()) {
                Vcpu holder = running;
                if (holder != null && holder != v) {
                    holder.preempt();
                }
            } else if (lock.isHeldByCurrentThread()) {
                return;
            }
            while (true) {
                try {
                    if (lock.tryLock(QUANTUM_MICROS, TimeUnit.MICROSECONDS)) {
                        long waited = System.nanoTime() - t0;
                        if (waited > 20_000_000L) {
                            LOG.debug("waited {} ms for the engine lock ({} preemption kicks)", waited / 1_000_000, kicks);
                        }
                        return;
                    }
                    kicks++;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
                Vcpu holder = running;
                if (holder != null) {
                    holder.preempt();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
