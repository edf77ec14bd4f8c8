/**
 * The PC devices a multiboot test kernel built for QEMU's {@code pc} machine expects, each one
 * class with its own state, {@code reset()} and register-level tests, on the
 * {@link dev.tdemu.core.platform} bus: {@link dev.tdemu.core.pc.Uart16550} (COM1),
 * {@link dev.tdemu.core.pc.IsaDebugExit}, {@link dev.tdemu.core.pc.FwCfg},
 * {@link dev.tdemu.core.pc.PostCodePort}, {@link dev.tdemu.core.pc.Pic8259Pair},
 * {@link dev.tdemu.core.pc.Pit8254} with {@link dev.tdemu.core.pc.NmiStatusControl} (port 0x61),
 * {@link dev.tdemu.core.pc.Mc146818Rtc}, {@link dev.tdemu.core.pc.PciConfigMechanism1} with an
 * {@link dev.tdemu.core.pc.I440fxHostBridge}, {@link dev.tdemu.core.pc.AcpiTables} and
 * {@link dev.tdemu.core.pc.AcpiPm}. docs/platform.md lists their ports and what each leaves out.
 *
 * <p>Where the hardware's datasheet and QEMU differ, the device does what QEMU does when a test
 * kernel could tell (and says so), since those kernels are written against QEMU. Every device
 * claims its own ports with {@code attachTo(PortBus)}; time comes only from the
 * {@link dev.tdemu.core.platform.Clock}; interrupts go out on
 * {@link dev.tdemu.core.platform.InterruptLine}s, driven at their level (edges are a line going
 * up).
 */
package dev.tdemu.core.pc;
