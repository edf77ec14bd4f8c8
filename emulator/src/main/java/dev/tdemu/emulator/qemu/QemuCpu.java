package dev.tdemu.emulator.qemu;

import dev.tdemu.core.pc.CpuidModel;
import dev.tdemu.core.pc.CpuidResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code -cpu MODEL[,FEATURE...]} checked against the one CPU tdemu's pc machine has (its CPUID is
 * {@link CpuidModel#pc}). The model names QEMU users give for "a sensible CPU" (qemu64, kvm64,
 * max, host) all mean that CPU. A feature request is accepted when the CPU already is that way
 * ({@code +x2apic}, {@code -pku}) and refused when it is not: tdemu never pretends to have or
 * lack a feature. Feature names are QEMU's, which are Linux's /proc/cpuinfo flags with '-' for
 * '_' ({@code lahf_lm} and {@code lahf-lm} are the same).
 */
public final class QemuCpu {
    private QemuCpu() {}

    /** The model names that mean tdemu's CPU. */
    public static final Set<String> MODELS = Set.of("qemu64", "kvm64", "max", "host");

    /** A CPUID register holding feature flags. */
    private enum Word {
        LEAF1_EDX(0x1, 3), LEAF1_ECX(0x1, 2), LEAF6_EAX(0x6, 0), LEAF7_EBX(0x7, 1), LEAF7_ECX(0x7, 2), LEAF7_EDX(0x7, 3),
        EXT1_ECX(0x8000_0001, 2), EXT1_EDX(0x8000_0001, 3);

        final int leaf;
        final int register;

        Word(int leaf, int register) {
            this.leaf = leaf;
            this.register = register;
        }

        int value(CpuidModel model) {
            CpuidResult r = model.cpuid(0, leaf, 0, true);
            return switch (register) {
                case 0 -> r.eax();
                case 1 -> r.ebx();
                case 2 -> r.ecx();
                default -> r.edx();
            };
        }
    }

    private record Flag(Word word, int bit) {}

    /** Flag names by CPUID register and bit (SDM Vol. 2A, CPUID; AMD APM Vol. 3 for 8000_0001h). */
    private static final Map<String, Flag> FLAGS = new LinkedHashMap<>();

    private static void names(Word word, String... byBit) {
        for (int bit = 0; bit < byBit.length; bit++) {
            if (!byBit[bit].isEmpty()) {
                FLAGS.put(byBit[bit], new Flag(word, bit));
            }
        }
    }

    static {
        names(Word.LEAF1_EDX, "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "", "sep", "mtrr", "pge",
                "mca", "cmov", "pat", "pse36", "pn", "clflush", "", "ds", "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "ht",
                "tm", "ia64", "pbe");
        names(Word.LEAF1_ECX, "pni", "pclmulqdq", "dtes64", "monitor", "ds-cpl", "vmx", "smx", "est", "tm2", "ssse3", "cid",
                "", "fma", "cx16", "xtpr", "pdcm", "", "pcid", "dca", "sse4.1", "sse4.2", "x2apic", "movbe", "popcnt",
                "tsc-deadline", "aes", "xsave", "osxsave", "avx", "f16c", "rdrand", "hypervisor");
        names(Word.LEAF6_EAX, "", "", "arat");
        names(Word.LEAF7_EBX, "fsgsbase", "tsc-adjust", "sgx", "bmi1", "hle", "avx2", "", "smep", "bmi2", "erms", "invpcid",
                "rtm", "", "", "mpx", "", "avx512f", "avx512dq", "rdseed", "adx", "smap", "avx512ifma", "", "clflushopt",
                "clwb", "", "avx512pf", "avx512er", "avx512cd", "sha-ni", "avx512bw", "avx512vl");
        names(Word.LEAF7_ECX, "", "avx512vbmi", "umip", "pku", "ospke", "waitpkg", "avx512vbmi2", "", "gfni", "vaes",
                "vpclmulqdq", "avx512vnni", "avx512bitalg", "", "avx512-vpopcntdq", "", "la57", "", "", "", "", "", "rdpid",
                "", "", "cldemote", "", "movdiri", "movdir64b");
        names(Word.LEAF7_EDX, "", "", "avx512-4vnniw", "avx512-4fmaps", "fsrm", "", "", "", "", "", "md-clear", "", "", "",
                "serialize", "", "tsx-ldtrk", "", "pconfig", "arch-lbr", "", "", "", "", "", "", "spec-ctrl", "stibp", "",
                "arch-capabilities", "core-capability", "ssbd");
        names(Word.EXT1_ECX, "lahf-lm", "cmp-legacy", "svm", "extapic", "cr8legacy", "abm", "sse4a", "misalignsse",
                "3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt", "", "lwp", "fma4", "tce", "", "nodeid-msr", "", "tbm",
                "topoext", "perfctr-core", "perfctr-nb");
        names(Word.EXT1_EDX, "", "", "", "", "", "", "", "", "", "", "", "syscall", "", "", "", "", "", "", "", "", "nx", "",
                "mmxext", "", "", "fxsr-opt", "pdpe1gb", "rdtscp", "", "lm", "3dnowext", "3dnow");
    }

