package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.registers.RegisterDef;
import dev.tdemu.gdbstub.registers.RegisterFile;
import dev.tdemu.gdbstub.registers.RegisterLayout;
import dev.tdemu.gdbstub.rsp.Hex;
import dev.tdemu.gdbstub.target.DebugTarget;
import dev.tdemu.gdbstub.target.TargetException;

import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Registers of the {@code Hg} thread: {@code g} (all, in the layout's order; unavailable ones as
 * {@code xx}), {@code G} (may stop early, at a register boundary), {@code p}/{@code P} (one, by
 * number; unknown numbers and wrong sizes are refused here, before the target).
 */
final class RegisterHandler {
    private final Link link;
    private final DebugTarget target;
    private final RegisterLayout layout;
    private final ThreadHandler threads;

    RegisterHandler(Link link, DebugTarget target, RegisterLayout layout, ThreadHandler threads) {
        this.link = link;
        this.target = target;
        this.layout = layout;
        this.threads = threads;
    }

    CompletionStage<Void> handle(Command.RegisterCommand command) {
        return threads.withGeneralThread(command, tid -> switch (command) {
            case Command.ReadRegisters r -> link.reply(r, link.call("read registers", () -> target.readRegisters(tid)),
                    this::registersHex);
            case Command.WriteRegisters w -> {
                RegisterFile values = registersFromG(w.data());
                yield link.reply(w, link.call("write registers", () -> target.writeRegisters(tid, values)), v -> "OK");
            }
            case Command.ReadRegister p -> {
                if (!layout.isValidRegnum(p.regnum())) {
                    yield link.sendNow(link.errorReply(p, Link.EINVAL, "no register number " + p.regnum()));
                }
                RegisterDef def = layout.register(p.regnum());
                yield link.reply(p, link.call("read register", () -> target.readRegister(tid, p.regnum())),
                        value -> registerHex(def, value));
            }
            case Command.WriteRegister p -> {
                if (!layout.isValidRegnum(p.regnum())) {
                    yield link.sendNow(link.errorReply(p, Link.EINVAL, "no register number " + p.regnum()));
                }
                RegisterDef def = layout.register(p.regnum());
                if (p.value().length != def.byteSize()) {
                    yield link.sendNow(link.errorReply(p, Link.EINVAL, def.name() + " is " + def.byteSize()
                            + " bytes, got " + p.value().length));
                }
                yield link.reply(p, link.call("write register", () -> target.writeRegister(tid, p.regnum(), p.value())),
                        v -> "OK");
            }
        });
    }

    private String registersHex(RegisterFile file) {
        if (file == null || file.layout().gPacketSize() != layout.gPacketSize()) {
            throw new IllegalStateException("target returned registers of another layout");
        }
        StringBuilder sb = new StringBuilder(2 * layout.gPacketSize());
        for (RegisterDef def : layout.registers()) {
            appendRegister(sb, def, file.bytes(def.regnum()));
        }
        return sb.toString();
    }

    private static String registerHex(RegisterDef def, Optional<byte[]> value) {
        StringBuilder sb = new StringBuilder(2 * def.byteSize());
        appendRegister(sb, def, value == null ? Optional.empty() : value);
        return sb.toString();
    }

    private static void appendRegister(StringBuilder sb, RegisterDef def, Optional<byte[]> value) {
        if (value.isPresent() && value.get().length == def.byteSize()) {
            Hex.append(sb, value.get());
        } else {
            sb.repeat('x', 2 * def.byteSize());
        }
    }

    /** The registers a {@code G} packet covers; it may stop early but only at a register boundary. */
    private RegisterFile registersFromG(byte[] data) {
        if (data.length > layout.gPacketSize()) {
            throw new TargetException(Link.EINVAL, "G packet of " + data.length + " bytes, layout has " + layout.gPacketSize());
        }
        RegisterFile file = RegisterFile.empty(layout);
        for (RegisterDef def : layout.registers()) {
            int end = def.offset() + def.byteSize();
            if (end <= data.length) {
                file.setBytes(def.regnum(), Arrays.copyOfRange(data, def.offset(), end));
            } else if (def.offset() < data.length) {
                throw new TargetException(Link.EINVAL, "G packet ends inside register " + def.name());
            }
        }
        return file;
    }
}
