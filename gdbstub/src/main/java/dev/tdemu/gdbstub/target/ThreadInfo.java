package dev.tdemu.gdbstub.target;

import java.util.Objects;

/**
 * One thread of the debugged target as gdb sees it: for tdemu, one vCPU.
 *
 * @param id   the gdb thread id, at least 1 (gdb reserves 0 for "any" and -1 for "all")
 * @param name a short human-readable name shown by {@code info threads}, e.g. {@code "vcpu0"}
 */
public record ThreadInfo(int id, String name) {
    public ThreadInfo {
        if (id < 1) {
            throw new IllegalArgumentException("thread ids start at 1, got " + id);
        }
        Objects.requireNonNull(name, "name");
    }
}
