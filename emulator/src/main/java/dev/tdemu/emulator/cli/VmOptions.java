package dev.tdemu.emulator.cli;

import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.vm.EnumSpelling;
import dev.tdemu.emulator.vm.TraceWriter;
import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.proto.BreakpointKind;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.HostBreakpoint;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.VmConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The options that describe a VM, shared by `run` and `check --guest`. */
final class VmOptions {
    @Option(names = "--mode", defaultValue = "vmx", paramLabel = "vmx|td", description = "Guest kind. Default: ${DEFAULT-VALUE}.")
    String mode;

    @Option(names = "--debug-td", description = "Make the TD a debug TD (ATTRIBUTES.DEBUG): the host may see its registers.")
    boolean debugTd;

    @Option(names = "--policy", defaultValue = "upstream", paramLabel = "POLICY",
            description = "KVM DR switch policy: pre-tdx, v1-skip-restore, v5-as-posted, dr7-only, upstream. Default: ${DEFAULT-VALUE}.")
    String policy;

    @Option(names = "--tdx-dr", defaultValue = "init-on-exit", paramLabel = "BEHAVIOUR",
            description = "TDX module DR behaviour on TD exit: init-on-exit, restore-host-except-dr7, leave-guest-state. Default: ${DEFAULT-VALUE}.")
    String tdxDr;

    @Option(names = "--vcpus", defaultValue = "1", description = "Number of vCPUs (each on its own physical CPU). Default: ${DEFAULT-VALUE}.")
    int vcpus;

    @Option(names = "--memory", defaultValue = "64M", paramLabel = "SIZE", description = "Guest RAM, e.g. 64M, 1G. Default: ${DEFAULT-VALUE}.")
    String memory;

    @Option(names = "--timeout", paramLabel = "DURATION",
            description = "Stop the guest after this long (e.g. 500ms, 10s, 2m; 0 = no limit). Default: 10s, or no limit with --gdb.")
    String timeout;

    /** The time limit when --timeout is not given. */
    String defaultTimeout = "10s";

    @Option(names = "--trace", paramLabel = "FILE", description = "Write every exit as a protobuf record (see tdemu trace show).")
    Path trace;

    @Option(names = "--host-watch", paramLabel = "ADDR[:LEN[:w|rw]]",
            description = "A host data breakpoint (default 8 bytes, writes) in host data 0x300000..0x3ff000; repeatable.")
    List<String> hostWatches = new ArrayList<>();

    @Option(names = "--host-break", paramLabel = "ADDR", description = "A host execute breakpoint in host text 0x200000..0x300000; repeatable.")
    List<String> hostBreaks = new ArrayList<>();

    @Option(names = {"-v", "--verbose"}, description = "Summarise the run on stderr even when nothing went wrong.")
    boolean verbose;

    private final List<AutoCloseable> opened = new ArrayList<>();
    private final List<Vm.ExitObserver> observers = new ArrayList<>();

    VmConfig toConfig(String guest) throws IOException {
        VmConfig.Builder c = VmConfig.newBuilder().setGuestImage(guest)
                .setMode(switch (mode.toLowerCase(Locale.ROOT)) {
                    case "vmx" -> GuestMode.GUEST_MODE_VMX;
                    case "td" -> GuestMode.GUEST_MODE_TD;
                    default -> throw new IllegalArgumentException("--mode must be vmx or td, not '" + mode + "'");
                })
                .setPolicy(enumValue(DrSwitchPolicy.class, "DR_SWITCH_POLICY_", policy, "--policy"))
                .setTdxDr(enumValue(TdxDrBehaviour.class, "TDX_DR_BEHAVIOUR_", tdxDr, "--tdx-dr"))
                .setVcpus(vcpus).setDebugTd(debugTd).setMemoryBytes(Sizes.parse(memory))
                .setTimeoutMs(Durations.parse(timeout != null ? timeout : defaultTimeout).toMillis());
        for (String w : hostWatches) {
            c.addHostBreakpoints(parseWatch(w));
        }
        for (String b : hostBreaks) {
            c.addHostBreakpoints(HostBreakpoint.newBuilder().setAddress(Sizes.parseAddress(b))
                    .setKind(BreakpointKind.BREAKPOINT_KIND_EXECUTE).setLength(1));
        }
        VmConfig config = c.build();
        if (trace != null) {
            TraceWriter writer = new TraceWriter(trace, config, Unicorn.engineVersion().toString());
            opened.add(writer);
            observers.add(writer);
        }
        return config;
    }

    static HostBreakpoint parseWatch(String text) {
        String[] parts = text.split(":");
        if (parts.length > 3) {
            throw new IllegalArgumentException("--host-watch takes ADDR[:LEN[:w|rw]], not '" + text + "'");
        }
        int length = parts.length > 1 ? Integer.parseInt(parts[1]) : 8;
        BreakpointKind kind = BreakpointKind.BREAKPOINT_KIND_WRITE;
        if (parts.length > 2) {
            kind = switch (parts[2]) {
                case "w" -> BreakpointKind.BREAKPOINT_KIND_WRITE;
                case "rw" -> BreakpointKind.BREAKPOINT_KIND_READ_WRITE;
                default -> throw new IllegalArgumentException("--host-watch access must be w or rw, not '" + parts[2] + "'");
            };
        }
        return HostBreakpoint.newBuilder().setAddress(Sizes.parseAddress(parts[0])).setKind(kind).setLength(length).build();
    }

    static <E extends Enum<E>> E enumValue(Class<E> type, String prefix, String text, String option) {
        return EnumSpelling.parse(type, prefix, text).orElseThrow(() -> new IllegalArgumentException(
                option + " must be one of " + String.join(", ", EnumSpelling.spellings(type, prefix)) + ", not '" + text + "'"));
    }

    List<Vm.ExitObserver> observers() {
        return observers;
    }

    void closeObservers() throws IOException {
        for (AutoCloseable c : opened) {
            try {
                c.close();
            } catch (IOException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }
        opened.clear();
    }
}
