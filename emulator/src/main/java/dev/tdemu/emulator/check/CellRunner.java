package dev.tdemu.emulator.check;

import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.core.invariant.Violation;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.io.BadInputException;
import dev.tdemu.emulator.unicorn.X86Reg;
import dev.tdemu.emulator.vm.DebugEvent;
import dev.tdemu.emulator.vm.DebugListener;
import dev.tdemu.emulator.vm.DebugSession;
import dev.tdemu.emulator.vm.ExitEvent;
import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.CellResult;
import dev.tdemu.proto.DebuggerBreakpoint;
import dev.tdemu.proto.FaultInjection;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Scenario;
import dev.tdemu.proto.Verdict;
import dev.tdemu.proto.VmConfig;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import dev.tdemu.core.kvm.ExitObservation;

/**
 * Runs one cell: builds the VM the scenario describes, runs it (with a scripted debugger when the
 * scenario has one), and judges it by the invariants the scenario names. PASS, or FAIL with the
 * first violated invariant and the exit where it happened, or ERROR when the run itself failed.
 */
public final class CellRunner {
    /** Exits kept around the first violation for `check --scenario` (a few before, a few after). */
    public static final int CONTEXT_BEFORE = 3, CONTEXT_AFTER = 2;

    /**
     * A cell's result together with the exits around its first violation, and (when asked for) every
     * exit of every vCPU as {@link PolicyDiff} compares them.
     */
    public record Outcome(CellResult result, List<ExitEvent> context, VmResult vm, Observations observations) {}

    /** Every vCPU's exits in order (the i-th of a vCPU numbered i + 1). */
    public record Observations(Map<Integer, List<ExitObservation>> byVcpu) {
        static final Observations NONE = new Observations(Map.of());
    }

    private CellRunner() {}

    public static Outcome run(Cell cell, FaultInjection fault) {
        return run(cell, fault, false);
    }

    /** As {@link #run(Cell, FaultInjection)}; with {@code observe} the outcome keeps every exit's observation. */
    public static Outcome run(Cell cell, FaultInjection fault, boolean observe) {
        long start = System.nanoTime();
        Scenario s = cell.scenario();
        Set<Invariant> judged = new HashSet<>();
        s.getChecksList().forEach(c -> judged.add(Invariant.valueOf(c)));
        Judge judge = new Judge(judged);
        CellResult.Builder r = CellResult.newBuilder().setKey(cell.key());
        VmResult vm;
        ScriptedDebugger debugger = null;
        Recorder recorder = observe ? new Recorder() : null;
        boolean pcKernel;
        try {
            VmConfig config = config(cell);
            VmSpec spec = VmSpec.from(config);
            pcKernel = spec.isPc();
            try (Vm machine = new Vm(spec, new Vm.Options(null, recorder == null ? List.of(judge) : List.of(judge, recorder), fault)
                    .withPolicy(cell.policy()))) {
                if (s.hasDebugger() && s.getDebugger().getBreakpointsCount() > 0) {
                    debugger = new ScriptedDebugger(s, spec.image());
                    debugger.session = machine.attachDebugger(debugger, true);
                }
                vm = machine.run();
            }
        } catch (Exception | Error e) {
            String why = e instanceof BadInputException || e instanceof IllegalArgumentException ? e.getMessage() : e.toString();
            return new Outcome(r.setVerdict(Verdict.ERROR).setDetail("cannot run: " + why)
                    .setDurationMs((System.nanoTime() - start) / 1_000_000).build(), List.of(), null, Observations.NONE);
        }
        r.setExits(vm.exits()).setDurationMs((System.nanoTime() - start) / 1_000_000);
        List<String> debuggerProblems = debugger == null ? List.of() : debugger.problems();
        if (judge.first != null) {
            Violation v = judge.firstViolation;
            r.setVerdict(Verdict.FAIL).setInvariant(v.invariant().name()).setFirstFailingExit(judge.first.sequence())
                    .setDetail(v.detail());
        } else if (!debuggerProblems.isEmpty() && judged.contains(Invariant.DEBUGGER_BREAKPOINTS_EXACT)) {
            r.setVerdict(Verdict.FAIL).setInvariant(Invariant.DEBUGGER_BREAKPOINTS_EXACT.name())
                    .setDetail(String.join("; ", debuggerProblems));
        } else if (vm.outcome() != VmResult.Outcome.EXITED) {
            r.setVerdict(Verdict.ERROR).setDetail("guest " + vm.outcome().name().toLowerCase() + ": " + vm.detail());
        } else if (vm.exitStatus() != Scenarios.expectedExitStatus(s, pcKernel)) {
            String tail = lastLines(vm.console(), 2);
            if (s.getGuestFailure().isEmpty()) {
                r.setVerdict(Verdict.ERROR).setDetail("guest exited with status " + vm.exitStatus() + ": " + tail);
            } else {
                r.setVerdict(Verdict.FAIL).setInvariant(s.getGuestFailure())
                        .setDetail("the guest saw it (exit status " + vm.exitStatus() + "): " + tail);
            }
        } else {
            r.setVerdict(Verdict.PASS);
        }
        return new Outcome(r.build(), judge.context(), vm, recorder == null ? Observations.NONE : recorder.observations());
    }

