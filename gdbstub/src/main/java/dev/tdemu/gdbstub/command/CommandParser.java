package dev.tdemu.gdbstub.command;

import dev.tdemu.gdbstub.rsp.Hex;
import dev.tdemu.gdbstub.target.Breakpoint;
import dev.tdemu.gdbstub.target.GdbSignal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Turns packet payloads into {@link Command}s. Never throws: unknown packets become
 * {@link Command.Unsupported}, known packets with bad syntax {@link Command.Malformed}.
 */
public final class CommandParser {

    /** Parses one payload (already unescaped). */
    public Command parse(byte[] payload) {
        String s = new String(payload, StandardCharsets.ISO_8859_1);
        try {
            return parse(s);
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            return new Command.Malformed(name(s), e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private Command parse(String s) {
        if (s.isEmpty()) {
            return new Command.Unsupported("");
        }
        return switch (s.charAt(0)) {
            case '?' -> exact(s, "?", new Command.HaltReason());
            case 'g' -> exact(s, "g", new Command.ReadRegisters());
            case 'G' -> new Command.WriteRegisters(Hex.decode(s, 1, s.length()));
            case 'p' -> new Command.ReadRegister(Hex.parseInt(s.substring(1), 0xffff));
            case 'P' -> writeRegister(s);
            case 'm' -> readMemory(s);
            case 'M' -> writeMemoryHex(s);
            case 'X' -> writeMemoryBinary(s);
            case 'c' -> new Command.Continue(GdbSignal.NONE, optionalAddress(s.substring(1)));
            case 's' -> new Command.Step(GdbSignal.NONE, optionalAddress(s.substring(1)));
            case 'C', 'S' -> resumeWithSignal(s);
            case 'v' -> vPacket(s);
            case 'Z', 'z' -> breakpoint(s);
            case 'H' -> setThread(s);
            case 'T' -> new Command.ThreadAlive(ThreadId.parse(s.substring(1)));
            case 'q' -> query(s);
            case 'Q' -> set(s);
            case 'D' -> detach(s);
            case 'k' -> exact(s, "k", new Command.Kill());
            default -> new Command.Unsupported(name(s));
        };
    }

    /** A short name of the packet for logs and error messages. */
    public static String name(String s) {
        if (s.isEmpty()) {
            return "";
        }
        char c = s.charAt(0);
        if (c == 'q' || c == 'Q' || c == 'v') {
            int end = s.length();
            for (int i = 1; i < s.length(); i++) {
                char x = s.charAt(i);
                if (x == ':' || x == ',' || x == ';' || x == '?') {
                    end = i;
                    break;
                }
            }
            return s.substring(0, Math.min(end, 40));
        }
        return String.valueOf(c);
    }

    private static Command exact(String s, String expected, Command command) {
        if (!s.equals(expected)) {
            throw new IllegalArgumentException("unexpected characters after '" + expected + "'");
        }
        return command;
    }

    private static Command writeRegister(String s) {
        int eq = s.indexOf('=');
        if (eq < 0) {
            throw new IllegalArgumentException("expected P n=value");
        }
        int regnum = Hex.parseInt(s.substring(1, eq), 0xffff);
        byte[] value = Hex.decode(s, eq + 1, s.length());
        if (value.length == 0) {
            throw new IllegalArgumentException("empty register value");
        }
        return new Command.WriteRegister(regnum, value);
    }

    private static Command readMemory(String s) {
        int comma = s.indexOf(',');
        if (comma < 0) {
            throw new IllegalArgumentException("expected m addr,length");
        }
        long address = Hex.parseUnsigned(s.substring(1, comma));
        int length = Hex.parseInt(s.substring(comma + 1), Integer.MAX_VALUE);
        return new Command.ReadMemory(address, length);
    }

    private static Command writeMemoryHex(String s) {
        int comma = s.indexOf(',');
        int colon = s.indexOf(':');
        if (comma < 0 || colon < comma) {
            throw new IllegalArgumentException("expected M addr,length:data");
        }
        long address = Hex.parseUnsigned(s.substring(1, comma));
        int length = Hex.parseInt(s.substring(comma + 1, colon), Integer.MAX_VALUE);
        byte[] data = Hex.decode(s, colon + 1, s.length());
        if (data.length != length) {
            throw new IllegalArgumentException("length " + length + " but " + data.length + " data bytes");
        }
        return new Command.WriteMemory(address, data);
    }

    private static Command writeMemoryBinary(String s) {
        int comma = s.indexOf(',');
        int colon = s.indexOf(':');
        if (comma < 0 || colon < comma) {
            throw new IllegalArgumentException("expected X addr,length:data");
        }
        long address = Hex.parseUnsigned(s.substring(1, comma));
        int length = Hex.parseInt(s.substring(comma + 1, colon), Integer.MAX_VALUE);
        byte[] data = s.substring(colon + 1).getBytes(StandardCharsets.ISO_8859_1);
        if (data.length != length) {
            throw new IllegalArgumentException("length " + length + " but " + data.length + " data bytes");
        }
        return new Command.WriteMemory(address, data);
    }

    private static OptionalLong optionalAddress(String s) {
        return s.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Hex.parseUnsigned(s));
    }

    private static Command resumeWithSignal(String s) {
        int semi = s.indexOf(';');
        String sig = semi < 0 ? s.substring(1) : s.substring(1, semi);
        int signal = Hex.parseInt(sig, 0xff);
        OptionalLong address = semi < 0 ? OptionalLong.empty() : OptionalLong.of(Hex.parseUnsigned(s.substring(semi + 1)));
        return s.charAt(0) == 'C' ? new Command.Continue(signal, address) : new Command.Step(signal, address);
    }

    private static Command vPacket(String s) {
        if (s.equals("vCont?")) {
            return new Command.VContQuery();
        }
        if (s.startsWith("vCont;")) {
            return vCont(s.substring("vCont;".length()));
        }
        if (s.equals("vCont")) {
            throw new IllegalArgumentException("vCont without actions");
        }
        if (s.startsWith("vKill;")) {
            return new Command.VKill(Hex.parseInt(s.substring("vKill;".length()), Integer.MAX_VALUE));
        }
        if (s.equals("vCtrlC")) {
            return new Command.CtrlC();
        }
        if (s.equals("vStopped")) {
            return new Command.StopAcknowledged();
        }
        return new Command.Unsupported(name(s));
    }

    private static Command vCont(String actions) {
        List<Command.VContAction> list = new ArrayList<>();
        for (String a : actions.split(";", -1)) {
            if (a.isEmpty()) {
                throw new IllegalArgumentException("empty vCont action");
            }
            int colon = a.indexOf(':');
            String verb = colon < 0 ? a : a.substring(0, colon);
            ThreadId thread = colon < 0 ? null : ThreadId.parse(a.substring(colon + 1));
            Command.VContAction action = switch (verb.charAt(0)) {
                case 'c' -> noArgs(verb, new Command.VContAction(Command.VContKind.CONTINUE, 0, thread));
                case 's' -> noArgs(verb, new Command.VContAction(Command.VContKind.STEP, 0, thread));
                case 't' -> noArgs(verb, new Command.VContAction(Command.VContKind.STOP, 0, thread));
                case 'C' -> new Command.VContAction(Command.VContKind.CONTINUE,
                        Hex.parseInt(verb.substring(1), 0xff), thread);
                case 'S' -> new Command.VContAction(Command.VContKind.STEP,
                        Hex.parseInt(verb.substring(1), 0xff), thread);
                case 'r' -> range(verb, thread);
                default -> throw new IllegalArgumentException("unsupported vCont action '" + verb + "'");
            };
            list.add(action);
        }
        return new Command.VCont(list);
    }

    private static Command.VContAction range(String verb, ThreadId thread) {
        int comma = verb.indexOf(',');
        if (comma < 0) {
            throw new IllegalArgumentException("expected rSTART,END");
        }
        long start = Hex.parseUnsigned(verb.substring(1, comma));
        long end = Hex.parseUnsigned(verb.substring(comma + 1));
        if (Long.compareUnsigned(start, end) > 0) {
            throw new IllegalArgumentException("range start after its end");
        }
        return new Command.VContAction(Command.VContKind.RANGE, 0, thread, start, end);
    }

    private static Command.VContAction noArgs(String verb, Command.VContAction action) {
        if (verb.length() != 1) {
            throw new IllegalArgumentException("unexpected characters in vCont action '" + verb + "'");
        }
        return action;
    }

    private static Command breakpoint(String s) {
        String[] parts = s.substring(1).split(";", 2)[0].split(",", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("expected " + s.charAt(0) + "type,addr,kind");
        }
        int zType = Hex.parseInt(parts[0], 0xff);
        if (zType > 4) { // gdb defines Z0-Z4 (checked before the address, as an unknown packet)
            return new Command.Unsupported(s.charAt(0) + parts[0]);
        }
        long address = Hex.parseUnsigned(parts[1]);
        int kind = Hex.parseInt(parts[2], Integer.MAX_VALUE);
        Breakpoint bp = Breakpoint.fromPacket(zType, address, kind).orElseThrow();
        return s.charAt(0) == 'Z' ? new Command.InsertBreakpoint(bp) : new Command.RemoveBreakpoint(bp);
    }

    private static Command setThread(String s) {
        if (s.length() < 3) {
            throw new IllegalArgumentException("expected H op thread-id");
        }
        char op = s.charAt(1);
        if (op != 'g' && op != 'c') {
            return new Command.Unsupported("H" + op);
        }
        return new Command.SetThread(op, ThreadId.parse(s.substring(2)));
    }

    private static Command query(String s) {
        if (s.equals("qSupported") || s.startsWith("qSupported:")) {
            List<String> features = s.length() > "qSupported:".length()
                    ? Arrays.asList(s.substring("qSupported:".length()).split(";"))
                    : List.of();
            return new Command.QuerySupported(features);
        }
        switch (s) {
            case "qfThreadInfo" -> {
                return new Command.ThreadListFirst();
            }
            case "qsThreadInfo" -> {
                return new Command.ThreadListNext();
            }
            case "qC" -> {
                return new Command.CurrentThread();
            }
            case "qAttached" -> {
                return new Command.Attached(OptionalInt.empty());
            }
            case "qOffsets" -> {
                return new Command.Offsets();
            }
            case "qqemu.PhyMemMode" -> {
                return new Command.PhysicalMemoryModeQuery();
            }
            case "qWatchpointSupportInfo", "qWatchpointSupportInfo:" -> {
                return new Command.WatchpointSupportInfo();
            }
            default -> {
            }
        }
        if (s.startsWith("qAttached:")) {
            return new Command.Attached(OptionalInt.of(Hex.parseInt(s.substring("qAttached:".length()), Integer.MAX_VALUE)));
        }
        if (s.startsWith("qSymbol:")) {
            return new Command.SymbolLookup();
        }
        if (s.startsWith("qRcmd,")) {
            return new Command.Monitor(Hex.decodeText(s.substring("qRcmd,".length())));
        }
        if (s.startsWith("qThreadExtraInfo,")) {
            return new Command.ThreadExtraInfo(ThreadId.parse(s.substring("qThreadExtraInfo,".length())));
        }
        if (s.startsWith("qXfer:")) {
            return xfer(s);
        }
        return new Command.Unsupported(name(s));
    }

    private static Command xfer(String s) {
        String[] parts = s.split(":", 5);
        if (parts.length < 3) {
            throw new IllegalArgumentException("expected qXfer:object:operation:...");
        }
        if (!parts[2].equals("read")) {
            return new Command.Unsupported("qXfer:" + parts[1] + ":" + parts[2]);
        }
        if (parts.length != 5) {
            throw new IllegalArgumentException("expected qXfer:object:read:annex:offset,length");
        }
        int comma = parts[4].indexOf(',');
        if (comma < 0) {
            throw new IllegalArgumentException("expected offset,length");
        }
        long offset = Hex.parseUnsigned(parts[4].substring(0, comma));
        int length = Hex.parseInt(parts[4].substring(comma + 1), Integer.MAX_VALUE);
        return new Command.XferRead(parts[1], parts[3], offset, length);
    }

    private static Command set(String s) {
        if (s.equals("QStartNoAckMode")) {
            return new Command.StartNoAckMode();
        }
        if (s.startsWith("Qqemu.PhyMemMode:")) {
            return switch (s.substring("Qqemu.PhyMemMode:".length())) {
                case "0" -> new Command.PhysicalMemoryMode(false);
                case "1" -> new Command.PhysicalMemoryMode(true);
                default -> throw new IllegalArgumentException("Qqemu.PhyMemMode takes 0 or 1");
            };
        }
        if (s.startsWith("QNonStop:")) {
            return switch (s.substring("QNonStop:".length())) {
                case "0" -> new Command.NonStopMode(false);
                case "1" -> new Command.NonStopMode(true);
                default -> throw new IllegalArgumentException("QNonStop takes 0 or 1");
            };
        }
        if (s.startsWith("QThreadEvents:")) {
            String v = s.substring("QThreadEvents:".length());
            return switch (v) {
                case "0" -> new Command.ThreadEvents(false);
                case "1" -> new Command.ThreadEvents(true);
                default -> throw new IllegalArgumentException("QThreadEvents takes 0 or 1");
            };
        }
        return new Command.Unsupported(name(s));
    }

    private static Command detach(String s) {
        if (s.equals("D")) {
            return new Command.Detach(OptionalInt.empty());
        }
        if (s.startsWith("D;")) {
            return new Command.Detach(OptionalInt.of(Hex.parseInt(s.substring(2), Integer.MAX_VALUE)));
        }
        throw new IllegalArgumentException("expected D or D;pid");
    }
}
