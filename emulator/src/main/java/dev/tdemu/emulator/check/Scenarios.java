package dev.tdemu.emulator.check;

import com.google.protobuf.TextFormat;
import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.io.BadInputException;
import dev.tdemu.emulator.io.InputFiles;
import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.emulator.vm.HostWorkload;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.DebuggerBreakpoint;
import dev.tdemu.proto.ExpectedVerdicts;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Scenario;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/** The built-in scenarios and expected verdicts (testguests' scenarios/), and users' scenario files. */
public final class Scenarios {
    private Scenarios() {}

    private static String resource(String name) {
        try (InputStream in = Scenarios.class.getResourceAsStream("/scenarios/" + name)) {
            if (in == null) {
                throw new IllegalStateException("the bundled scenario file " + name + " is missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read bundled scenario file " + name, e);
        }
    }

    /** A scenario is a short text; anything larger is not one. */
    public static final long MAX_FILE_BYTES = 1L << 20;

    /** Every built-in scenario, in the order of the matrix's columns. */
    public static List<Scenario> builtin() {
        List<Scenario> out = new ArrayList<>();
        for (String line : resource("index.txt").lines().toList()) {
            if (!line.isBlank()) {
                try {
                    out.add(parse(line + ".textproto", resource(line.trim() + ".textproto")));
                } catch (ScenarioFormatException e) {
                    throw new IllegalStateException("the bundled scenario is invalid: " + e.getMessage(), e);
                }
            }
        }
        return out;
    }

    public static Scenario builtin(String name) {
        return builtin().stream().filter(s -> s.getName().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no built-in scenario '" + name + "' (known: "
                        + String.join(", ", builtin().stream().map(Scenario::getName).toList()) + ")"));
    }

    public static ExpectedVerdicts expected() {
        try {
            return TextFormat.parse(resource("expected-verdicts.textproto"), ExpectedVerdicts.class);
        } catch (TextFormat.ParseException e) {
            throw new IllegalStateException("the bundled expected-verdicts.textproto is malformed: " + e.getMessage(), e);
        }
    }

    /** Reads a user's scenario file: a regular file of at most 1 MiB of UTF-8 text holding a valid scenario. */
    public static Scenario load(Path file) throws IOException, ScenarioFormatException {
        String text;
        try {
            text = InputFiles.readUtf8(file, "a scenario file", MAX_FILE_BYTES);
        } catch (ScenarioFormatException e) {
            throw e;
        } catch (BadInputException e) {
            throw new ScenarioFormatException(e.getMessage());
        }
        return parse(file.toString(), text);
    }

    /** Reads a scenario from the bytes of a file (strict UTF-8; see {@link #parse(String, String)}). */
    public static Scenario parse(String where, byte[] bytes) throws ScenarioFormatException {
        if (bytes.length > MAX_FILE_BYTES) {
            throw new ScenarioFormatException(where + ": " + InputFiles.describeSize(bytes.length)
                    + ", more than a scenario file may have (1 MiB)");
        }
        try {
            return parse(where, InputFiles.decodeUtf8(where, bytes));
        } catch (ScenarioFormatException e) {
            throw e;
        } catch (BadInputException e) {
            throw new ScenarioFormatException(e.getMessage());
        }
    }

    /**
     * Parses and checks a scenario: everything a run would otherwise trip over later (a vCPU
     * count, a time limit, a breakpoint a VM cannot have) is refused here, with the file and the
     * problem named.
     */
    public static Scenario parse(String where, String text) throws ScenarioFormatException {
        Scenario s;
        try {
            s = TextFormat.parse(text, Scenario.class);
        } catch (TextFormat.ParseException e) {
            throw new ScenarioFormatException(where + ": not a valid Scenario textproto: " + e.getMessage());
        } catch (RuntimeException e) {
            // the text-format parser's own failures on hostile input (deep nesting, numbers out of range)
            throw new ScenarioFormatException(where + ": not a valid Scenario textproto: " + e);
        }
        if (s.getName().isEmpty()) {
            throw new ScenarioFormatException(where + ": the scenario needs a name");
        }
        if (s.getModesCount() == 0) {
            throw new ScenarioFormatException(where + ": list at least one mode (GUEST_MODE_VMX or GUEST_MODE_TD)");
        }
        for (GuestMode m : s.getModesList()) {
            if (m != GuestMode.GUEST_MODE_VMX && m != GuestMode.GUEST_MODE_TD) {
                throw new ScenarioFormatException(where + ": modes are GUEST_MODE_VMX or GUEST_MODE_TD, not " + m);
            }
        }
        if (s.getChecksCount() == 0) {
            throw new ScenarioFormatException(where + ": list the invariants the scenario judges (checks: ...)");
        }
        for (String c : s.getChecksList()) {
            invariant(where, c);
        }
        if (!s.getGuestFailure().isEmpty()) {
            invariant(where, s.getGuestFailure());
        }
        if (Integer.toUnsignedLong(s.getVcpus()) > BootStructures.MAX_VCPUS) {
            throw new ScenarioFormatException(where + ": vcpus must be 1.." + BootStructures.MAX_VCPUS + " (0 means 1), not "
                    + Integer.toUnsignedString(s.getVcpus()));
        }
        if (Long.compareUnsigned(s.getTimeoutMs(), VmSpec.MAX_TIMEOUT.toMillis()) > 0) {
            throw new ScenarioFormatException(where + ": timeout_ms must be at most " + VmSpec.MAX_TIMEOUT.toMillis() + " ("
                    + VmSpec.MAX_TIMEOUT.toDays() + " days; 0 means 30 s), not " + Long.toUnsignedString(s.getTimeoutMs()));
        }
        if (Integer.toUnsignedLong(s.getExpectedExitStatus()) > 255) {
            throw new ScenarioFormatException(where + ": expected_exit_status must be 0..255 (an exit status is a byte), not "
                    + Integer.toUnsignedString(s.getExpectedExitStatus()));
        }
        if (s.getHostBreakpointsCount() > 4) {
            throw new ScenarioFormatException(where + ": at most 4 host_breakpoints (the CPU has four slots), not "
                    + s.getHostBreakpointsCount());
        }
        for (int i = 0; i < s.getHostBreakpointsCount(); i++) {
            try {
                HostWorkload.validate(HostBreakpoint.fromProto(s.getHostBreakpoints(i)));
            } catch (IllegalArgumentException e) {
                throw new ScenarioFormatException(where + ": host_breakpoints " + (i + 1) + ": " + e.getMessage());
            }
        }
        for (int i = 0; i < s.getDebugger().getBreakpointsCount(); i++) {
            DebuggerBreakpoint bp = s.getDebugger().getBreakpoints(i);
            String what = where + ": debugger breakpoints " + (i + 1);
            switch (bp.getKind()) {
                case BREAKPOINT_KIND_EXECUTE, BREAKPOINT_KIND_WRITE, BREAKPOINT_KIND_READ_WRITE -> { }
                default -> throw new ScenarioFormatException(what + ": kind must be BREAKPOINT_KIND_EXECUTE, "
                        + "BREAKPOINT_KIND_WRITE or BREAKPOINT_KIND_READ_WRITE, not " + bp.getKind());
            }
            int length = bp.getLength();
            if (length != 0 && length != 1 && length != 2 && length != 4 && length != 8) {
                throw new ScenarioFormatException(what + ": length must be 1, 2, 4 or 8, not " + Integer.toUnsignedString(length));
            }
            if (bp.getSymbol().isEmpty() && bp.getAddress() == 0) {
                throw new ScenarioFormatException(what + ": give a symbol or an address");
            }
        }
        return s;
    }

    /**
     * The address of each debugger breakpoint in {@code image}: its address, or its symbol looked
     * up in the image's symbol table; a symbol the image lacks is refused, naming both. A PC
     * kernel ({@code image} null) takes addresses only.
     */
    public static List<Long> debuggerAddresses(Scenario s, ElfImage image) throws ScenarioFormatException {
        List<Long> out = new ArrayList<>();
        for (DebuggerBreakpoint bp : s.getDebugger().getBreakpointsList()) {
            if (bp.getSymbol().isEmpty()) {
                out.add(bp.getAddress());
            } else if (image == null) {
                throw new ScenarioFormatException("scenario " + s.getName() + ": the debugger breakpoint on symbol '"
                        + bp.getSymbol() + "' cannot be set: a Multiboot kernel's symbols are not read; give its address");
            } else {
                OptionalLong a = image.symbol(bp.getSymbol());
                if (a.isEmpty()) {
                    throw new ScenarioFormatException("scenario " + s.getName() + ": the debugger breakpoint on symbol '"
                            + bp.getSymbol() + "' cannot be set: " + image.name() + " has no such symbol");
                }
                out.add(a.getAsLong());
            }
        }
        return out;
    }

    /**
     * The exit status a scenario's guest must end with: the scenario's, or when it gives none 0
     * for tdemu's own guests and 1 for a PC kernel (isa-debug-exit's (0 << 1) | 1, which
     * kvm-unit-tests' tests give when every check passed).
     */
    public static int expectedExitStatus(Scenario s, boolean pcKernel) {
        return s.hasExpectedExitStatus() ? s.getExpectedExitStatus() : pcKernel ? 1 : 0;
    }

    private static void invariant(String where, String name) throws ScenarioFormatException {
        try {
            Invariant.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new ScenarioFormatException(where + ": unknown invariant '" + name + "' (known: "
                    + java.util.Arrays.toString(Invariant.values()) + ")");
        }
    }
}
