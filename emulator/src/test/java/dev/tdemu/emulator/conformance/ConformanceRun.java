package dev.tdemu.emulator.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.BreakpointKind;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.HostBreakpoint;
import dev.tdemu.proto.VmConfig;
import dev.tdemu.proto.Machine;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs one debug-register conformance guest (testguests/src/main/asm/dr-*.S) in the real VM and
 * reads its verdicts: each check prints {@code PASS <name>} or {@code FAIL <name>: expected X got Y}
 * and the guest ends with {@code conformance <guest>: N passed, M failed} and exit status 0 (all
 * passed) or 1. A PC kernel (testguests/src/main/multiboot/pc64-*.S) reports the same way on COM1
 * and ends through isa-debug-exit, so all passed is status 1 there.
 *
 * @param passStatus the exit status of a run whose checks all passed
 */
record ConformanceRun(String guest, GuestMode mode, DrSwitchPolicy policy, VmResult result, int passStatus) {
    static final long TIMEOUT_MS = 10_000;
    private static final Pattern SUMMARY = Pattern.compile("conformance (\\S+): (\\d+) passed, (\\d+) failed");

    /** Host breakpoints for runs that want the host's own DRs active: an execute and a write slot. */
    static final List<HostBreakpoint> HOST_BREAKPOINTS = List.of(
            HostBreakpoint.newBuilder().setAddress(0x200000).setKind(BreakpointKind.BREAKPOINT_KIND_EXECUTE).setLength(1).build(),
            HostBreakpoint.newBuilder().setAddress(0x300000).setKind(BreakpointKind.BREAKPOINT_KIND_WRITE).setLength(8).build());

    static ConformanceRun run(String guest, GuestMode mode, DrSwitchPolicy policy) {
        return run(guest, mode, policy, List.of());
    }

    static ConformanceRun run(String guest, GuestMode mode, DrSwitchPolicy policy, List<HostBreakpoint> hostBreakpoints) {
        VmConfig config = VmConfig.newBuilder().setGuestImage("builtin:" + guest).setMode(mode).setPolicy(policy)
                .addAllHostBreakpoints(hostBreakpoints).setTimeoutMs(TIMEOUT_MS).build();
        try (Vm vm = new Vm(VmSpec.from(config), Vm.Options.quiet())) {
            return new ConformanceRun(guest, mode, policy, vm.run(), 0);
        } catch (Exception e) {
            throw new AssertionError("could not run " + guest + ": " + e, e);
        }
    }

    /** Runs the PC kernel {@code kernel} (guests/multiboot/KERNEL.elf) as a VMX guest on the PC machine. */
    static ConformanceRun runPc(String kernel, DrSwitchPolicy policy, List<HostBreakpoint> hostBreakpoints, Path dir) {
        Path file = dir.resolve(kernel + ".elf");
        try (InputStream in = ConformanceRun.class.getResourceAsStream("/guests/multiboot/" + kernel + ".elf")) {
            if (in == null) {
                throw new IllegalStateException("test kernel guests/multiboot/" + kernel + ".elf missing: build testguests");
            }
            Files.write(file, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        VmConfig config = VmConfig.newBuilder().setGuestImage(file.toString()).setMachine(Machine.MACHINE_PC)
                .setMode(GuestMode.GUEST_MODE_VMX).setPolicy(policy).addAllHostBreakpoints(hostBreakpoints)
                .setTimeoutMs(TIMEOUT_MS).build();
        try (Vm vm = new Vm(VmSpec.from(config), Vm.Options.quiet())) {
            return new ConformanceRun(kernel, GuestMode.GUEST_MODE_VMX, policy, vm.run(), 1);
        } catch (Exception e) {
            throw new AssertionError("could not run " + kernel + ": " + e, e);
        }
    }

    List<String> passLines() {
        return result.console().lines().filter(l -> l.startsWith("PASS ")).toList();
    }

    List<String> failLines() {
        return result.console().lines().filter(l -> l.startsWith("FAIL ")).toList();
    }

    String describe() {
        return String.format("%s in %s under %s%n--- console ---%n%s--- end ---%noutcome %s (%s), status %d, violations %s, warnings %s",
                guest, mode, policy, result.console(), result.outcome(), result.detail(), result.exitStatus(),
                result.violations(), result.warnings());
    }

    /**
     * The guest ran every one of its {@code expectedChecks} checks and all passed, the VM saw no
     * invariant violation and KVM no WARN_ON.
     */
    void assertAllPassed(int expectedChecks) {
        assertThat(result.outcome()).as(describe()).isEqualTo(VmResult.Outcome.EXITED);
        assertThat(failLines()).as(describe()).isEmpty();
        assertThat(passLines()).as(describe()).hasSize(expectedChecks);
        assertSummary(expectedChecks, 0);
        assertThat(result.exitStatus()).as(describe()).isEqualTo(passStatus);
        assertThat(result.violations()).as(describe()).isEmpty();
        assertThat(result.warnings()).as(describe()).isEmpty();
    }

    /** The guest's own closing line agrees with what it printed. */
    void assertSummary(int passed, int failed) {
        Matcher m = SUMMARY.matcher(result.console());
        assertThat(m.find()).as(describe()).isTrue();
        assertThat(m.group(1)).as(describe()).isEqualTo(guest.startsWith("conf-mutant-") ? m.group(1) : guest);
        assertThat(Integer.parseInt(m.group(2))).as(describe()).isEqualTo(passed);
        assertThat(Integer.parseInt(m.group(3))).as(describe()).isEqualTo(failed);
    }
}
