/**
 * The x86 debug-register architecture as one logical processor implements it: the DR6/DR7 layouts,
 * the architectural write rules of MOV DR, and the matching of instruction, data and I/O accesses
 * against the four breakpoint slots.
 *
 * <p>Everything here is pure except {@link dev.tdemu.core.x86.DebugRegisterFile}, which is the
 * mutable register file of one physical CPU. The executor in {@code emulator} asks this package
 * whether an access raises #DB; it never decides that itself.
 */
package dev.tdemu.core.x86;
