package dev.tdemu.emulator.cli;

import dev.tdemu.emulator.io.BadInputException;
import dev.tdemu.emulator.io.InputFiles;
import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.vm.EnumSpelling;
import dev.tdemu.emulator.vm.TraceWriter;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.BreakpointKind;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.HostBreakpoint;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.VmConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The options that describe a VM run by `run`, each checked against its limits before anything runs. */
final class VmOptions {
    @Option(names = "--mode", defaultValue = "vmx", paramLabel = "vmx|td|sev-es", description = "Guest kind (sev-es: an AMD SEV-ES guest, policy SEV_UPSTREAM unless --policy says). Default: ${DEFAULT-VALUE}.")
    String mode;

    @Option(names = "--debug-td", description = "Make the TD a debug TD (ATTRIBUTES.DEBUG): the host may see its registers.")
    boolean debugTd;

    @Option(names = "--policy", paramLabel = "POLICY",
            description = "KVM policy: a built-in policy file (pre-tdx, v1-skip-restore, v5-as-posted, dr7-only, upstream, "
                    + "pre-tdx-no-dr7-clear, debugctl-at-vcpu-load, tdx-merged, upstream-6-17) that runs the guest's mode. "
                    + "Default: upstream.")
    String policy;

    @Option(names = "--policy-file", paramLabel = "FILE.textproto",
            description = "Run under your own KVM variant instead (a tdemu.KvmPolicy in text format; see docs/examples/).")
    Path policyFile;

    /** The policy program when it is not one of DrSwitchPolicy's five (set by {@link #toConfig}), else null. */
    dev.tdemu.core.kvm.PolicyProgram program;

    @Option(names = "--tdx-dr", defaultValue = "init-on-exit", paramLabel = "BEHAVIOUR",
            description = "TDX module DR behaviour on TD exit: init-on-exit, restore-host-except-dr7, leave-guest-state. Default: ${DEFAULT-VALUE}.")
    String tdxDr;

    @Option(names = "--vcpus", defaultValue = "1", paramLabel = "N",
            description = "Number of vCPUs (each on its own physical CPU): 1.." + BootStructures.MAX_VCPUS + " for tdemu's own guests, "
                    + "which all start at the entry point; 1.." + VmSpec.PC_MAX_VCPUS + " for a PC kernel, whose application "
                    + "processors wait for INIT and a start-up IPI. Default: ${DEFAULT-VALUE}.")
    int vcpus;

    @Option(names = "--memory", paramLabel = "SIZE",
            description = "Guest RAM: a multiple of 2M from 4M to 4G, e.g. 64M, 1G. Default: 64M, or 128M for a PC kernel.")
    String memory;

    @Option(names = "--machine", defaultValue = "auto", paramLabel = "auto|pc|tdemu",
            description = "The machine: pc (a Multiboot kernel on a PC: serial, APIC, fw_cfg, ...) or tdemu (tdemu's own "
                    + "guest ABI). Default: ${DEFAULT-VALUE}: pc for a file with a Multiboot header.")
    String machine;

    @Option(names = "--append", paramLabel = "ARGS", description = "A PC kernel's command line (Multiboot cmdline).")
    String append;

    @Option(names = "--initrd", paramLabel = "FILE", description = "A PC kernel's boot module; repeatable (Multiboot modules).")
    List<Path> initrds = new ArrayList<>();

    @Option(names = "--serial", defaultValue = "out", paramLabel = "out|stdio",
            description = "COM1 of a PC: out (what the kernel writes goes to stdout) or stdio (it also reads stdin). Default: ${DEFAULT-VALUE}.")
    String serial;

    @Option(names = "--timeout", paramLabel = "DURATION",
            description = "Stop the guest after this long (e.g. 500ms, 10s, 2m; at most 168h; 0 = no limit). Default: 10s, or no limit with --gdb.")
    String timeout;

    /** The time limit when --timeout is not given. */
    String defaultTimeout = "10s";

    @Option(names = "--trace", paramLabel = "FILE", description = "Write every exit as a protobuf record (see tdemu trace show). "
            + "FILE is replaced when the run ends (written beside it until then); it may not be the guest.")
    Path trace;

    @Option(names = "--trace-limit", defaultValue = "1G", paramLabel = "SIZE",
            description = "The most the trace may take (at least 64K); later exits are counted, not recorded, and the "
                    + "trace says it was cut. Default: ${DEFAULT-VALUE}.")
    String traceLimit;

