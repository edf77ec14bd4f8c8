/**
 * KVM's debug-register logic for one vCPU, with names that follow the kernel: the guest view
 * ({@code db}, {@code dr6}, {@code dr7}), the effective values ({@code effDb}, effective DR7), the
 * debugger's {@code guestDebug} state, {@code switchDbRegs}, the MOV-DR and #DB exit handlers, and
 * the DR sequences of {@code vcpu_enter_guest} for each {@link dev.tdemu.core.kvm.DrSwitchPolicy}.
 *
 * <p>This package is the only place that decides what the physical DRs hold around a guest run.
 */
package dev.tdemu.core.kvm;
