package dev.tdemu.emulator.vm;

import java.io.PrintStream;

/** The console device (port 0xE9 / TDEMU_HC_WRITE): collects what the guest prints, optionally echoes it. */
public final class Console {
    private final StringBuilder text = new StringBuilder();
    private final PrintStream echo;
    private static final int LIMIT = 16 << 20;

    public Console(PrintStream echo) {
        this.echo = echo;
    }

    public synchronized void write(byte b) {
        if (text.length() < LIMIT) {
            text.append((char) (b & 0xFF));
        }
        if (echo != null) {
            echo.write(b & 0xFF);
            if (b == '\n') {
                echo.flush();
            }
        }
    }

    public synchronized String text() {
        return text.toString();
    }

    public void flush() {
        if (echo != null) {
            echo.flush();
        }
    }
}
