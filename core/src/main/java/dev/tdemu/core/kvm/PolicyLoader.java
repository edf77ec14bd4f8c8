package dev.tdemu.core.kvm;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.TextFormat;
import com.google.protobuf.TextFormatParseInfoTree;
import com.google.protobuf.TextFormatParseLocation;
import dev.tdemu.core.x86.Debugctl;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a policy file (a {@code tdemu.KvmPolicy} in protobuf text format) into a
 * {@link PolicyProgram}, refusing anything {@link PolicyExecutor} could not run exactly: unknown
 * actions or conditions, an action in a phase it does not belong to, a missing, repeated or
 * misplaced phase, a step that is both an action and a conditional. Every refusal is a
 * {@link PolicyFileException} naming the file and the line (and column where protobuf knows it).
 */
public final class PolicyLoader {

    /** Files larger than this are refused before parsing (the built-in ones are a few KiB). */
    public static final int MAX_FILE_CHARS = 256 * 1024;

    private static final Pattern NAME = Pattern.compile("[A-Z][A-Z0-9_]{0,63}");

    private static final FieldDescriptor PHASE = dev.tdemu.proto.KvmPolicy.getDescriptor().findFieldByName("phase");
    private static final FieldDescriptor STEP = dev.tdemu.proto.PolicyPhase.getDescriptor().findFieldByName("step");
    private static final FieldDescriptor THEN = dev.tdemu.proto.PolicyStep.getDescriptor().findFieldByName("then");
    private static final FieldDescriptor OTHERWISE = dev.tdemu.proto.PolicyStep.getDescriptor().findFieldByName("otherwise");
    private static final FieldDescriptor WHEN = dev.tdemu.proto.PolicyStep.getDescriptor().findFieldByName("when");
    private static final FieldDescriptor DO = dev.tdemu.proto.PolicyStep.getDescriptor().findFieldByName("do");

    private PolicyLoader() {
    }

    /**
     * Parses {@code text}, the content of the file called {@code file} (used only in messages).
     *
     * @throws PolicyFileException when the text is not a policy tdemu can run
     */
    public static PolicyProgram parse(String text, String file) {
        if (text.length() > MAX_FILE_CHARS) {
            throw new PolicyFileException(file, 1, 0, "a policy file is at most " + MAX_FILE_CHARS
                    + " characters; this one has " + text.length());
        }
        TextFormatParseInfoTree.Builder treeBuilder = TextFormatParseInfoTree.builder();
        dev.tdemu.proto.KvmPolicy.Builder b = dev.tdemu.proto.KvmPolicy.newBuilder();
        try {
            TextFormat.Parser.newBuilder().setParseInfoTreeBuilder(treeBuilder).build().merge(text, b);
        } catch (TextFormat.ParseException e) {
            throw new PolicyFileException(file, Math.max(1, e.getLine()), Math.max(0, e.getColumn()),
                    stripPosition(e.getMessage()));
        }
        return new PolicyLoader.Reader(file, treeBuilder.build()).read(b.build());
    }

    private static String stripPosition(String message) {
        return message.replaceFirst("^\\d+:\\d+: ", "");
    }

    /** The semantic checks, with the parse-info tree as the line map. */
    private record Reader(String file, TextFormatParseInfoTree tree) {

        PolicyProgram read(dev.tdemu.proto.KvmPolicy p) {
            String name = p.getName();
            if (!NAME.matcher(name).matches()) {
                throw error(line(tree, "name"), "name must be UPPER_SNAKE_CASE (at most 64 characters), not '" + name + "'");
            }
            if (p.getDescription().isBlank()) {
                throw error(line(tree, "name"), "policy " + name + " has no description");
            }
            Set<GuestWorld> worlds = EnumSet.noneOf(GuestWorld.class);
            for (int i = 0; i < p.getWorldsCount(); i++) {
                GuestWorld w = GuestWorld.fromProto(p.getWorlds(i));
                if (w == null) {
                    throw error(line(tree, "worlds", i), "worlds: " + p.getWorlds(i) + " is not a guest kind");
                }
                worlds.add(w);
            }
            if (worlds.isEmpty()) {
                throw error(line(tree, "name"), "policy " + name + " names no worlds (POLICY_WORLD_VMX, _TDX, _SEV_ES)");
            }
            Set<PolicyAspect> aspects = EnumSet.noneOf(PolicyAspect.class);
            for (int i = 0; i < p.getAspectsCount(); i++) {
                PolicyAspect a = PolicyAspect.fromProto(p.getAspects(i));
                if (a == null) {
                    throw error(line(tree, "aspects", i), "aspects: " + p.getAspects(i) + " is not an aspect");
                }
                aspects.add(a);
            }
            if (aspects.isEmpty()) {
                throw error(line(tree, "name"), "policy " + name + " names no aspects (what it models)");
            }
            long hostOwned = hostOwnedDebugctl(p.getHostOwnedDebugctl());
            Map<PolicyPhase, List<PolicyStep>> phases = new EnumMap<>(PolicyPhase.class);
            for (int i = 0; i < p.getPhaseCount(); i++) {
                dev.tdemu.proto.PolicyPhase ph = p.getPhase(i);
                int at = location(tree, PHASE, i);
                PolicyPhase kind = PolicyPhase.fromProto(ph.getKind());
                if (kind == null) {
                    throw error(at, "phase without a kind (POLICY_PHASE_VCPU_LOAD, _BEFORE_ENTRY, _VCPU_RUN_AFTER_EXIT, "
                            + "_WONT_EXIT_SYNC, _AFTER_EXIT)");
                }
                if (phases.containsKey(kind)) {
                    throw error(at, "phase " + kind + " appears twice");
                }
                if (kind.ordinal() != phases.size()) {
                    throw error(at, "phase " + kind + " is out of order: the phases run " + List.of(PolicyPhase.values())
                            + " and are listed in that order");
                }
                phases.put(kind, steps(ph.getStepList(), tree.getNestedTree(PHASE, i), STEP, kind));
            }
            for (PolicyPhase kind : PolicyPhase.values()) {
                if (!phases.containsKey(kind)) {
                    throw error(Math.max(1, lastLine()), "phase " + kind + " is missing (every policy lists all of "
                            + List.of(PolicyPhase.values()) + ", an empty one as `phase { kind: POLICY_PHASE_" + kind + " }`)");
                }
            }
            return new PolicyProgram(name, p.getDescription(), file, worlds, aspects, p.getHasAutoSwitchFlag(),
                    hostOwned, phases);
        }

