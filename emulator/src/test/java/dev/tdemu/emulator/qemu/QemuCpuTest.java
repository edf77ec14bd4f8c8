package dev.tdemu.emulator.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class QemuCpuTest {
    @ParameterizedTest(name = "-cpu {0}")
    @ValueSource(strings = {
        "qemu64", "kvm64", "max", "host",
        // kvm-unit-tests' unittests.cfg asks for these; tdemu's CPU is that way already
        "qemu64,+x2apic,+tsc-deadline", "qemu64,-pcid,-invpcid", "max,host-phys-bits", "host,migratable=no",
        "qemu64,vendor=GenuineIntel", "max,vendor=GenuineIntel", "max,vmx-mbec=off",
        // QEMU's spellings: '_' for '-', bare names, =on/=off, aliases
        "qemu64,lahf_lm", "qemu64,sse3=on", "qemu64,xd", "max,-kvmclock", "max,hv_relaxed=off", "qemu64,phys-bits=40",
        "max,check,enforce",
    })
    void modelsAndFlagsThatDescribeTdemusCpuAreAccepted(String spec) {
        assertThatCode(() -> QemuCpu.check(spec)).doesNotThrowAnyException();
    }

    @Test
    void aFlagTheCpuLacksIsRefusedNamingIt() {
        assertThatThrownBy(() -> QemuCpu.check("max,+vmx")).isInstanceOf(QemuOptionException.class).hasMessage(
                "-cpu max,+vmx: tdemu's CPU does not have vmx (its engine or its devices do not implement it; see tdemu qemu -cpu help)");
        assertThatThrownBy(() -> QemuCpu.check("qemu64,+umip")).hasMessageStartingWith("-cpu qemu64,+umip: tdemu's CPU does not have umip");
        assertThatThrownBy(() -> QemuCpu.check("qemu64,pcid=on")).hasMessageStartingWith("-cpu qemu64,pcid=on: tdemu's CPU does not have pcid");
    }

    @Test
    void takingAwayAFlagTheCpuHasIsRefused() {
        assertThatThrownBy(() -> QemuCpu.check("qemu64,-x2apic,+tsc-deadline")).hasMessage(
                "-cpu qemu64,-x2apic: tdemu's CPU has x2apic, and taking a feature away is not modelled (see tdemu qemu -cpu help)");
    }

    @Test
    void namedCpuModelsAreRefused() {
        assertThatThrownBy(() -> QemuCpu.check("IvyBridge,phys-bits=36")).hasMessage("-cpu IvyBridge: tdemu has one CPU model, "
                + "which -cpu qemu64, kvm64, max and host all select; named QEMU CPU models are not modelled (see tdemu qemu -cpu help)");
    }

    @Test
    void propertiesTdemusCpuCannotHaveAreRefused() {
        assertThatThrownBy(() -> QemuCpu.check("qemu64,vendor=AuthenticAMD")).hasMessage(
                "-cpu qemu64,vendor=AuthenticAMD: tdemu's CPU is GenuineIntel; another vendor is not modelled");
        assertThatThrownBy(() -> QemuCpu.check("max,phys-bits=36")).hasMessageStartingWith(
                "-cpu max,phys-bits=36: tdemu's CPU has 40 physical-address bits");
        assertThatThrownBy(() -> QemuCpu.check("host,hv_passthrough")).hasMessage(
                "-cpu host,hv_passthrough: tdemu's CPU offers no Hyper-V enlightenments");
        assertThatThrownBy(() -> QemuCpu.check("max,+vmx-mbec")).hasMessage("-cpu max,+vmx-mbec: tdemu's CPU offers no VMX (nested virtualization)");
        assertThatThrownBy(() -> QemuCpu.check("max,level=13")).hasMessage(
                "-cpu max,level=13: CPU property 'level' is not supported (tdemu's CPU model is fixed; see tdemu qemu -cpu help)");
        assertThatThrownBy(() -> QemuCpu.check("max,x2apic=maybe")).hasMessage("-cpu max,x2apic=maybe: 'maybe' is not on or off");
        assertThatThrownBy(() -> QemuCpu.check("max,+frobnicate")).hasMessage(
                "-cpu max,+frobnicate: unknown CPU feature or property 'frobnicate' (see tdemu qemu -cpu help)");
        assertThatThrownBy(() -> QemuCpu.check("max,,")).hasMessage("-cpu max,: empty CPU property");
    }

    @Test
    void helpListsTheModelNamesAndExactlyTheFlagsTheCpuHas() {
        String help = QemuCpu.help();
        assertThat(help).contains("x86 qemu64\n", "x86 max\n", "x86 host\n", "x86 kvm64\n");
        String flags = help.substring(help.indexOf("refused):\n") + 10).strip();
        assertThat(flags.split(" ")).contains("fpu", "sse2", "pni", "cx16", "x2apic", "tsc-deadline", "hypervisor", "arat",
                "lahf-lm", "syscall", "nx", "lm", "rdtscp", "rdpid").doesNotContain("vmx", "svm", "pcid", "xsave", "sep");
        for (String flag : flags.split(" ")) {
            assertThatCode(() -> QemuCpu.check("qemu64,+" + flag)).as(flag).doesNotThrowAnyException();
        }
    }
}
