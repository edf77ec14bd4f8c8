package dev.tdemu.emulator.pc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.vm.Console;
import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.VmConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the PC test kernels of testguests (testguests/src/main/multiboot, built into the classpath
 * resources guests/multiboot/) through the real VM on the PC machine, and reads what they report
 * on COM1: "key value" lines, and the checks of pc32.inc / conformance.inc ("PASS name",
 * "FAIL name: ...", "conformance KERNEL: N passed, M failed", then isa-debug-exit with 0 when all
 * passed, so the VM's exit status is 1).
 */
public final class PcKernels {
    /** isa-debug-exit 0: the exit status of a kernel all of whose checks passed ((0 << 1) | 1). */
    static final int ALL_PASSED = 1;
    private static final Pattern SUMMARY = Pattern.compile("conformance (\\S+): (\\d+) passed, (\\d+) failed");

    private PcKernels() {
    }

    /** The built kernel {@code file} of guests/multiboot/, copied into {@code dir}. */
    public static Path file(Path dir, String file) {
        Path p = dir.resolve(file);
        if (Files.exists(p)) {
            return p;
        }
        try (InputStream in = PcKernels.class.getResourceAsStream("/guests/multiboot/" + file)) {
            if (in == null) {
                throw new IllegalStateException("test kernel guests/multiboot/" + file + " missing: build testguests");
            }
            return Files.write(p, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A configuration for {@code kernel} on the PC machine (VMX, upstream KVM policy, a 20 s limit). */
    static VmConfig.Builder config(Path kernel) {
        return VmConfig.newBuilder().setGuestImage(kernel.toString()).setMachine(Machine.MACHINE_PC)
                .setMode(GuestMode.GUEST_MODE_VMX).setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM).setTimeoutMs(20_000);
    }

    static Run run(Path dir, String kernel) {
        return run(dir, kernel, c -> c);
    }

    static Run run(Path dir, String kernel, UnaryOperator<VmConfig.Builder> options) {
        return run(options.apply(config(file(dir, kernel))).build());
    }

    /** Runs the VM to its end; COM1's bytes are what the kernel wrote, unchanged. */
    static Run run(VmConfig config) {
        return run(config, List.of());
    }

    /** Runs the VM to its end with {@code observers} seeing every exit. */
    static Run run(VmConfig config, List<Vm.ExitObserver> observers) {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        try (Vm vm = new Vm(VmSpec.from(config), new Vm.Options(new Console.Sink(serial, false), observers))) {
            VmResult r = vm.run();
            return new Run(config, r, serial.toByteArray());
        } catch (Exception e) {
            throw new AssertionError("could not run " + config.getGuestImage() + ": " + e, e);
        }
    }

    /** A finished run: the VM's result and every byte the kernel wrote to COM1. */
    record Run(VmConfig config, VmResult result, byte[] serial) {
        String text() {
            return new String(serial, StandardCharsets.ISO_8859_1);
        }

        /** The values of every "key value" line with this key, in order. */
        List<String> all(String key) {
            return text().lines().filter(l -> l.startsWith(key + " ")).map(l -> l.substring(key.length() + 1)).toList();
        }

        /** The value of the one "key value" line with this key. */
        String value(String key) {
            List<String> v = all(key);
            assertThat(v).as("exactly one '%s' line%n%s", key, describe()).hasSize(1);
            return v.getFirst();
        }

        /** The one "key 0x..." line's value as a number. */
        long hex(String key) {
            String v = value(key);
            assertThat(v).as(describe()).startsWith("0x");
            return Long.parseUnsignedLong(v.substring(2), 16);
        }

        List<Long> hexes(String key) {
            return all(key).stream().map(v -> Long.parseUnsignedLong(v.substring(2), 16)).toList();
        }

        List<String> passLines() {
            return text().lines().filter(l -> l.startsWith("PASS ")).toList();
        }

        List<String> failLines() {
            return text().lines().filter(l -> l.startsWith("FAIL ")).toList();
        }

        String describe() {
            return String.format("%s%n--- COM1 ---%n%s--- end ---%noutcome %s (%s), status %d, violations %s, warnings %s",
                    config.getGuestImage(), text(), result.outcome(), result.detail(), result.exitStatus(), result.violations(),
                    result.warnings());
        }

        /** The kernel ended through isa-debug-exit with status {@code status} ((V << 1) | 1). */
        Run assertExited(int status) {
            assertThat(result.outcome()).as(describe()).isEqualTo(VmResult.Outcome.EXITED);
            assertThat(result.exitStatus()).as(describe()).isEqualTo(status);
            return this;
        }

        /**
         * The kernel ran every one of its {@code expectedChecks} checks, all passed, its closing
         * line agrees, it ended through isa-debug-exit with 0, and the VM saw no invariant
         * violation and KVM no WARN_ON.
         */
        Run assertAllPassed(int expectedChecks) {
            assertThat(failLines()).as(describe()).isEmpty();
            assertThat(passLines()).as(describe()).hasSize(expectedChecks);
            Matcher m = SUMMARY.matcher(text());
            assertThat(m.find()).as(describe()).isTrue();
            assertThat(Integer.parseInt(m.group(2))).as(describe()).isEqualTo(expectedChecks);
            assertThat(Integer.parseInt(m.group(3))).as(describe()).isZero();
            assertExited(ALL_PASSED);
            assertThat(result.violations()).as(describe()).isEmpty();
            assertThat(result.warnings()).as(describe()).isEmpty();
            return this;
        }
    }
}
