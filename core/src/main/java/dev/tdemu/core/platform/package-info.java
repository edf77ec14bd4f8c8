/**
 * The platform bus: how devices are reached. Port-I/O devices and MMIO devices are registered by
 * address range ({@link PortBus}, {@link MmioBus}); time is a {@link Clock} the emulator derives
 * from the guest's TSC, so a guest stopped in a debugger sees consistent time; devices that act
 * at a moment in time say when ({@link TimedDevice}) and the emulator calls them back.
 *
 * <p>Plain Java, no engine, no threads, no I/O: every device is tested at register level with a
 * {@link ManualClock}. A device never reaches into a vCPU; it gets only what its constructor
 * hands it (an interrupt line, the clock, an output sink).
 *
 * <p>Devices are not thread-safe: the emulator serialises every access to the platform (port and
 * MMIO accesses, {@link TimedDevice#expire}, host input) under one lock, since a device's
 * interrupt line calls straight into the interrupt controller. A guest using a feature a device
 * does not model gets a {@link NotModelledException}, which the emulator turns into a one-line
 * stop of the VM.
 */
package dev.tdemu.core.platform;
