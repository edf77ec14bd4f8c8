package dev.tdemu.emulator.cpu;

/** The engine could not be brought into the state a vCPU needs; the message says what failed. */
public final class EngineSetupException extends RuntimeException {
    public EngineSetupException(String message) {
        super(message);
    }
}
