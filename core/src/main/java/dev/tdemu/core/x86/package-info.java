/**
 * The x86 architecture as one logical processor implements it, in pure value types:
 * <ul>
 * <li>the debug-register architecture: the DR6/DR7 layouts, the write rules of MOV DR, and the
 *     matching of instruction, data and I/O accesses against the four breakpoint slots;</li>
 * <li>the register and event vocabulary every other part shares: {@link dev.tdemu.core.x86.Rflags},
 *     {@link dev.tdemu.core.x86.Segment} (selector and descriptor cache), {@link dev.tdemu.core.x86.Sreg},
 *     {@link dev.tdemu.core.x86.ExecutionMode} (real, virtual-8086, 16/32-bit protected, 64-bit),
 *     {@link dev.tdemu.core.x86.ExceptionVector} (vectors 0-21 with their error-code, type and
 *     double-fault rules) and {@link dev.tdemu.core.x86.Event} / {@link dev.tdemu.core.x86.EventDelivery}
 *     (exception, NMI, external or software interrupt, and the RIP and RF its frame saves).</li>
 * </ul>
 *
 * <p>Everything here is pure except {@link dev.tdemu.core.x86.DebugRegisterFile}, which is the
 * mutable register file of one physical CPU. The executor in {@code emulator} asks this package
 * whether an access raises #DB; it never decides that itself.
 */
package dev.tdemu.core.x86;