        private List<PolicyStep> steps(List<dev.tdemu.proto.PolicyStep> list, TextFormatParseInfoTree parent,
                                       FieldDescriptor field, PolicyPhase phase) {
            List<PolicyStep> out = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                dev.tdemu.proto.PolicyStep s = list.get(i);
                int at = location(parent, field, i);
                TextFormatParseInfoTree sub = parent.getNestedTree(field, i);
                PolicyCondition when = condition(s.getWhen(), sub, at);
                boolean nested = s.getThenCount() > 0 || s.getOtherwiseCount() > 0;
                if (!s.getDo().isEmpty() && nested) {
                    throw error(at, "a step is an action (do) or a conditional (when/then/otherwise), not both");
                }
                if (nested) {
                    if (s.getThenCount() == 0) {
                        throw error(at, "a conditional with `otherwise` needs `then` steps");
                    }
                    if (when instanceof PolicyCondition.Always) {
                        throw error(at, "a conditional needs a `when`");
                    }
                    out.add(new PolicyStep.Conditional(when, steps(s.getThenList(), sub, THEN, phase),
                            steps(s.getOtherwiseList(), sub, OTHERWISE, phase), at));
                    continue;
                }
                if (s.getDo().isEmpty()) {
                    throw error(at, "an empty step: give `do` (an action) or `when` with `then` steps");
                }
                int doLine = location(sub, DO, 0, at);
                PolicyOp op = PolicyOp.parse(s.getDo()).orElseThrow(() -> error(doLine, "unknown step '" + s.getDo()
                        + "' (steps: " + String.join(", ", java.util.Arrays.stream(PolicyOp.values())
                        .map(o -> "'" + o.spelling() + "'").toList()) + ")"));
                if (!op.phases().contains(phase)) {
                    throw error(doLine, "step '" + op.spelling() + "' does not belong in phase " + phase
                            + "; it runs in " + op.phases());
                }
                out.add(new PolicyStep.Action(when, op, doLine));
            }
            return out;
        }

        private PolicyCondition condition(String text, TextFormatParseInfoTree sub, int stepLine) {
            try {
                return PolicyCondition.parse(text);
            } catch (IllegalArgumentException e) {
                throw error(location(sub, WHEN, 0, stepLine), e.getMessage());
            }
        }

        private long hostOwnedDebugctl(String text) {
            long bits = 0;
            if (text.isBlank()) {
                return 0;
            }
            for (String part : text.split("\\|")) {
                String n = part.strip();
                bits |= switch (n) {
                    case "DEBUGCTLMSR_FREEZE_IN_SMM" -> Debugctl.FREEZE_IN_SMM;
                    case "DEBUGCTLMSR_BTF" -> Debugctl.BTF;
                    case "DEBUGCTLMSR_LBR" -> Debugctl.LBR;
                    case "DEBUGCTLMSR_FREEZE_PERFMON_ON_PMI" -> Debugctl.FREEZE_PERFMON_ON_PMI;
                    case "DEBUGCTLMSR_FREEZE_LBRS_ON_PMI" -> Debugctl.FREEZE_LBRS_ON_PMI;
                    default -> throw error(line(tree, "host_owned_debugctl"), "host_owned_debugctl: unknown bit '" + n
                            + "' (DEBUGCTLMSR_FREEZE_IN_SMM, _BTF, _LBR, _FREEZE_PERFMON_ON_PMI, _FREEZE_LBRS_ON_PMI)");
                };
            }
            return bits;
        }

        private int lastLine() {
            int last = 1;
            for (FieldDescriptor f : dev.tdemu.proto.KvmPolicy.getDescriptor().getFields()) {
                for (TextFormatParseLocation l : tree.getLocations(f)) {
                    last = Math.max(last, l.getLine() + 1);
                }
            }
            return last;
        }

        private PolicyFileException error(int line, String reason) {
            return new PolicyFileException(file, line, 0, reason);
        }
    }

    private static int line(TextFormatParseInfoTree tree, String field) {
        return line(tree, field, 0);
    }

    private static int line(TextFormatParseInfoTree tree, String field, int index) {
        return location(tree, dev.tdemu.proto.KvmPolicy.getDescriptor().findFieldByName(field), index, 1);
    }

    private static int location(TextFormatParseInfoTree tree, FieldDescriptor field, int index) {
        return location(tree, field, index, 1);
    }

    /** The 1-based line of the {@code index}th occurrence of {@code field}, or {@code fallback}. */
    private static int location(TextFormatParseInfoTree tree, FieldDescriptor field, int index, int fallback) {
        List<TextFormatParseLocation> ls = tree.getLocations(field);
        if (index < ls.size()) {
            return ls.get(index).getLine() + 1;
        }
        return fallback;
    }
}