    @Option(names = "--host-watch", paramLabel = "ADDR[:LEN[:w|rw]]",
            description = "A host data breakpoint (LEN 1, 2, 4 or 8, default 8; writes by default) in host data 0x300000..0x3ff000; repeatable.")
    List<String> hostWatches = new ArrayList<>();

    @Option(names = "--host-break", paramLabel = "ADDR", description = "A host execute breakpoint in host text 0x200000..0x300000; repeatable.")
    List<String> hostBreaks = new ArrayList<>();

    @Option(names = {"-v", "--verbose"}, description = "Summarise the run on stderr even when nothing went wrong.")
    boolean verbose;

    VmConfig toConfig(String guest) throws IOException, BadInputException {
        if (vcpus < 1 || vcpus > VmSpec.MAX_VCPUS) {
            throw new IllegalArgumentException("--vcpus must be 1.." + VmSpec.PC_MAX_VCPUS + " (1.." + BootStructures.MAX_VCPUS
                    + " for tdemu's own guests), not " + vcpus);
        }
        long memoryBytes = memory == null ? 0 : Sizes.parse(memory, "--memory");
        if (memory != null && !VmSpec.memoryAllowed(memoryBytes)) {
            throw new IllegalArgumentException("--memory must be a multiple of 2M from 4M to "
                    + (BootStructures.MAX_RAM >> 30) + "G, not '" + memory + "'");
        }
        Duration limit = Durations.parse(timeout != null ? timeout : defaultTimeout, "--timeout", VmSpec.MAX_TIMEOUT);
        VmConfig.Builder c = VmConfig.newBuilder().setGuestImage(guest)
                .setMode(switch (mode.toLowerCase(Locale.ROOT)) {
                    case "vmx" -> GuestMode.GUEST_MODE_VMX;
                    case "td" -> GuestMode.GUEST_MODE_TD;
                    case "sev-es" -> GuestMode.GUEST_MODE_SEV_ES;
                    default -> throw new IllegalArgumentException("--mode must be vmx, td or sev-es, not '" + mode + "'");
                })
                .setTdxDr(enumValue(TdxDrBehaviour.class, "TDX_DR_BEHAVIOUR_", tdxDr, "--tdx-dr"))
                .setVcpus(vcpus).setDebugTd(debugTd).setMemoryBytes(memoryBytes)
                .setTimeoutMs(limit.toMillis())
                .setMachine(switch (machine.toLowerCase(Locale.ROOT)) {
                    case "auto" -> Machine.MACHINE_UNSPECIFIED;
                    case "pc" -> Machine.MACHINE_PC;
                    case "tdemu" -> Machine.MACHINE_TDEMU;
                    default -> throw new IllegalArgumentException("--machine must be auto, pc or tdemu, not '" + machine + "'");
                })
                .setSerialStdin(switch (serial.toLowerCase(Locale.ROOT)) {
                    case "out" -> false;
                    case "stdio" -> true;
                    default -> throw new IllegalArgumentException("--serial must be out or stdio, not '" + serial + "'");
                });
        resolvePolicy(c);
        if (append != null) {
            c.setKernelCommandLine(append);
        }
        for (Path initrd : initrds) {
            c.addInitrd(initrd.toString());
        }
        for (String w : hostWatches) {
            c.addHostBreakpoints(parseWatch(w));
        }
        for (String b : hostBreaks) {
            c.addHostBreakpoints(HostBreakpoint.newBuilder().setAddress(Sizes.parseAddress(b, "--host-break"))
                    .setKind(BreakpointKind.BREAKPOINT_KIND_EXECUTE).setLength(1));
        }
        if (trace != null) {
            traceLimitBytes();
        }
        return c.build();
    }

    private long traceLimitBytes() {
        long bytes = Sizes.parse(traceLimit, "--trace-limit");
        if (bytes < TraceWriter.MIN_LIMIT) {
            throw new IllegalArgumentException("--trace-limit must be at least 64K (the header and the end record "
                    + "need room), not '" + traceLimit + "'");
        }
        return bytes;
    }

    /**
     * Starts the --trace file, if one was asked for: only once the guest has loaded, so a run that
     * fails before it ran leaves an existing trace alone, and never over one of the run's inputs.
     *
     * @param inputs the files the run reads (the guest image), which the trace must not replace
     */
    TraceWriter openTrace(VmConfig config, List<Path> inputs, PrintWriter err) throws IOException, BadInputException {
        if (trace == null) {
            return null;
        }
        for (Path input : inputs) {
            if (InputFiles.sameFile(trace, input)) {
                throw new BadInputException("--trace " + trace + " is the same file as " + input
                        + ", which this run reads; give the trace another name");
            }
        }
        long limit = traceLimitBytes();
        return TraceWriter.create(trace, TraceWriter.header(config, Unicorn.engineVersion().toString()), limit, recorded -> {
            err.printf("tdemu: the trace reached --trace-limit %s after %d exit(s); it keeps those and records that it "
                    + "was cut (later exits are only counted)%n", traceLimit, recorded);
            err.flush();
        });
    }

