package dev.tdemu.emulator.unicorn;

import dev.tdemu.emulator.elf.ElfImage;
import java.time.Duration;
import java.util.HexFormat;

/**
 * Runs a guest image on a {@link BareMachine} with the tdemu guest port convention — a byte OUT
 * to 0xE9 prints a character, a byte OUT to 0xF4 ends the guest with that exit status — and
 * reports the console text with the exit status or a clear failure. Never hangs: a timer stops
 * the engine from another thread. Until the full VM exists, {@code tdemu check} uses it for the
 * built-in guests.
 */
public final class GuestRunner {
    public static final int CONSOLE_PORT = 0xE9;
    public static final int EXIT_PORT = 0xF4;

    /** How a guest run ended. */
    public sealed interface Result permits Exited, Failed {
        /** What the guest printed. */
        String console();
    }

    /** The guest wrote {@code status} to the exit port. */
    public record Exited(String console, int status) implements Result {
    }

    /** The guest did not exit properly; {@code reason} says what happened instead. */
    public record Failed(String console, String reason) implements Result {
    }

    private GuestRunner() {
    }

    /** Runs {@code image} with at most {@code timeout} of wall-clock time. */
    public static Result run(ElfImage image, Duration timeout) {
        try (BareMachine m = BareMachine.create()) {
            return run(m, image, timeout);
        }
    }

    private static Result run(BareMachine m, ElfImage image, Duration timeout) {
        Unicorn uc = m.engine();
        long entry = m.load(image);
        StringBuilder console = new StringBuilder();
        int[] exitStatus = {-1};
        String[] failure = {null};

        // Port I/O hooks see RIP at the start of the translated block, and a stop from them takes
        // effect at the end of the block: ignore whatever the guest does after its exit OUT.
        uc.addOutHook((u, port, size, value) -> {
            if (exitStatus[0] >= 0 || failure[0] != null) {
                return;
            }
            if (port == CONSOLE_PORT && size == 1) {
                console.append((char) (value & 0xff));
            } else if (port == EXIT_PORT && size == 1) {
                exitStatus[0] = value & 0xff;
                u.emuStop();
            } else {
                failure[0] = String.format("OUT of %d byte(s) 0x%x to unhandled port 0x%x in the code block at 0x%x", size,
                        value, port, rip(u));
                u.emuStop();
            }
        });
        uc.addInHook((u, port, size) -> {
            if (exitStatus[0] >= 0 || failure[0] != null) {
                return 0;
            }
            failure[0] = String.format("IN of %d byte(s) from unhandled port 0x%x in the code block at 0x%x", size, port,
                    rip(u));
            u.emuStop();
            return 0;
        });
        uc.addInterruptHook((u, vector) -> {
            failure[0] = describeException(u, vector);
            u.emuStop();
        });
        uc.addInvalidInstructionHook(u -> {
            long rip = rip(u);
            String bytes;
            try {
                bytes = HexFormat.ofDelimiter(" ").formatHex(u.read(rip, 3));
            } catch (UnicornException e) {
                bytes = "unreadable";
            }
            failure[0] = String.format("invalid instruction at RIP 0x%x (bytes %s)", rip, bytes);
            return false;
        });

        Thread timer = Thread.ofVirtual().name("guest-timeout").start(() -> {
            try {
                Thread.sleep(timeout);
                uc.stop();
            } catch (InterruptedException e) {
                // the guest finished first
            }
        });
        EmuResult result;
        try {
            result = uc.emuStart(entry);
        } catch (UnicornException e) {
            return new Failed(console.toString(), failure[0] != null ? failure[0] : e.getMessage());
        } finally {
            timer.interrupt();
            joinQuietly(timer);
        }
        if (failure[0] != null) {
            return new Failed(console.toString(), failure[0]);
        }
        if (exitStatus[0] >= 0) {
            return new Exited(console.toString(), exitStatus[0]);
        }
        if (result == EmuResult.STOPPED) {
            return new Failed(console.toString(), "guest did not exit within " + timeout.toMillis() + " ms (RIP 0x"
                    + Long.toHexString(rip(uc)) + ")");
        }
        return new Failed(console.toString(), String.format(
                "guest halted at RIP 0x%x without writing an exit status to port 0x%X", rip(uc), EXIT_PORT));
    }

    private static String describeException(Unicorn u, int vector) {
        boolean hasErrorCode = vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
        String name = vector < NAMES.length ? NAMES[vector] : "vector " + vector;
        StringBuilder s = new StringBuilder("unhandled exception ").append(name).append(" (vector ").append(vector);
        if (hasErrorCode) {
            s.append(", error code 0x").append(Integer.toHexString(u.exceptionErrorCode()));
        }
        if (vector == 14) {
            s.append(", CR2 0x").append(Long.toHexString(u.readReg(X86Reg.CR2)));
        }
        return s.append(") at RIP 0x").append(Long.toHexString(rip(u))).toString();
    }

    private static final String[] NAMES = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vector 9",
        "#TS", "#NP", "#SS", "#GP", "#PF", "vector 15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};

    private static long rip(Unicorn u) {
        return u.readReg(X86Reg.RIP);
    }

    private static void joinQuietly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
