/**
 * KVM's debug-register logic for one vCPU, with names that follow the kernel: the guest view
 * ({@code db}, {@code dr6}, {@code dr7}), the effective values ({@code effDb}, effective DR7), the
 * debugger's {@code guestDebug} state, {@code switchDbRegs}, the MOV-DR and #DB exit handlers, and
 * the DR sequences of {@code vcpu_enter_guest} for each {@link dev.tdemu.core.kvm.DrSwitchPolicy}.
 *
 * <p>This package is the only place that decides what the physical DRs hold around a guest run.
 *
 * <p>It also holds KVM's handling of a TD's TDG.VP.VMCALL ({@link dev.tdemu.core.kvm.TdxVmcall})
 * and the hypercall emulation for tdemu's hypercalls ({@link dev.tdemu.core.kvm.KvmHypercall}),
 * which validate every guest register and reach devices only through {@link dev.tdemu.core.kvm.Vmm}.
 */
package dev.tdemu.core.kvm;
