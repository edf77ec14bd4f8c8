package dev.tdemu.emulator.qemu;

import dev.tdemu.emulator.platform.PcMachine;
import dev.tdemu.emulator.vm.VmSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The subset of qemu-system-x86_64's command line that kvm-unit-tests' runner ({@code x86/run},
 * {@code run_tests.sh}) passes, mapped onto tdemu's pc machine; everything else is refused with
 * a one-line message naming the option. Options take one dash or two ({@code --no-reboot});
 * single-valued options may repeat and the last one counts, as in QEMU; {@code -machine} options
 * merge. Pure: no file is opened here (the caller checks the kernel and initrds exist).
 *
 * <p>Accepted with no effect, because tdemu's pc machine already is what they ask for or they
 * concern something tdemu does not have: {@code -nodefaults} (no default devices to drop),
 * {@code -no-reboot} (tdemu never reboots: a triple fault ends the run), {@code -display none},
 * {@code -vnc none} (no display), {@code -machine accel=kvm|tcg}, {@code -accel}, {@code
 * -enable-kvm} (tdemu is its own accelerator), {@code -global kvm-pit.lost_tick_policy=...}
 * (there is no in-kernel PIT; tdemu's 8254 runs on the virtual clock), {@code -device
 * isa-debug-exit,iobase=0xf4,iosize=0x4} and {@code -device pc-testdev} (both always present),
 * {@code -cpu qemu64|kvm64|max|host} with flags the CPU has or lacks anyway (see {@link QemuCpu}).
 */
public final class QemuCommandLine {
    /** The QEMU version tdemu claims: none (kvm-unit-tests' runner reads MAJOR.MINOR.MICRO from it). */
    public static final String QEMU_VERSION = "0.0.0";

    private QemuCommandLine() {}

    /** Option names (one dash) that take no argument. */
    private static final List<String> SWITCHES = List.of("-nodefaults", "-no-reboot", "-enable-kvm", "-s", "-S", "-h",
            "-help", "-version");
    /** Option names (one dash) that take one argument. */
    private static final List<String> WITH_ARGUMENT = List.of("-kernel", "-append", "-initrd", "-m", "-smp", "-machine", "-M",
            "-cpu", "-device", "-serial", "-display", "-vnc", "-global", "-accel", "-gdb");

