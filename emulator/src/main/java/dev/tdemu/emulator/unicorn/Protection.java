package dev.tdemu.emulator.unicorn;

/** Access rights of a mapped range ({@code uc_prot}): any combination of read, write, execute. */
public record Protection(boolean read, boolean write, boolean execute) {
    public static final Protection NONE = new Protection(false, false, false);
    public static final Protection R = new Protection(true, false, false);
    public static final Protection RW = new Protection(true, true, false);
    public static final Protection RX = new Protection(true, false, true);
    public static final Protection RWX = new Protection(true, true, true);

    /** The {@code UC_PROT_*} bits: READ 1, WRITE 2, EXEC 4. */
    public int bits() {
        return (read ? 1 : 0) | (write ? 2 : 0) | (execute ? 4 : 0);
    }

    @Override
    public String toString() {
        return (read ? "r" : "-") + (write ? "w" : "-") + (execute ? "x" : "-");
    }
}