    static HostBreakpoint parseWatch(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length > 3 || parts[0].isBlank() || (parts.length > 1 && parts[1].isBlank())) {
            throw new IllegalArgumentException("--host-watch takes ADDR[:LEN[:w|rw]], e.g. 0x300100:8:w, not '" + text + "'");
        }
        int length = 8;
        if (parts.length > 1) {
            length = switch (parts[1].trim()) {
                case "1" -> 1;
                case "2" -> 2;
                case "4" -> 4;
                case "8" -> 8;
                default -> throw new IllegalArgumentException("--host-watch length must be 1, 2, 4 or 8, not '" + parts[1] + "'");
            };
        }
        BreakpointKind kind = BreakpointKind.BREAKPOINT_KIND_WRITE;
        if (parts.length > 2) {
            kind = switch (parts[2]) {
                case "w" -> BreakpointKind.BREAKPOINT_KIND_WRITE;
                case "rw" -> BreakpointKind.BREAKPOINT_KIND_READ_WRITE;
                default -> throw new IllegalArgumentException("--host-watch access must be w or rw, not '" + parts[2] + "'");
            };
        }
        return HostBreakpoint.newBuilder().setAddress(Sizes.parseAddress(parts[0], "--host-watch")).setKind(kind)
                .setLength(length).build();
    }

    /**
     * --policy or --policy-file into the config: one of the seed's five stays a DrSwitchPolicy (as
     * traces always recorded it); any other is {@link #program}, named in policy_name. A policy
     * that cannot run the guest's mode is refused here, before the VM is built.
     */
    private void resolvePolicy(VmConfig.Builder c) throws IOException, BadInputException {
        if (policy != null && policyFile != null) {
            throw new IllegalArgumentException("--policy and --policy-file: give one");
        }
        dev.tdemu.core.kvm.PolicyProgram p;
        if (policyFile != null) {
            p = dev.tdemu.emulator.check.PolicyFiles.load(policyFile);
        } else {
            String name = policy != null ? policy : c.getMode() == GuestMode.GUEST_MODE_SEV_ES ? "sev-upstream" : "upstream";
            p = dev.tdemu.core.kvm.BuiltinPolicies.named(name).orElseThrow(() -> new IllegalArgumentException(
                    "--policy must be one of " + String.join(", ", dev.tdemu.core.kvm.BuiltinPolicies.names().stream()
                            .map(dev.tdemu.emulator.check.PolicyFiles::spelling).toList())
                            + " (or --policy-file FILE), not '" + name + "'"));
        }
        dev.tdemu.core.kvm.GuestWorld world = switch (c.getMode()) {
            case GUEST_MODE_TD -> dev.tdemu.core.kvm.GuestWorld.TDX;
            case GUEST_MODE_SEV_ES -> dev.tdemu.core.kvm.GuestWorld.SEV_ES;
            default -> dev.tdemu.core.kvm.GuestWorld.VMX;
        };
        if (!p.runs(world)) {
            throw new IllegalArgumentException("policy " + p.name() + " (" + p.source() + ") does not run "
                    + switch (world) { case TDX -> "TD"; case SEV_ES -> "SEV-ES"; case VMX -> "VMX"; }
                    + " guests; it describes " + p.worlds()
                    + (world == dev.tdemu.core.kvm.GuestWorld.SEV_ES ? " (SEV-ES guests run under an SEV_* policy)" : ""));
        }
        boolean seed = policyFile == null && java.util.Arrays.stream(dev.tdemu.core.kvm.DrSwitchPolicy.values())
                .anyMatch(s -> s.name().equals(p.name()));
        if (seed) {
            c.setPolicy(DrSwitchPolicy.valueOf("DR_SWITCH_POLICY_" + p.name()));
            program = null;
        } else {
            c.setPolicyName(p.name());
            program = p;
        }
    }

    static <E extends Enum<E>> E enumValue(Class<E> type, String prefix, String text, String option) {
        return EnumSpelling.parse(type, prefix, text).orElseThrow(() -> new IllegalArgumentException(
                option + " must be one of " + String.join(", ", EnumSpelling.spellings(type, prefix)) + ", not '" + text + "'"));
    }
}
