/**
 * The host kernel's hw_breakpoint state per physical CPU ({@code cpu_dr7}, {@code cpu_debugreg[]})
 * and the operations KVM calls on it.
 */
package dev.tdemu.core.host;
