package dev.tdemu.emulator.platform;

import dev.tdemu.core.platform.PortDevice;
import java.util.function.IntConsumer;

/**
 * The devices of tdemu's own guest ABI (docs/guest-abi.md): the console at port 0xE9 (one byte
 * per OUT) and the exit port at 0xF4 (the guest ends with the byte as its status). Port 0x80 is
 * not a device: a VMX guest's POST-code writes are not intercepted at all.
 */
public final class TdemuAbiDevices {
    public static final int CONSOLE_PORT = 0xE9;
    public static final int EXIT_PORT = 0xF4;
    public static final int POST_PORT = 0x80;

    /** Where console bytes go. */
    @FunctionalInterface
    public interface ConsoleSink {
        void write(byte b);
    }

    private TdemuAbiDevices() {}

    /** Registers the console and the exit port; {@code exit} receives the exit status (0..255). */
    public static void install(Platform platform, ConsoleSink console, IntConsumer exit) {
        platform.ports().register("tdemu console", CONSOLE_PORT, 1, new PortDevice() {
            @Override
            public long in(int port, int size) {
                return -1; // write-only: reads float high
            }

            @Override
            public void out(int port, int size, long value) {
                console.write((byte) value);
            }
        });
        platform.ports().register("tdemu exit", EXIT_PORT, 1, new PortDevice() {
            @Override
            public long in(int port, int size) {
                return -1;
            }

            @Override
            public void out(int port, int size, long value) {
                exit.accept((int) (value & 0xFF));
            }
        });
    }
}
