package dev.tdemu.emulator.platform;

import dev.tdemu.core.platform.MmioBus;
import dev.tdemu.core.platform.PortBus;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One VM's buses: every port-I/O device registered by port range, every MMIO device by
 * guest-physical range. What no device claims is a PC's unclaimed cycle (reads all-ones, writes
 * ignored), logged once per port or page at debug level.
 */
public final class Platform {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.platform");

    private final PortBus ports = new PortBus((port, size, write) -> LOG.debug("{} of {} byte(s) at unclaimed port 0x{}",
            write ? "OUT" : "IN", size, Integer.toHexString(port)));
    private final MmioBus mmio = new MmioBus((address, size, write) -> LOG.debug("{} of {} byte(s) at unclaimed guest-physical 0x{}",
            write ? "write" : "read", size, Long.toHexString(address)));

    public PortBus ports() {
        return ports;
    }

    public MmioBus mmio() {
        return mmio;
    }
}