    /**
     * Reads a command line.
     *
     * @param tdemuVersion printed by -version and -help
     * @throws QemuOptionException naming the first option tdemu does not accept or cannot honour
     */
    public static QemuRequest parse(List<String> args, String tdemuVersion) {
        Parser p = new Parser(tdemuVersion);
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (!arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
                throw new QemuOptionException("'" + arg + "': a disk image is not supported (tdemu has no BIOS and no disks: "
                        + "give a Multiboot kernel with -kernel)");
            }
            String name = arg.startsWith("--") ? arg.substring(1) : arg;
            String value = null;
            if (WITH_ARGUMENT.contains(name)) {
                if (i + 1 == args.size()) {
                    throw new QemuOptionException(name + ": requires an argument");
                }
                value = args.get(++i);
            } else if (!SWITCHES.contains(name)) {
                throw new QemuOptionException(name + ": not an option tdemu qemu accepts (tdemu qemu -help lists them)");
            }
            QemuRequest.Information info = p.option(name, value);
            if (info != null) {
                return info;
            }
        }
        return p.boot();
    }

    /** The state of one command line as it is read. */
    private static final class Parser {
        private final String tdemuVersion;
        private Path kernel;
        private String append = "";
        private List<Path> initrds = List.of();
        private long memory = PcMachine.DEFAULT_MEMORY;
        private int cpus = 1;
        private int serialPorts;
        private boolean serialStdio;
        private Integer gdbPort;
        private boolean startStopped;

        Parser(String tdemuVersion) {
            this.tdemuVersion = tdemuVersion;
        }

        /** Takes one option; returns what to print instead of booting, if the option asks for that. */
        QemuRequest.Information option(String name, String value) {
            switch (name) {
                case "-h", "-help" -> {
                    return new QemuRequest.Information(help(tdemuVersion));
                }
                case "-version" -> {
                    return new QemuRequest.Information(versionLine(tdemuVersion) + "\n");
                }
                case "-nodefaults", "-no-reboot", "-enable-kvm" -> { }
                case "-kernel" -> kernel = Path.of(value);
                case "-append" -> append = value;
                case "-initrd" -> initrds = initrds(value);
                case "-m" -> memory = memory(value);
                case "-smp" -> cpus = smp(value);
                case "-machine", "-M" -> {
                    if (isHelp(value)) {
                        return new QemuRequest.Information(MACHINE_HELP);
                    }
                    machine(name, value);
                }
                case "-accel" -> accel(value);
                case "-cpu" -> {
                    if (isHelp(value)) {
                        return new QemuRequest.Information(QemuCpu.help());
                    }
                    QemuCpu.check(value);
                }
                case "-device" -> {
                    if (isHelp(value)) {
                        return new QemuRequest.Information(DEVICE_HELP);
                    }
                    device(value);
                }
                case "-serial" -> serial(value);
                case "-display", "-vnc" -> {
                    if (!value.equals("none")) {
                        throw new QemuOptionException(name + " " + value + ": tdemu has no display; only " + name + " none is accepted");
                    }
                }
                case "-global" -> global(value);
                case "-s" -> gdbPort = 1234;
                case "-gdb" -> gdbPort = gdb(value);
                case "-S" -> startStopped = true;
                default -> throw new IllegalStateException("option " + name + " is listed but not handled");
            }
            return null;
        }

        QemuRequest.Boot boot() {
            if (kernel == null) {
                throw new QemuOptionException("no -kernel: tdemu boots a Multiboot kernel given with -kernel FILE (it has no BIOS "
                        + "to boot a disk from)");
            }
            if (startStopped && gdbPort == null) {
                throw new QemuOptionException("-S without -s or -gdb: tdemu has no monitor, so only gdb could start the guest");
            }
            return new QemuRequest.Boot(kernel, append, initrds, memory, cpus, serialStdio, gdbPort, startStopped);
        }

        private static boolean isHelp(String value) {
            return value.equals("help") || value.equals("?");
        }

        /** {@code FILE[,FILE...]}: Multiboot modules; ",," is a comma inside a name, as in QEMU. */
        private static List<Path> initrds(String value) {
            List<Path> out = new ArrayList<>();
            for (String item : splitCommas(value)) {
                if (item.isEmpty()) {
                    throw new QemuOptionException("-initrd " + value + ": an empty module name");
                }
                if (item.contains(" ")) {
                    throw new QemuOptionException("-initrd " + value + ": module command lines ('FILE ARGS') are not supported; "
                            + "each module's string is its file name");
                }
                out.add(Path.of(item));
            }
            return out;
        }

        /** {@code [size=]SIZE}: MiB unless a unit says otherwise. */
        private static long memory(String value) {
            Map<String, String> props = properties("-m", value, "size");
            for (String key : props.keySet()) {
                if (!key.equals("size")) {
                    throw new QemuOptionException("-m " + value + ": '" + key + "': memory hotplug is not modelled");
                }
            }
            if (!props.containsKey("size")) {
                throw new QemuOptionException("-m " + value + ": no size");
            }
            long bytes = QemuSize.parse(props.get("size"), 'M', "-m");
            if (!VmSpec.memoryAllowed(bytes)) {
                throw new QemuOptionException("-m " + value + ": " + VmSpec.memoryRule() + ", not " + QemuSize.describe(bytes));
            }
            if (bytes > VmSpec.PC_MAX_MEMORY) {
                throw new QemuOptionException("-m " + value + ": " + VmSpec.pcMemoryRule());
            }
            return bytes;
        }

        /**
         * {@code [cpus=]N[,maxcpus=M][,sockets=..][,dies=..][,clusters=..][,cores=..][,threads=..]}. The
         * message for too many vCPUs ends as QEMU's does ("... SMP CPUs N ... is MAX"), which
         * kvm-unit-tests' {@code --probe-maxsmp} reads.
         */
        private static int smp(String value) {
            Map<String, String> props = properties("-smp", value, "cpus");
            Map<String, Integer> n = new LinkedHashMap<>();
            for (var e : props.entrySet()) {
                switch (e.getKey()) {
                    case "cpus", "maxcpus", "drawers", "books", "sockets", "dies", "clusters", "modules", "cores", "threads" -> {
                        n.put(e.getKey(), positive("-smp " + value, e.getKey(), e.getValue()));
                    }
                    default -> throw new QemuOptionException("-smp " + value + ": unknown property '" + e.getKey() + "'");
                }
            }
            long topology = 1;
            for (String level : List.of("drawers", "books", "sockets", "dies", "clusters", "modules", "cores", "threads")) {
                topology *= n.getOrDefault(level, 1);
            }
            long cpus = n.containsKey("cpus") ? n.get("cpus") : n.containsKey("maxcpus") ? n.get("maxcpus") : topology;
            long max = n.containsKey("maxcpus") ? n.get("maxcpus") : Math.max(cpus, topology);
            if (cpus > VmSpec.PC_MAX_VCPUS || max > VmSpec.PC_MAX_VCPUS) {
                long asked = Math.max(cpus, max);
                // QEMU's words, which kvm-unit-tests' runner reads to learn the limit.
                throw new QemuOptionException("-smp " + value + ": Invalid SMP CPUs " + asked
                        + ". The max CPUs supported by machine 'pc' is " + VmSpec.PC_MAX_VCPUS);
            }
            return (int) cpus;
        }

        private static int positive(String what, String key, String text) {
            try {
                int v = Integer.parseInt(text);
                if (v >= 1) {
                    return v;
                }
            } catch (NumberFormatException e) {
                // said below
            }
            throw new QemuOptionException(what + ": " + key + " must be a positive number, not '" + text + "'");
        }

        /** {@code [type=]NAME[,accel=A[:B]]}: tdemu's machine is QEMU's pc. */
        private static void machine(String name, String value) {
            Map<String, String> props = properties(name, value, "type");
            for (var e : props.entrySet()) {
                switch (e.getKey()) {
                    case "type" -> {
                        String type = e.getValue();
                        if (!type.equals("pc") && !type.startsWith("pc-i440fx-")) {
                            throw new QemuOptionException(name + " " + value + ": tdemu's machine is QEMU's pc (i440FX + PIIX); "
                                    + "machine '" + type + "' is not modelled");
                        }
                    }
                    case "accel" -> accelerators(name + " " + value, e.getValue());
                    default -> throw new QemuOptionException(name + " " + value + ": machine property '" + e.getKey()
                            + "' is not modelled by tdemu's pc machine");
                }
            }
        }

        /** {@code -accel NAME}: tdemu is the accelerator whatever it is called. */
        private static void accel(String value) {
            Map<String, String> props = properties("-accel", value, "accel");
            for (String key : props.keySet()) {
                if (!key.equals("accel")) {
                    throw new QemuOptionException("-accel " + value + ": accelerator property '" + key + "' is not supported");
                }
            }
            accelerators("-accel " + value, props.getOrDefault("accel", ""));
        }

        private static void accelerators(String what, String list) {
            for (String a : list.split(":", -1)) {
                if (!a.equals("kvm") && !a.equals("tcg")) {
                    throw new QemuOptionException(what + ": accelerator '" + a + "' is not supported (kvm and tcg are accepted; "
                            + "tdemu runs the guest itself either way)");
                }
            }
        }

        /** {@code DRIVER[,PROP=VALUE...]}: the devices tdemu's pc machine always has. */
        private static void device(String value) {
            Map<String, String> props = properties("-device", value, "driver");
            String driver = props.getOrDefault("driver", "");
            for (var e : props.entrySet()) {
                String key = e.getKey();
                boolean known = key.equals("driver") || key.equals("id")
                        || (driver.equals("isa-debug-exit") && (key.equals("iobase") || key.equals("iosize")));
                if (!known) {
                    throw new QemuOptionException("-device " + value + ": property '" + key + "' of " + driver + " is not modelled");
                }
            }
            switch (driver) {
                case "isa-debug-exit" -> {
                    // QEMU's own default placement is 0x501, 2 ports; tdemu's is kvm-unit-tests'.
                    long iobase = number("-device " + value, "iobase", props.getOrDefault("iobase", "0x501"));
                    long iosize = number("-device " + value, "iosize", props.getOrDefault("iosize", "2"));
                    if (iobase != PcMachine.DEBUG_EXIT_BASE || iosize != PcMachine.DEBUG_EXIT_SIZE) {
                        throw new QemuOptionException(String.format("-device %s: tdemu's isa-debug-exit is at iobase=0x%x,iosize=0x%x "
                                + "(kvm-unit-tests' placement); another placement is not modelled", value,
                                PcMachine.DEBUG_EXIT_BASE, PcMachine.DEBUG_EXIT_SIZE));
                    }
                }
                case "pc-testdev" -> { }
                default -> throw new QemuOptionException("-device " + value + ": device '" + driver + "' is not modelled by tdemu "
                        + "(tdemu qemu -device help lists the ones it has)");
            }
        }

        private static long number(String what, String key, String text) {
            try {
                return text.startsWith("0x") || text.startsWith("0X") ? Long.parseLong(text.substring(2), 16) : Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new QemuOptionException(what + ": " + key + " '" + text + "' is not a number");
            }
        }

        /** The first -serial is COM1: tdemu's COM1 writes to stdout whatever it is told, and -serial stdio also feeds it stdin. */
        private void serial(String value) {
            serialPorts++;
            if (serialPorts > 1) {
                throw new QemuOptionException("-serial " + value + ": a second serial port (COM2) is not modelled");
            }
            if (!value.equals("stdio")) {
                throw new QemuOptionException("-serial " + value + ": tdemu's COM1 writes to stdout; only -serial stdio (which "
                        + "also feeds it stdin) is accepted");
            }
            serialStdio = true;
        }

        private static void global(String value) {
            if (!value.startsWith("kvm-pit.lost_tick_policy=")) {
                throw new QemuOptionException("-global " + value + ": not supported (only kvm-pit.lost_tick_policy, which has no "
                        + "effect: tdemu has no in-kernel PIT)");
            }
        }

        /** {@code tcp::PORT}, {@code tcp:localhost:PORT} or {@code tcp:127.0.0.1:PORT}: the GDB stub listens on localhost. */
        private static int gdb(String value) {
            String[] p = value.split(":", -1);
            boolean local = p.length == 3 && p[0].equals("tcp")
                    && (p[1].isEmpty() || p[1].equals("localhost") || p[1].equals("127.0.0.1"));
            if (local) {
                try {
                    int port = Integer.parseInt(p[2]);
                    if (port >= 0 && port <= 65535) {
                        return port;
                    }
                } catch (NumberFormatException e) {
                    // said below
                }
            }
            throw new QemuOptionException("-gdb " + value + ": only tcp::PORT on this host is supported");
        }
    }

    /**
     * QEMU's {@code key=value,key=value} with an implied key for a first item without '='; ",,"
     * is a literal comma. A key given twice: the last counts.
     */
    static Map<String, String> properties(String option, String value, String impliedKey) {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> items = splitCommas(value);
        for (int i = 0; i < items.size(); i++) {
            String item = items.get(i);
            int eq = item.indexOf('=');
            if (eq < 0) {
                if (i != 0) {
                    throw new QemuOptionException(option + " " + value + ": '" + item + "' is not KEY=VALUE");
                }
                out.put(impliedKey, item);
            } else {
                out.put(item.substring(0, eq), item.substring(eq + 1));
            }
        }
        return out;
    }

    private static List<String> splitCommas(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == ',' && i + 1 < value.length() && value.charAt(i + 1) == ',') {
                cur.append(',');
                i++;
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }

    /** The first line of -help and -version, which kvm-unit-tests' runner reads the QEMU version from. */
    public static String versionLine(String tdemuVersion) {
        return "QEMU emulator version " + QEMU_VERSION + " (tdemu " + tdemuVersion + ", a QEMU-compatible front end; not QEMU)";
    }

    private static final String DEVICE_HELP = """
            Misc devices:
            name "isa-debug-exit", bus ISA, desc "always present in tdemu at iobase=0xf4,iosize=0x4"
            name "pc-testdev", bus ISA, desc "always present in tdemu"
            """;

    private static final String MACHINE_HELP = """
            Supported machines are:
            pc                   Standard PC (i440FX + PIIX, 1996), as tdemu models it for Multiboot kernels (default)
            """;

    static String help(String tdemuVersion) {
        return versionLine(tdemuVersion) + "\n" + """
                usage: tdemu qemu [options]

                Boots a Multiboot kernel (kvm-unit-tests' x86/*.flat) on tdemu's pc machine with the options of
                qemu-system-x86_64 that kvm-unit-tests' runner passes; any other option is refused. tdemu's own
                options (--policy, --host-break, --trace, ...) come from the environment variable
                TDEMU_QEMU_OPTIONS. Exit status as QEMU's: (V << 1) | 1 when the guest writes V to
                isa-debug-exit, 0 when it powers off, triple-faults or halts for good, 2 for a refused option,
                134 when tdemu cannot go on (something not modelled), 128 + N on signal N.

                -kernel FILE          the Multiboot kernel (required)
                -append STRING        its command line, after the kernel's name as QEMU passes it
                -initrd FILE[,FILE]   boot modules (kvm-unit-tests: the environment file)
                -m [size=]SIZE        guest RAM: MiB, or with a unit (512M, 2G); a multiple of 2 MiB up to 3.5 GiB; default 128M
                -smp [cpus=]N[,...]   vCPUs: 1 (application processors are not implemented yet)
                -cpu MODEL[,+F,-F]    qemu64, kvm64, max or host: all tdemu's one CPU; flags it has (+) or lacks (-)
                -serial stdio         COM1 also reads stdin (it always writes to stdout)
                -machine [type=]pc[,accel=kvm|tcg]   -M too; accel has no effect
                -accel kvm|tcg, -enable-kvm          no effect: tdemu runs the guest itself
                -device isa-debug-exit,iobase=0xf4,iosize=0x4   present anyway (QEMU's default placement is refused)
                -device pc-testdev    present anyway
                -device help          the devices tdemu has
                -display none, -vnc none, -nodefaults, -no-reboot   no effect (no display, no default devices; tdemu
                                      never reboots: a triple fault ends the run)
                -global kvm-pit.lost_tick_policy=...   no effect: tdemu has no in-kernel PIT
                -s, -gdb tcp::PORT    serve the GDB remote protocol on localhost:1234 / PORT
                -S                    with -s or -gdb: hold the guest at its first instruction until gdb continues it
                -cpu help, -machine help, -version, -help
                """;
    }
}