    static VmConfig config(Cell cell) {
        Scenario s = cell.scenario();
        VmConfig.Builder c = VmConfig.newBuilder().setGuestImage(s.getGuestImage()).setMode(cell.mode())
                .setVcpus(s.getVcpus() == 0 ? 1 : s.getVcpus())
                .setTimeoutMs(s.getTimeoutMs() == 0 ? 30_000 : s.getTimeoutMs()).addAllHostBreakpoints(s.getHostBreakpointsList());
        if (cell.mode() == GuestMode.GUEST_MODE_TD) {
            c.setTdxDr(cell.tdxDr()).setDebugTd(s.getDebugTd());
        }
        return c.build();
    }

    private static String lastLines(String text, int n) {
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        return String.join(" / ", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    /**
     * Keeps every exit as an {@link ExitObservation}, per vCPU, for `check --diff`. External
     * interrupts are left out: they come from the host's timing (the run loop's kicks), not from the
     * guest or the policy, and two runs of one policy have them at different points.
     */
    private static final class Recorder implements Vm.ExitObserver {
        private final Map<Integer, List<ExitObservation>> byVcpu = new TreeMap<>();

        @Override
        public synchronized void onExit(ExitEvent e) {
            if (e.reason() == dev.tdemu.core.vmx.ExitReason.EXTERNAL_INTERRUPT) {
                return;
            }
            List<ExitObservation> mine = byVcpu.computeIfAbsent(e.vcpu(), k -> new ArrayList<>());
            mine.add(new ExitObservation(mine.size() + 1, e.reason(), e.entry().sequence(), e.exit().sequence(),
                    e.entry().hwInGuest(), e.exit().hwAfterSequence(), e.entry().debugctlInGuest(),
                    e.exit().debugctlAfterSequence(), e.violations()));
        }

        synchronized Observations observations() {
            return new Observations(Map.copyOf(byVcpu));
        }
    }

    /** Finds the first violation of a judged invariant and keeps the exits around it. */
    private static final class Judge implements Vm.ExitObserver {
        final Set<Invariant> judged;
        final ArrayDeque<ExitEvent> before = new ArrayDeque<>();
        final List<ExitEvent> after = new ArrayList<>();
        volatile ExitEvent first;
        Violation firstViolation;

        Judge(Set<Invariant> judged) {
            this.judged = judged;
        }

        @Override
        public synchronized void onExit(ExitEvent e) {
            if (first != null) {
                if (after.size() < CONTEXT_AFTER) {
                    after.add(e);
                }
                return;
            }
            for (Violation v : e.violations()) {
                if (judged.contains(v.invariant())) {
                    first = e;
                    firstViolation = v;
                    return;
                }
            }
            if (before.size() == CONTEXT_BEFORE) {
                before.removeFirst();
            }
            before.addLast(e);
        }

        synchronized List<ExitEvent> context() {
            if (first == null) {
                return List.of();
            }
            List<ExitEvent> out = new ArrayList<>(before);
            out.add(first);
            out.addAll(after);
            return out;
        }
    }

    /**
     * A debugger that does what the scenario says: inserts its breakpoints while the VM waits at
     * its first instruction, then counts every stop and checks it (kind, address, DR6), resuming
     * with RF past instruction breakpoints. With {@code expect_refusal} every insertion must be
     * refused with a reason and the guest must then run as if undisturbed.
     */
    static final class ScriptedDebugger implements DebugListener {
        private record Armed(DebuggerBreakpoint bp, long address, DebugEvent.Kind kind) {}

        final Scenario scenario;
        final ElfImage image;
        DebugSession session;
        private final List<Armed> armed = new ArrayList<>();
        private final Map<Armed, Integer> hits = new HashMap<>();
        private final List<String> problems = new ArrayList<>();
        private boolean started;

        /** Every breakpoint's address, resolved before the VM runs (a missing symbol is refused here, not mid-run). */
        private final List<Long> addresses;

        ScriptedDebugger(Scenario scenario, ElfImage image) throws ScenarioFormatException {
            this.scenario = scenario;
            this.image = image;
            this.addresses = Scenarios.debuggerAddresses(scenario, image);
        }

        @Override
        public synchronized void stopped(DebugEvent e) {
            if (!started) {
                started = true;
                insertAll();
                resume(e.vcpu(), false);
                return;
            }
            Armed match = null;
            for (Armed a : armed) {
                if (a.kind == e.kind() && a.address == e.address()) {
                    match = a;
                }
            }
            if (match == null) {
                problems.add(String.format("unexpected stop %s at 0x%x (RIP 0x%x)", e.kind(), e.address(), e.rip()));
            } else {
                hits.merge(match, 1, Integer::sum);
                int slotBits = (int) (e.dr6() & 0xF);
                if (Integer.bitCount(slotBits) != 1) {
                    problems.add(String.format("stop at 0x%x reported DR6=0x%x, not exactly one slot", e.address(), e.dr6()));
                }
            }
            resume(e.vcpu(), e.kind() == DebugEvent.Kind.HARDWARE_BREAKPOINT);
        }

        private void insertAll() {
            for (int i = 0; i < scenario.getDebugger().getBreakpointsCount(); i++) {
                DebuggerBreakpoint bp = scenario.getDebugger().getBreakpoints(i);
                long address = addresses.get(i);
                DebugEvent.Kind kind = switch (bp.getKind()) {
                    case BREAKPOINT_KIND_EXECUTE -> DebugEvent.Kind.HARDWARE_BREAKPOINT;
                    case BREAKPOINT_KIND_WRITE -> DebugEvent.Kind.WATCH_WRITE;
                    case BREAKPOINT_KIND_READ_WRITE -> DebugEvent.Kind.WATCH_ACCESS;
                    default -> throw new IllegalArgumentException("debugger breakpoint kind " + bp.getKind());
                };
                DebugSession.Result r = session.insertHardware(kind, address, Math.max(1, bp.getLength()));
                if (scenario.getDebugger().getExpectRefusal()) {
                    if (r.ok()) {
                        problems.add(String.format("the debugger's breakpoint at 0x%x was accepted, but this TD must refuse it",
                                address));
                    } else if (r.message().isBlank()) {
                        problems.add("the refusal gave no reason");
                    }
                } else if (!r.ok()) {
                    problems.add(String.format("inserting the breakpoint at 0x%x failed: %s", address, r.message()));
                } else {
                    Armed a = new Armed(bp, address, kind);
                    armed.add(a);
                    hits.put(a, 0);
                }
            }
        }

        private void resume(int vcpu, boolean pastInstructionBreakpoint) {
            if (pastInstructionBreakpoint) {
                session.writeRegister(vcpu, X86Reg.RFLAGS, session.readRegister(vcpu, X86Reg.RFLAGS) | 0x10000);
            }
            Map<Integer, DebugSession.Action> all = new HashMap<>();
            for (int i = 0; i < session.vcpuCount(); i++) {
                all.put(i, DebugSession.Action.CONTINUE);
            }
            DebugSession.Result r = session.resume(all);
            if (!r.ok()) {
                problems.add("resuming failed: " + r.message());
            }
        }

        synchronized List<String> problems() {
            List<String> out = new ArrayList<>(problems);
            for (Armed a : armed) {
                int expected = a.bp.getExpectedHits();
                int got = hits.getOrDefault(a, 0);
                if (got != expected) {
                    out.add(String.format("%s at 0x%x%s stopped %d time(s), expected %d", a.kind, a.address,
                            a.bp.getSymbol().isEmpty() ? "" : " (" + a.bp.getSymbol() + ")", got, expected));
                }
            }
            return out;
        }
    }
}
