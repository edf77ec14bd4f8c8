package dev.tdemu.core.platform;

/**
 * Virtual time in nanoseconds since the machine was created, monotonic. The emulator derives it
 * from the guest's TSC, so it stands still while every vCPU is stopped (a debugger) and advances
 * with guest progress rather than with the host's wall clock.
 */
@FunctionalInterface
public interface Clock {
    long nanos();
}
