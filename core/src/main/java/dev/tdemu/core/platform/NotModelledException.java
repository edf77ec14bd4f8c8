package dev.tdemu.core.platform;

/**
 * The guest used a device feature that tdemu does not model (an 8259A in 8080 mode, an RTC
 * divider for another crystal, an ACPI sleep state other than soft-off). Real hardware would
 * act; tdemu would get it wrong, so it stops instead: the emulator ends the VM with this
 * one-line message rather than let the guest run on with a silently wrong device.
 */
public final class NotModelledException extends RuntimeException {
    public NotModelledException(String device, String what) {
        super(device + ": " + what + " is not modelled", null, false, false);
    }
}
