package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.rsp.RspOutbound;
import dev.tdemu.gdbstub.target.DebugTarget;
import dev.tdemu.gdbstub.target.PhysicalMemory;
import dev.tdemu.gdbstub.target.TargetException;

import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Memory as the {@code Hg} thread sees it: {@code m} (at most half the packet size per reply,
 * partial reads allowed, hex framed in one pass by the encoder), {@code M}/{@code X}, and QEMU's
 * physical memory mode where the target has it ({@link DebugTarget#physicalMemory()}).
 */
final class MemoryHandler {
    private final Link link;
    private final DebugTarget target;
    private final ThreadHandler threads;
    private final Optional<PhysicalMemory> physical;

    MemoryHandler(Link link, DebugTarget target, ThreadHandler threads) {
        this.link = link;
        this.target = target;
        this.threads = threads;
        this.physical = target.physicalMemory();
    }

    CompletionStage<Void> handle(Command.MemoryCommand command) {
        return switch (command) {
            case Command.ReadMemory m -> threads.withGeneralThread(m, tid -> read(m, tid));
            case Command.WriteMemory m -> threads.withGeneralThread(m, tid -> {
                if (m.data().length == 0) {
                    return link.sendNow("OK"); // gdb's probe for X
                }
                return link.reply(m, link.call("write memory", () -> target.writeMemory(tid, m.address(), m.data())),
                        v -> "OK");
            });
            case Command.PhysicalMemoryMode p -> {
                physical.ifPresent(mode -> mode.enable(p.on()));
                yield link.sendNow(physical.isPresent() ? "OK" : "");
            }
            case Command.PhysicalMemoryModeQuery q -> link.sendNow(physical.map(mode -> mode.enabled() ? "1" : "0").orElse(""));
        };
    }

    private CompletionStage<Void> read(Command.ReadMemory m, int tid) {
        if (m.length() == 0) {
            return link.sendNow("");
        }
        int length = Math.min(m.length(), link.options().packetSize() / 2);
        return link.replyWith(m, link.call("read memory", () -> target.readMemory(tid, m.address(), length)), bytes -> {
            if (bytes == null || bytes.length == 0) {
                throw new TargetException(Link.EFAULT, "cannot read memory at 0x" + Long.toHexString(m.address()));
            }
            return new RspOutbound.HexPacket(bytes.length > length ? Arrays.copyOf(bytes, length) : bytes);
        });
    }
}
