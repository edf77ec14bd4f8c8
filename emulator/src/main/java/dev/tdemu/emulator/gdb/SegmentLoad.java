package dev.tdemu.emulator.gdb;

import dev.tdemu.core.x86.Segment;
import dev.tdemu.core.x86.Sreg;

/**
 * The debugger loading a segment register, checked as the CPU checks a load in IA-32e mode (SDM
 * Vol. 2 MOV, "Loading a segment register while in protected mode"; for CS, JMP far to a code
 * segment of the same privilege): the descriptor is read through the guest's GDT (or LDT), and a
 * selector whose descriptor the CPU would not load is refused with the exception it would raise.
 * Privilege changes through CS or SS are refused too: the debugger does not switch rings.
 */
final class SegmentLoad {
    private SegmentLoad() {
    }

    /** The result: the register as loaded, or why not. */
    sealed interface Outcome {
        /** Loadable: {@code segment} is the selector with its descriptor (for a null selector, the null descriptor). */
        record Load(Segment segment) implements Outcome {
        }

        /** Not loadable; {@code reason} names the exception the CPU would raise and why. */
        record Refused(String reason) implements Outcome {
        }
    }

    /** Where descriptors come from. */
    interface Tables {
        long gdtBase();

        int gdtLimit();

        /** LDTR's selector (0: no LDT), base and limit. */
        int ldtSelector();

        long ldtBase();

        int ldtLimit();

        /** The 8 bytes at a linear address; throws {@link IllegalArgumentException} when unmapped. */
        long read64(long linear);
    }

    /**
     * @param reg      the segment register
     * @param selector the new selector
     * @param cpl      the current privilege level
     * @param longMode 64-bit mode (a null SS is allowed below CPL 3; CS must stay 64-bit)
     */
    static Outcome check(Sreg reg, int selector, int cpl, boolean longMode, Tables tables) {
        String name = reg.name().toLowerCase();
        if (selector < 0 || selector > 0xFFFF) {
            return refused(name + " takes a 16-bit selector, not 0x%x", selector);
        }
        int rpl = selector & 3;
        if ((selector & ~3) == 0) { // null selector (index 0 in the GDT)
            return switch (reg) {
                case CS -> refused("#GP(0): cs cannot be null");
                case SS -> longMode && cpl < 3 && rpl == cpl ? new Outcome.Load(new Segment(selector, 0, 0, 0))
                        : refused("#GP(0): ss can be null only in 64-bit mode below CPL 3 with RPL = CPL (CPL %d)", cpl);
                default -> new Outcome.Load(new Segment(selector, 0, 0, 0));
            };
        }
        boolean ldt = (selector & 4) != 0;
        long base;
        int limit;
        if (ldt) {
            if ((tables.ldtSelector() & ~3) == 0) {
                return refused("#GP(0x%x): selector 0x%x is in the LDT, and no LDT is loaded (LDTR is null)", selector & ~3, selector);
            }
            base = tables.ldtBase();
            limit = tables.ldtLimit();
        } else {
            base = tables.gdtBase();
            limit = tables.gdtLimit();
        }
        long offset = selector & ~7L;
        if (offset + 7 > limit) {
            return refused("#GP(0x%x): selector 0x%x is beyond the %s's limit 0x%x", selector & ~3, selector, ldt ? "LDT" : "GDT", limit);
        }
        long raw;
        try {
            raw = tables.read64(base + offset);
        } catch (IllegalArgumentException e) {
            return refused("the %s entry of selector 0x%x at 0x%x is not mapped: %s", ldt ? "LDT" : "GDT", selector, base + offset,
                    e.getMessage());
        }
        Segment s = Segment.fromDescriptor(selector, raw);
        int err = selector & ~3;
        if (s.system()) {
            return refused("#GP(0x%x): selector 0x%x names a system descriptor (type %d), which %s cannot hold", err, selector,
                    s.type(), name);
        }
        switch (reg) {
            case CS -> {
                if (!s.code()) {
                    return refused("#GP(0x%x): cs needs a code segment; selector 0x%x is a data segment", err, selector);
                }
                if (s.conforming() ? s.dpl() > cpl : s.dpl() != cpl) {
                    return refused("#GP(0x%x): a %sconforming code segment of DPL %d at CPL %d would change privilege; the debugger "
                            + "does not switch rings", err, s.conforming() ? "" : "non-", s.dpl(), cpl);
                }
                if (rpl != cpl) {
                    return refused("cs's RPL is the CPL (%d); selector 0x%x has RPL %d: the debugger does not switch rings", cpl,
                            selector, rpl);
                }
                if (longMode && (!s.longMode() || s.defaultBig())) {
                    return refused("selector 0x%x is %s code segment; switching between 64-bit and compatibility mode through cs "
                            + "is not supported from the debugger", selector, s.longMode() ? "a reserved (L=1, D=1)" : "a 32- or 16-bit");
                }
            }
            case SS -> {
                if (rpl != cpl || s.dpl() != cpl) {
                    return refused("#GP(0x%x): ss needs RPL = DPL = CPL (%d); selector 0x%x has RPL %d, DPL %d", err, cpl, selector,
                            rpl, s.dpl());
                }
                if (!s.writableData()) {
                    return refused("#GP(0x%x): ss needs a writable data segment; selector 0x%x is %s", err, selector, kind(s));
                }
            }
            default -> {
                if (s.code() && (s.type() & Segment.TYPE_WRITABLE_OR_READABLE) == 0) {
                    return refused("#GP(0x%x): %s needs a data or readable code segment; selector 0x%x is execute-only code", err,
                            name, selector);
                }
                if (!s.conforming() && (rpl > s.dpl() || cpl > s.dpl())) {
                    return refused("#GP(0x%x): selector 0x%x's DPL %d is below CPL %d or RPL %d", err, selector, s.dpl(), cpl, rpl);
                }
            }
        }
        if (!s.present()) {
            return refused("#%s(0x%x): selector 0x%x's segment is not present", reg == Sreg.SS ? "SS" : "NP", err, selector);
        }
        return new Outcome.Load(s);
    }

    private static String kind(Segment s) {
        return s.code() ? "a code segment" : "a read-only data segment";
    }

    private static Outcome refused(String format, Object... args) {
        return new Outcome.Refused(String.format(format, args));
    }
}
