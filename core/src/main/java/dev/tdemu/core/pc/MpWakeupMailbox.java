package dev.tdemu.core.pc;

/**
 * The ACPI Multiprocessor Wakeup mailbox (ACPI 6.4 section 5.2.12.19, "Multiprocessor Wakeup
 * Structure"): how an OS starts the application processors of a platform that has no INIT/SIPI,
 * a TD's (the TDX module drops INIT and SIPI; TDVF holds the APs in a loop polling this mailbox).
 * One 4 KiB page in firmware-reserved memory, named by the MADT's type 0x10 structure:
 * <pre>
 *   offset 0   Command       u16   0 Noop, 1 Wakeup (mailbox version 0 has no other command)
 *   offset 2   Reserved      u16
 *   offset 4   ApicId        u32   the processor to wake
 *   offset 8   WakeupVector  u64   where it starts
 *   offset 16  reserved for the OS (2032 bytes), offset 2048 reserved for the firmware (2048 bytes)
 * </pre>
 * The OS writes ApicId and WakeupVector, then Command; the AP whose APIC ID it is clears Command
 * (its acknowledgement, which the OS waits for, Linux's {@code acpi_wakeup_cpu}) and jumps to the
 * vector in 64-bit mode: paging on with the firmware's identity map, interrupts disabled, flat
 * selectors. An AP is woken once: afterwards it is the OS's and polls no more.
 */
public final class MpWakeupMailbox {
    public static final int SIZE = 4096;
    public static final int COMMAND_OFFSET = 0;
    public static final int APIC_ID_OFFSET = 4;
    public static final int WAKEUP_VECTOR_OFFSET = 8;
    /** The bytes the firmware reads: Command, Reserved, ApicId, WakeupVector. */
    public static final int REQUEST_SIZE = 16;
    public static final int COMMAND_NOOP = 0;
    public static final int COMMAND_WAKEUP = 1;

    private MpWakeupMailbox() {
    }

    /** The mailbox's first {@link #REQUEST_SIZE} bytes as the OS left them. */
    public record Request(int command, long apicId, long wakeupVector) {
        /** Decodes the little-endian fields from at least {@link #REQUEST_SIZE} bytes. */
        public static Request decode(byte[] bytes) {
            if (bytes.length < REQUEST_SIZE) {
                throw new IllegalArgumentException("the mailbox request is " + REQUEST_SIZE + " bytes, not " + bytes.length);
            }
            return new Request((int) le(bytes, COMMAND_OFFSET, 2), le(bytes, APIC_ID_OFFSET, 4), le(bytes, WAKEUP_VECTOR_OFFSET, 8));
        }

        private static long le(byte[] b, int at, int size) {
            long v = 0;
            for (int i = size - 1; i >= 0; i--) {
                v = (v << 8) | (b[at + i] & 0xFF);
            }
            return v;
        }
    }

    /** What the firmware loop of the AP with APIC ID {@code apicId} does with the mailbox as it finds it. */
    public sealed interface Poll {
        /** Nothing for this AP (Noop, or a command for another one): it polls on. */
        record Idle() implements Poll {
        }

        /** Wakeup for this AP: it clears Command and starts at {@code vector} in 64-bit mode. */
        record Wakeup(long vector) implements Poll {
        }

        /** A command mailbox version 0 does not define, for this AP: tdemu's firmware stops the VM, saying so. */
        record UnknownCommand(int command) implements Poll {
        }

        Poll IDLE = new Idle();
    }

    /** The firmware's decision (one place) for the AP with APIC ID {@code apicId}. */
    public static Poll poll(Request request, long apicId) {
        if (request.command() == COMMAND_NOOP || request.apicId() != apicId) {
            return Poll.IDLE;
        }
        if (request.command() == COMMAND_WAKEUP) {
            return new Poll.Wakeup(request.wakeupVector());
        }
        return new Poll.UnknownCommand(request.command());
    }
}
