package dev.tdemu.core.host;

import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;

/**
 * A breakpoint the host kernel installs with hw_breakpoint. Like the kernel, the model rejects an
 * address not aligned to the length and an execute breakpoint longer than one byte.
 * I/O breakpoints are accepted (the kernel has none) because scenarios may ask for them.
 */
public record HostBreakpoint(long address, BreakpointType type, BreakpointLength length) {

    public HostBreakpoint {
        if (type == BreakpointType.EXECUTE && length != BreakpointLength.ONE) {
            throw new IllegalArgumentException("an execute breakpoint has length 1, not " + length.bytes());
        }
        if ((address & (length.bytes() - 1)) != 0) {
            throw new IllegalArgumentException(String.format(
                    "breakpoint address 0x%x is not aligned to its length %d", address, length.bytes()));
        }
    }

    public static HostBreakpoint fromProto(dev.tdemu.proto.HostBreakpoint p) {
        return new HostBreakpoint(p.getAddress(), BreakpointType.fromProto(p.getKind()),
                BreakpointLength.ofBytes(p.getLength() == 0 ? 1 : p.getLength()));
    }
}
