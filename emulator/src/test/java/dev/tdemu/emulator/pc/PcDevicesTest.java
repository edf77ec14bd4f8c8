package dev.tdemu.emulator.pc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.vm.VmResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The PC's devices as a kernel sees them, through the real VM: COM1 and the absent COM ports
 * (pc64-serial), isa-debug-exit (pc64-exit), and fw_cfg, unclaimed ports and MMIO, port 0x80,
 * the PM timer, CMOS, PCI mechanism 1, the PICs and the I/O APIC (pc64-platform). Each kernel
 * checks the register semantics itself; the tests compare the byte stream and the values that
 * depend on the run's configuration.
 */
@Timeout(60)
class PcDevicesTest {
    static final int SERIAL_CHECKS = 22, PLATFORM_CHECKS = 34, STRING_MMIO_CHECKS = 9;
    private static final long MiB = 1L << 20;

    @TempDir
    Path dir;

    @Test
    void com1TransmitsEveryByteValueUnchangedAndItsRegistersBehaveLikeA16550a() {
        PcKernels.Run r = PcKernels.run(dir, "pc64-serial.elf").assertAllPassed(SERIAL_CHECKS);
        byte[] expected = new byte[256 + 11];
        System.arraycopy("bytes<".getBytes(StandardCharsets.US_ASCII), 0, expected, 0, 6);
        for (int i = 0; i < 256; i++) {
            expected[6 + i] = (byte) i;
        }
        System.arraycopy(">end\n".getBytes(StandardCharsets.US_ASCII), 0, expected, 262, 5);
        assertThat(indexOf(r.serial(), expected)).as("bytes 0x00-0xff in order, none added or translated (no CR before LF)%n%s",
                r.describe()).isNotNegative();
        assertThat(r.text()).as("a write to DLL with DLAB set transmits nothing").contains("before-dlab\nafter-dlab\n")
                .as("a byte written in loopback is not transmitted").contains("before-loop\nafter-loop\n")
                .as("COM2 is absent: its transmitter goes nowhere").contains("before-com2\nafter-com2\n");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }

    /** QEMU's isa-debug-exit: the VM ends with (V << 1) | 1 whatever the port of the four and the width. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"f4:l:0, 1", "f4:b:7f, 255", "f5:w:2a, 85", "f7:l:80, 257", "f6:l:12345, 149131"})
    void aWriteToIsaDebugExitEndsTheVmWithTwiceTheValuePlusOne(String command, int status) {
        PcKernels.Run r = PcKernels.run(dir, "pc64-exit.elf", c -> c.setKernelCommandLine(command)).assertExited(status);
        assertThat(r.text()).isEqualTo("exit as asked\n");
        assertThat(r.result().detail()).contains("isa-debug-exit");
    }

    @Test
    void aWriteNextToIsaDebugExitDoesNotEndTheVm() {
        PcKernels.Run r = PcKernels.run(dir, "pc64-exit.elf", c -> c.setKernelCommandLine("f8:l:0"));
        assertThat(r.text()).isEqualTo("exit as asked\nstill running\n");
        assertThat(r.result().outcome()).as(r.describe()).isEqualTo(VmResult.Outcome.HALTED);
    }

    @ParameterizedTest(name = "{0} MiB")
    @CsvSource({"128", "32"})
    void fwCfgCmosUnclaimedPortsAndMmioThePmTimerPciAndTheInterruptControllersAnswerAsOnQemusPc(int mib) {
        PcKernels.Run r = PcKernels.run(dir, "pc64-platform.elf", c -> c.setMemoryBytes(mib * MiB))
                .assertAllPassed(PLATFORM_CHECKS);
        long ram = mib * MiB;
        assertThat(r.hex("fw_cfg.ram_size")).isEqualTo(ram);
        assertThat(r.hex("fw_cfg.files")).as("no files in the directory").isZero();
        assertThat(r.all("fw_cfg.file.size")).isEmpty();
        assertThat(r.hex("mmio.ram_end")).as("where the kernel probed past RAM").isEqualTo(ram);
        assertThat(r.hex("cmos.extended_kib")).as("CMOS 0x30/0x31: KiB above 1 MiB, at most 65535")
                .isEqualTo(Math.min((ram - MiB) / 1024, 65535));
        assertThat(r.hex("cmos.above_16m_64k")).as("CMOS 0x34/0x35: 64 KiB units above 16 MiB").isEqualTo((ram - 16 * MiB) / 65536);
    }

    /** A PC never stops a kernel for writing to ROM or to nothing, nor for ports nobody claims (pc64-rude). */
    @Test
    void aKernelWritingToRomAndAboveRamAndPokingUnclaimedPortsKeepsRunning() {
        PcKernels.Run r = PcKernels.run(dir, "pc64-rude.elf").assertExited(PcKernels.ALL_PASSED);
        assertThat(r.text()).isEqualTo("still running\n");
    }

    /** INS and OUTS, which the VMM performs, reach device memory as the CPU's own access does (pc-testdev's window). */
    @Test
    void stringPortIoWhoseMemoryOperandIsDeviceMemoryReadsAndWritesTheDevice() {
        PcKernels.run(dir, "pc64-string-mmio.elf").assertAllPassed(STRING_MMIO_CHECKS);
    }

    /** INS into guest-physical memory nothing backs: a guest memory fault naming the address, not an internal error. */
    @Test
    void stringPortIoIntoMemoryNothingBacksEndsTheVmAsAGuestMemoryFault() {
        PcKernels.Run r = PcKernels.run(dir, "pc64-ins-unbacked.elf");
        assertThat(r.result().outcome()).as(r.describe()).isEqualTo(VmResult.Outcome.MEMORY_FAULT);
        assertThat(r.result().detail()).as(r.describe()).contains("0x100000000");
        assertThat(r.text()).as(r.describe()).isEqualTo("ins\n");
    }
}
