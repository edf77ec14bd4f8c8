package dev.tdemu.emulator.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class QemuCommandLineTest {
    /** What kvm-unit-tests' x86/run passes for a test with -smp 1, test arguments and its environment file. */
    static final List<String> RUNNER = List.of("--no-reboot", "-nodefaults", "-global", "kvm-pit.lost_tick_policy=discard",
            "-device", "pc-testdev", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4", "-display", "none", "-serial", "stdio",
            "-machine", "accel=tcg", "-kernel", "x86/debug.flat", "-smp", "1", "-append", "a b", "-initrd", "/tmp/tmp.env");

    static QemuRequest parse(String... args) {
        return QemuCommandLine.parse(List.of(args), "9.9.9");
    }

    static QemuRequest.Boot boot(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        if (!all.contains("-kernel")) {
            all.addAll(List.of("-kernel", "k.flat"));
        }
        return (QemuRequest.Boot) QemuCommandLine.parse(all, "9.9.9");
    }

    static void refused(String message, String... args) {
        assertThatThrownBy(() -> boot(args)).isInstanceOf(QemuOptionException.class).hasMessage(message);
    }

    @Test
    void theRunnersCommandLineBootsTheKernelWithItsArgumentsAndEnvironmentOnOneVcpuReadingStdin() {
        QemuRequest r = QemuCommandLine.parse(RUNNER, "9.9.9");
        assertThat(r).isEqualTo(new QemuRequest.Boot(Path.of("x86/debug.flat"), "a b", List.of(Path.of("/tmp/tmp.env")),
                128L << 20, 1, true, null, false));
    }

    @Test
    void withoutOptionsTheMachineHasQemusDefaultsAndStdinIsNotRead() {
        assertThat(boot()).isEqualTo(new QemuRequest.Boot(Path.of("k.flat"), "", List.of(), 128L << 20, 1, false, null, false));
    }

    @Test
    void optionsTakeOneDashOrTwo() {
        assertThat(parse("--kernel", "x.flat", "--append", "z", "--m", "64")).isEqualTo(
                new QemuRequest.Boot(Path.of("x.flat"), "z", List.of(), 64L << 20, 1, false, null, false));
    }

    @Test
    void theLastOfARepeatedOptionCountsAsInQemu() {
        QemuRequest.Boot b = boot("-kernel", "a.flat", "-kernel", "b.flat", "-append", "1", "-append", "2", "-m", "64", "-m", "256");
        assertThat(b.kernel()).isEqualTo(Path.of("b.flat"));
        assertThat(b.append()).isEqualTo("2");
        assertThat(b.memoryBytes()).isEqualTo(256L << 20);
    }

    @ParameterizedTest(name = "-m {0}")
    @CsvSource({"128, 134217728", "size=2048, 2147483648", "2G, 2147483648", "3584M, 3758096384", "4M, 4194304"})
    void memoryTakesQemusSizeSyntax(String value, long bytes) {
        assertThat(boot("-m", value).memoryBytes()).isEqualTo(bytes);
    }

    @Test
    void memoryTdemuCannotGiveAPcIsRefused() {
        refused("-m 4g: a PC kernel's RAM is at most 3584 MiB (3.5 GiB: the rest below 4 GiB is the devices' hole, and tdemu puts "
                + "no RAM above 4 GiB)", "-m", "4g");
        refused("-m 127: guest memory must be a multiple of 2 MiB between 4 MiB and 4 GiB, not 127 MiB", "-m", "127");
        refused("-m 2: guest memory must be a multiple of 2 MiB between 4 MiB and 4 GiB, not 2 MiB", "-m", "2");
        refused("-m 1G,slots=2,maxmem=4G: 'slots': memory hotplug is not modelled", "-m", "1G,slots=2,maxmem=4G");
        refused("-m lots: not a size (a number of MiB, or with a unit: 512M, 2G, 1.5G)", "-m", "lots");
    }

    @ParameterizedTest(name = "-smp {0}")
    @ValueSource(strings = {"1", "cpus=1", "1,maxcpus=1", "sockets=1,cores=1,threads=1"})
    void oneVcpuIsAccepted(String value) {
        assertThat(boot("-smp", value).cpus()).isEqualTo(1);
    }

    @ParameterizedTest(name = "-smp {0}")
    @CsvSource(delimiter = '|', value = {"2|2", "cpus=3|3", "sockets=2|2", "cores=2,threads=2|4", "64|64"})
    void applicationProcessorsUpTo64AreAccepted(String value, int cpus) {
        assertThat(boot("-smp", value).cpus()).isEqualTo(cpus);
    }

    @ParameterizedTest(name = "-smp {0}")
    @CsvSource(delimiter = '|', value = {"65|65", "1,maxcpus=65|65", "sockets=2,cores=33|66"})
    void moreThan64VcpusAreRefusedInWordsKvmUnitTestsMaxSmpProbeReads(String value, int asked) {
        refused("-smp " + value + ": Invalid SMP CPUs " + asked + ". The max CPUs supported by machine 'pc' is 64", "-smp", value);
    }

    @Test
    void badSmpValuesAreRefused() {
        refused("-smp 0: cpus must be a positive number, not '0'", "-smp", "0");
        refused("-smp two: cpus must be a positive number, not 'two'", "-smp", "two");
        refused("-smp 1,nodes=1: unknown property 'nodes'", "-smp", "1,nodes=1");
    }

    @Test
    void initrdTakesCommaSeparatedModulesWithDoubledCommasInNames() {
        assertThat(boot("-initrd", "env,b,,c").initrds()).containsExactly(Path.of("env"), Path.of("b,c"));
        refused("-initrd a,: an empty module name", "-initrd", "a,");
        refused("-initrd mod arg: module command lines ('FILE ARGS') are not supported; each module's string is its file name",
                "-initrd", "mod arg");
    }

    @ParameterizedTest(name = "-machine {0}")
    @ValueSource(strings = {"accel=tcg", "accel=kvm", "accel=kvm:tcg", "pc", "pc,accel=tcg", "type=pc-i440fx-9.2", "pc-i440fx-7.2"})
    void theMachineIsQemusPcWithAnyAccelerator(String value) {
        assertThat(boot("-machine", value).kernel()).isEqualTo(Path.of("k.flat"));
        assertThat(boot("-M", value).kernel()).isEqualTo(Path.of("k.flat"));
    }

    @Test
    void otherMachinesAndMachinePropertiesAreRefused() {
        refused("-machine q35: tdemu's machine is QEMU's pc (i440FX + PIIX); machine 'q35' is not modelled", "-machine", "q35");
        refused("-M q35,kernel-irqchip=split: tdemu's machine is QEMU's pc (i440FX + PIIX); machine 'q35' is not modelled",
                "-M", "q35,kernel-irqchip=split");
        refused("-machine pit=off: machine property 'pit' is not modelled by tdemu's pc machine", "-machine", "pit=off");
        refused("-machine vmport=on: machine property 'vmport' is not modelled by tdemu's pc machine", "-machine", "vmport=on");
        refused("-machine accel=hvf: accelerator 'hvf' is not supported (kvm and tcg are accepted; tdemu runs the guest itself "
                + "either way)", "-machine", "accel=hvf");
        refused("-machine accel=tcg,thread=single: machine property 'thread' is not modelled by tdemu's pc machine",
                "-machine", "accel=tcg,thread=single");
    }

    @Test
    void acceleratorOptionsHaveNoEffect() {
        assertThat(boot("-accel", "tcg", "-accel", "kvm", "-enable-kvm").kernel()).isEqualTo(Path.of("k.flat"));
        refused("-accel xen: accelerator 'xen' is not supported (kvm and tcg are accepted; tdemu runs the guest itself either "
                + "way)", "-accel", "xen");
        refused("-accel tcg,tb-size=64: accelerator property 'tb-size' is not supported", "-accel", "tcg,tb-size=64");
    }

    @ParameterizedTest(name = "-device {0}")
    @ValueSource(strings = {"pc-testdev", "isa-debug-exit,iobase=0xf4,iosize=0x4", "isa-debug-exit,iobase=244,iosize=4",
        "driver=pc-testdev,id=td0", "isa-debug-exit,iosize=0x4,iobase=0xF4,id=exit"})
    void theDevicesTdemusPcAlwaysHasAreAccepted(String value) {
        assertThat(boot("-device", value).kernel()).isEqualTo(Path.of("k.flat"));
    }

    @Test
    void otherDevicesAndPlacementsAreRefused() {
        refused("-device pci-testdev: device 'pci-testdev' is not modelled by tdemu (tdemu qemu -device help lists the ones it has)",
                "-device", "pci-testdev");
        refused("-device isa-debug-exit: tdemu's isa-debug-exit is at iobase=0xf4,iosize=0x4 (kvm-unit-tests' placement); another "
                + "placement is not modelled", "-device", "isa-debug-exit");
        refused("-device isa-debug-exit,iobase=0x501,iosize=2: tdemu's isa-debug-exit is at iobase=0xf4,iosize=0x4 "
                + "(kvm-unit-tests' placement); another placement is not modelled", "-device", "isa-debug-exit,iobase=0x501,iosize=2");
        refused("-device isa-debug-exit,iobase=x: iobase 'x' is not a number", "-device", "isa-debug-exit,iobase=x");
        refused("-device pc-testdev,bus=isa.0: property 'bus' of pc-testdev is not modelled", "-device", "pc-testdev,bus=isa.0");
        refused("-device hyperv-testdev: device 'hyperv-testdev' is not modelled by tdemu (tdemu qemu -device help lists the ones "
                + "it has)", "-device", "hyperv-testdev");
    }

    @Test
    void serialStdioFeedsComOneAndNothingElseIsAccepted() {
        assertThat(boot("-serial", "stdio").serialStdio()).isTrue();
        refused("-serial null: tdemu's COM1 writes to stdout; only -serial stdio (which also feeds it stdin) is accepted",
                "-serial", "null");
        refused("-serial stdio: a second serial port (COM2) is not modelled", "-serial", "stdio", "-serial", "stdio");
    }

    @Test
    void theDisplayCanOnlyBeNone() {
        assertThat(boot("-display", "none", "-vnc", "none").kernel()).isEqualTo(Path.of("k.flat"));
        refused("-display gtk: tdemu has no display; only -display none is accepted", "-display", "gtk");
        refused("-vnc :0: tdemu has no display; only -vnc none is accepted", "-vnc", ":0");
    }

    @Test
    void onlyTheKvmPitLostTickPolicyGlobalIsAccepted() {
        assertThat(boot("-global", "kvm-pit.lost_tick_policy=delay").kernel()).isEqualTo(Path.of("k.flat"));
        refused("-global isa-debug-exit.iobase=0x501: not supported (only kvm-pit.lost_tick_policy, which has no effect: tdemu has "
                + "no in-kernel PIT)", "-global", "isa-debug-exit.iobase=0x501");
    }

    @Test
    void theGdbOptionsServeTheStubAndMayHoldTheGuest() {
        assertThat(boot("-s").gdbPort()).isEqualTo(1234);
        assertThat(boot("-gdb", "tcp::4321", "-S")).extracting(QemuRequest.Boot::gdbPort, QemuRequest.Boot::startStopped)
                .containsExactly(4321, true);
        assertThat(boot("-gdb", "tcp:localhost:0").gdbPort()).isZero();
        refused("-S without -s or -gdb: tdemu has no monitor, so only gdb could start the guest", "-S");
        refused("-gdb unix:/tmp/s: only tcp::PORT on this host is supported", "-gdb", "unix:/tmp/s");
        refused("-gdb tcp:example.org:1234: only tcp::PORT on this host is supported", "-gdb", "tcp:example.org:1234");
    }

    @Test
    void cpuIsCheckedAgainstTdemusCpu() {
        assertThat(boot("-cpu", "qemu64,+x2apic").kernel()).isEqualTo(Path.of("k.flat"));
        refused("-cpu max,+vmx: tdemu's CPU does not have vmx (its engine or its devices do not implement it; see tdemu qemu -cpu "
                + "help)", "-cpu", "max,+vmx");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"-chardev", "-mon", "-nographic", "-incoming", "-overcommit", "-hda", "-bios", "-monitor", "-D"})
    void anyOtherOptionIsRefusedNamingIt(String option) {
        assertThatThrownBy(() -> parse("-kernel", "k.flat", option, "x")).isInstanceOf(QemuOptionException.class)
                .hasMessage(option + ": not an option tdemu qemu accepts (tdemu qemu -help lists them)");
    }

    @Test
    void aBareArgumentWouldBeADiskImage() {
        assertThatThrownBy(() -> parse("disk.img")).hasMessage(
                "'disk.img': a disk image is not supported (tdemu has no BIOS and no disks: give a Multiboot kernel with -kernel)");
    }

    @Test
    void aMissingArgumentAndAMissingKernelAreSaid() {
        assertThatThrownBy(() -> parse("-kernel")).hasMessage("-kernel: requires an argument");
        assertThatThrownBy(() -> parse("-nodefaults")).hasMessage(
                "no -kernel: tdemu boots a Multiboot kernel given with -kernel FILE (it has no BIOS to boot a disk from)");
    }

    @Test
    void theFirstRefusedOptionIsTheOneNamed() {
        assertThatThrownBy(() -> parse("-kernel", "k", "-smp", "65", "-device", "pci-testdev")).hasMessageStartingWith("-smp 65:");
    }

    @Test
    void helpAndVersionAnswerWithQemusFirstLineWhichTheRunnerReadsTheVersionFrom() {
        String line = "QEMU emulator version 0.0.0 (tdemu 9.9.9, a QEMU-compatible front end; not QEMU)";
        for (String option : List.of("-h", "-help", "--help")) {
            assertThat(((QemuRequest.Information) parse(option)).text()).startsWith(line + "\n")
                    .contains("-kernel FILE", "-serial stdio", "TDEMU_QEMU_OPTIONS");
        }
        assertThat(parse("-version")).isEqualTo(new QemuRequest.Information(line + "\n"));
        assertThat(parse("-kernel", "k", "-version", "-bogus")).as("QEMU answers -version where it reads it")
                .isEqualTo(new QemuRequest.Information(line + "\n"));
    }

    @Test
    void deviceHelpListsThePcTestdevTheRunnerLooksForAndNoPciTestdev() {
        for (String q : List.of("?", "help")) {
            String text = ((QemuRequest.Information) parse("-device", q)).text();
            assertThat(text).contains("name \"pc-testdev\"", "name \"isa-debug-exit\"").doesNotContain("pci-testdev");
        }
    }

    @Test
    void machineAndCpuHelpListWhatTdemuHas() {
        assertThat(((QemuRequest.Information) parse("-machine", "help")).text()).contains("pc ").contains("i440FX");
        assertThat(((QemuRequest.Information) parse("-cpu", "?")).text()).isEqualTo(QemuCpu.help());
    }
}
