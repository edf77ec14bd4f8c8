package dev.tdemu.emulator.machine;

/** An access outside guest RAM made by the emulator on the guest's behalf (never a JVM crash). */
public final class GuestMemoryException extends RuntimeException {
    private final long address;

    public GuestMemoryException(long address, long length, long ramSize) {
        super(String.format("guest-physical access 0x%x+%d lies outside guest RAM (0..0x%x)", address, length, ramSize));
        this.address = address;
    }

    public long address() {
        return address;
    }
}
