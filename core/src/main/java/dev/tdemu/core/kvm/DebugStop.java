package dev.tdemu.core.kvm;

import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.ExceptionVector;

/**
 * A KVM_EXIT_DEBUG report to the debugger (struct kvm_debug_exit_arch).
 *
 * @param exception #DB or #BP
 * @param rip       guest RIP of the stop (for a trap, after the instruction; for a fault, at it)
 * @param dr6       the conditions, as a DR6 value (reported bits plus fixed bits)
 * @param dr7       the effective DR7 (the debugger's while it uses hardware breakpoints)
 */
public record DebugStop(ExceptionVector exception, long rip, Dr6 dr6, Dr7 dr7) {
}
