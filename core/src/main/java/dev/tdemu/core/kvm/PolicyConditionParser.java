package dev.tdemu.core.kvm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** Recursive descent: or := and ('||' and)*; and := unary ('&&' unary)*; unary := '!' unary | atom | '(' or ')'. */
final class PolicyConditionParser {
    private static final List<PolicyCondition.Atom> LONGEST_FIRST = Arrays.stream(PolicyCondition.Atom.values())
            .sorted(Comparator.comparingInt((PolicyCondition.Atom a) -> a.compact().length()).reversed()).toList();

    private final String s;
    private final String original;
    private int pos;

    PolicyConditionParser(String s, String original) {
        this.s = s;
        this.original = original;
    }

    PolicyCondition or() {
        List<PolicyCondition> terms = new ArrayList<>(List.of(and()));
        while (s.startsWith("||", pos)) {
            pos += 2;
            terms.add(and());
        }
        return terms.size() == 1 ? terms.getFirst() : new PolicyCondition.Or(terms);
    }

    PolicyCondition and() {
        List<PolicyCondition> terms = new ArrayList<>(List.of(unary()));
        while (s.startsWith("&&", pos)) {
            pos += 2;
            terms.add(unary());
        }
        return terms.size() == 1 ? terms.getFirst() : new PolicyCondition.And(terms);
    }

    PolicyCondition unary() {
        if (s.startsWith("!", pos)) {
            pos++;
            return new PolicyCondition.Not(unary());
        }
        Optional<PolicyCondition.Atom> atom = LONGEST_FIRST.stream().filter(a -> s.startsWith(a.compact(), pos))
                .filter(a -> !continuesIdentifier(pos + a.compact().length())).findFirst();
        if (atom.isPresent()) {
            pos += atom.get().compact().length();
            return new PolicyCondition.Test(atom.get());
        }
        if (s.startsWith("(", pos)) {
            pos++;
            PolicyCondition inner = or();
            if (!s.startsWith(")", pos)) {
                throw error();
            }
            pos++;
            return inner;
        }
        throw error();
    }

    private boolean continuesIdentifier(int at) {
        return at < s.length() && (Character.isLetterOrDigit(s.charAt(at)) || s.charAt(at) == '_');
    }

    boolean atEnd() {
        return pos == s.length();
    }

    IllegalArgumentException error() {
        String rest = pos >= s.length() ? "the end" : "'" + s.substring(pos) + "'";
        return new IllegalArgumentException("condition '" + original.strip() + "' is not understood at " + rest
                + " (conditions: " + String.join(", ", Arrays.stream(PolicyCondition.Atom.values()).map(a -> "'" + a.spelling() + "'")
                .toList()) + ", with !, &&, || and parentheses)");
    }
}
