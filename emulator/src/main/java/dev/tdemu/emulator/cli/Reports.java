package dev.tdemu.emulator.cli;

import dev.tdemu.core.invariant.Violation;
import dev.tdemu.core.kvm.KvmWarning;
import dev.tdemu.emulator.vm.ExitEvent;
import dev.tdemu.emulator.vm.VmResult;
import java.io.PrintWriter;
import java.util.LinkedHashSet;
import java.util.Set;

/** How `tdemu run` reports a VM's end on stderr. */
final class Reports {
    private Reports() {}

    /** How the run ended, in a few words ("guest exited with status 0", "guest timeout: ..."). */
    static String ending(VmResult r) {
        return r.outcome() == VmResult.Outcome.EXITED ? "guest exited with status " + r.exitStatus()
                : "guest " + r.outcome().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + ": " + r.detail();
    }

    static void printRunSummary(PrintWriter err, VmResult r, boolean verbose) {
        if (r.outcome() != VmResult.Outcome.EXITED) {
            err.println("tdemu: " + ending(r));
        } else if (verbose) {
            err.printf("tdemu: guest exited with status %d after %d exit(s)%n", r.exitStatus(), r.exits());
        }
        if (!r.violations().isEmpty()) {
            ExitEvent first = r.firstViolation();
            err.printf("tdemu: invariant violations at %d of %d exits; first at exit #%d (vCPU %d, %s, RIP 0x%x):%n",
                    r.violatingExits(), r.exits(), first.sequence(), first.vcpu(), first.reason(), first.rip());
            for (Violation v : first.violations()) {
                err.println("  " + v);
            }
        } else if (verbose) {
            err.println("tdemu: every invariant held at every exit");
        }
        Set<String> warnings = new LinkedHashSet<>();
        for (KvmWarning w : r.warnings()) {
            warnings.add(w.toString());
        }
        for (String w : warnings) {
            err.println("tdemu: KVM WARN_ON: " + w);
        }
        if (verbose && r.hostBreakpointHits() > 0) {
            err.printf("tdemu: host breakpoints fired %d time(s) in the host workload%n", r.hostBreakpointHits());
        }
        err.flush();
    }
}