    private static final Map<String, String> ALIASES = Map.of("sse3", "pni", "sse4-1", "sse4.1", "sse4-2", "sse4.2", "xd",
            "nx", "i64", "lm", "sha", "sha-ni");

    /** Boolean properties that change nothing tdemu models (see {@link #check}). */
    private static final Set<String> NO_EFFECT_SWITCHES = Set.of("migratable", "check", "enforce", "host-phys-bits");

    /**
     * Checks a {@code -cpu} argument; returns normally when tdemu's CPU is what it asks for.
     *
     * @throws QemuOptionException naming the first part tdemu cannot honour
     */
    public static void check(String spec) {
        String[] parts = spec.split(",", -1);
        String model = parts[0];
        if (!MODELS.contains(model)) {
            throw new QemuOptionException("-cpu " + model + ": tdemu has one CPU model, which -cpu qemu64, kvm64, max and "
                    + "host all select; named QEMU CPU models are not modelled (see tdemu qemu -cpu help)");
        }
        CpuidModel cpu = CpuidModel.pc(1);
        for (int i = 1; i < parts.length; i++) {
            String part = parts[i];
            String what = "-cpu " + model + "," + part;
            if (part.isEmpty()) {
                throw new QemuOptionException(what + ": empty CPU property");
            }
            String name;
            Boolean on;
            String value = null;
            if (part.startsWith("+") || part.startsWith("-")) {
                name = part.substring(1);
                on = part.charAt(0) == '+';
            } else if (part.contains("=")) {
                name = part.substring(0, part.indexOf('='));
                value = part.substring(part.indexOf('=') + 1);
                on = switch (value.toLowerCase(Locale.ROOT)) {
                    case "on", "yes", "true" -> true;
                    case "off", "no", "false" -> false;
                    default -> null;
                };
            } else {
                name = part;
                on = true;
            }
            name = normalise(name);
            switch (name) {
                case "vendor" -> {
                    if (!"GenuineIntel".equals(value)) {
                        throw new QemuOptionException(what + ": tdemu's CPU is GenuineIntel; another vendor is not modelled");
                    }
                    continue;
                }
                case "phys-bits" -> {
                    if (!String.valueOf(cpu.features().physicalAddressBits()).equals(value)) {
                        throw new QemuOptionException(what + ": tdemu's CPU has " + cpu.features().physicalAddressBits()
                                + " physical-address bits (MAXPHYADDR), which the engine's page walks use; another width is not modelled");
                    }
                    continue;
                }
                default -> { }
            }
            if (on == null) {
                throw new QemuOptionException(FLAGS.containsKey(name) || NO_EFFECT_SWITCHES.contains(name)
                        ? what + ": '" + value + "' is not on or off"
                        : what + ": CPU property '" + name + "' is not supported (tdemu's CPU model is fixed; see tdemu qemu -cpu help)");
            }
            if (NO_EFFECT_SWITCHES.contains(name)) {
                continue;
            }
            Flag flag = FLAGS.get(name);
            if (flag == null) {
                checkFamily(what, name, on);
                continue;
            }
            boolean has = (flag.word().value(cpu) & (1 << flag.bit())) != 0;
            if (on && !has) {
                throw new QemuOptionException(what + ": tdemu's CPU does not have " + name
                        + " (its engine or its devices do not implement it; see tdemu qemu -cpu help)");
            }
            if (!on && has) {
                throw new QemuOptionException(what + ": tdemu's CPU has " + name
                        + ", and taking a feature away is not modelled (see tdemu qemu -cpu help)");
            }
        }
    }

    /** Features of whole families tdemu has none of: VMX capabilities, KVM's and Hyper-V's paravirtual ones. */
    private static void checkFamily(String what, String name, boolean on) {
        String family = name.startsWith("vmx-") ? "VMX (nested virtualization)"
                : name.startsWith("kvm") ? "KVM paravirtual features"
                : name.startsWith("hv-") ? "Hyper-V enlightenments"
                : null;
        if (family == null) {
            throw new QemuOptionException(what + ": unknown CPU feature or property '" + name + "' (see tdemu qemu -cpu help)");
        }
        if (on) {
            throw new QemuOptionException(what + ": tdemu's CPU offers no " + family);
        }
    }

    private static String normalise(String name) {
        String n = name.toLowerCase(Locale.ROOT).replace('_', '-');
        return ALIASES.getOrDefault(n, n);
    }

    /** What {@code -cpu help} prints: the model names and the flags tdemu's CPU has. */
    public static String help() {
        CpuidModel cpu = CpuidModel.pc(1);
        List<String> has = new ArrayList<>();
        FLAGS.forEach((name, flag) -> {
            if ((flag.word().value(cpu) & (1 << flag.bit())) != 0) {
                has.add(name);
            }
        });
        StringBuilder b = new StringBuilder("Available CPUs (each name selects tdemu's one CPU model, " + CpuidModel.BRAND + "):\n");
        for (String m : List.of("qemu64", "kvm64", "max", "host")) {
            b.append("x86 ").append(m).append('\n');
        }
        b.append("\nRecognized CPUID flags (the ones tdemu's CPU has; +FLAG of another one and -FLAG of these are refused):\n  ")
                .append(String.join(" ", has)).append('\n');
        return b.toString();
    }
}
