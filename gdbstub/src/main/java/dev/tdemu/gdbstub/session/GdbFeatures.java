package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.Command;

/**
 * What gdb offered in {@code qSupported} and the stub takes up.
 *
 * @param multiprocess  thread-ids as {@code p1.N}, {@code W}/{@code X} with {@code ;process:1}
 * @param swbreak       stop replies may say {@code swbreak:}
 * @param hwbreak       stop replies may say {@code hwbreak:}
 * @param errorMessages error replies may be {@code E.text} (gdb 14 and later)
 */
record GdbFeatures(boolean multiprocess, boolean swbreak, boolean hwbreak, boolean errorMessages) {
    /** Before {@code qSupported}: none. */
    static final GdbFeatures NONE = new GdbFeatures(false, false, false, false);

    static GdbFeatures offeredIn(Command.QuerySupported q) {
        return new GdbFeatures(q.gdbSupports("multiprocess"), q.gdbSupports("swbreak"), q.gdbSupports("hwbreak"),
                q.gdbSupports("error-message"));
    }
}
