/**
 * The machine around the vCPUs: the buses its devices sit on ({@code core.platform}'s
 * {@link dev.tdemu.core.platform.PortBus} and {@link dev.tdemu.core.platform.MmioBus}) and the
 * devices of each machine type. tdemu's own guest ABI is one machine (the console and exit ports);
 * the exit handlers reach every device through the buses, never a device directly.
 */
package dev.tdemu.emulator.platform;
