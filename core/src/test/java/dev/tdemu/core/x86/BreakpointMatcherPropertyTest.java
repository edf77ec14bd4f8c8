package dev.tdemu.core.x86;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of the matching logic against a brute-force oracle that lists bytes. Addresses are
 * drawn from a small window around a random base (sometimes near 2^64) so that breakpoints and
 * accesses overlap often.
 */
class BreakpointMatcherPropertyTest {

    record Scenario(DebugRegisters regs, CpuMode mode, List<Access> accesses) {
    }

    @Provide
    Arbitrary<Long> bases() {
        return Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.of(0L, -16L, 0x7FFF_FFFF_FFF0L, 0xFFFF_8000_0000_0000L));
    }

    @Provide
    Arbitrary<Scenario> scenarios() {
        Arbitrary<Long> base = bases();
        Arbitrary<long[]> offsets = Arbitraries.longs().between(0, 40).array(long[].class).ofSize(4);
        Arbitrary<Long> dr7 = Arbitraries.longs().between(0, 0xFFFF_FFFFL);
        Arbitrary<CpuMode> mode = Arbitraries.of(CpuMode.KERNEL_64, new CpuMode(0, false, true));
        return Combinators.combine(base, offsets, dr7, mode).flatAs((b, off, d7, m) -> {
            long[] a = new long[4];
            for (int n = 0; n < 4; n++) {
                a[n] = b + off[n];
            }
            DebugRegisters regs = DebugRegisters.of(a, Dr6.RESET, new Dr7(d7));
            Arbitrary<Access> access = Arbitraries.oneOf(
                    Arbitraries.longs().between(-4, 48).map(o -> (Access) new Access.InstructionFetch(b + o)),
                    Combinators.combine(Arbitraries.longs().between(-8, 48), Arbitraries.integers().between(1, 16),
                                    Arbitraries.of(DataAccessKind.values()))
                            .as((o, s, k) -> (Access) new Access.DataAccess(b + o, s, k)),
                    Combinators.combine(Arbitraries.integers().between(-8, 48), Arbitraries.of(1, 2, 4))
                            .as((o, s) -> (Access) new Access.IoAccess((int) ((b + o) & 0xFFFF), s)));
            return access.list().ofMinSize(0).ofMaxSize(4).map(list -> new Scenario(regs, m, list));
        });
    }

    /** Oracle: the set of bytes a breakpoint slot watches. */
    private static Set<Long> watchedBytes(long address, BreakpointLength len) {
        Set<Long> s = new HashSet<>();
        long start = address & ~(long) (len.bytes() - 1);
        for (int i = 0; i < len.bytes(); i++) {
            s.add(start + i);
        }
        return s;
    }

    private static boolean touches(Set<Long> watched, long start, int size) {
        for (int i = 0; i < size; i++) {
            if (watched.contains(start + i)) {
                return true;
            }
        }
        return false;
    }

    /** Oracle for one slot and one access, written independently of BreakpointMatcher. */
    private static boolean oracleMatches(DebugRegisters r, int n, Access a, CpuMode mode) {
        BreakpointType t = r.dr7().type(n);
        BreakpointLength len = r.dr7().length(n);
        return switch (a) {
            case Access.InstructionFetch f -> t == BreakpointType.EXECUTE && f.linearAddress() == r.dr(n);
            case Access.DataAccess d -> (t == BreakpointType.READ_WRITE
                    || (t == BreakpointType.WRITE && d.kind() == DataAccessKind.WRITE))
                    && touches(watchedBytes(r.dr(n), len), d.linearAddress(), d.size());
            case Access.IoAccess io -> t == BreakpointType.IO && mode.cr4De()
                    && touches(watchedBytes(r.dr(n), len), io.port(), io.size());
        };
    }

    private static int oracleMask(DebugRegisters r, Access a, CpuMode mode) {
        int m = 0;
        for (int n = 0; n < 4; n++) {
            if (oracleMatches(r, n, a, mode)) {
                m |= 1 << n;
            }
        }
        return m;
    }

    @Property(tries = 2000)
    void matchingSlotsAgreeWithTheByteSetOracle(@ForAll("scenarios") Scenario s) {
        for (Access a : s.accesses()) {
            assertEquals(oracleMask(s.regs(), a, s.mode()), BreakpointMatcher.matchingSlots(s.regs(), a, s.mode()), a::toString);
        }
    }

    @Property(tries = 2000)
    void noTrapUnlessAnEnabledSlotMatchesOrSingleStep(@ForAll("scenarios") Scenario s, @ForAll boolean singleStep) {
        int matched = 0;
        for (Access a : s.accesses()) {
            if (!(a instanceof Access.InstructionFetch)) {
                matched |= oracleMask(s.regs(), a, s.mode());
            }
        }
        Optional<DebugException> e = BreakpointMatcher.afterInstruction(s.regs(), s.accesses(), singleStep, s.mode());
        boolean expected = singleStep || (matched & s.regs().dr7().enabledSlots()) != 0;
        assertEquals(expected, e.isPresent());
        if (e.isPresent()) {
            assertEquals(matched, e.get().pending().bMask(), "B bits are exactly the matching slots");
            assertEquals(singleStep, e.get().pending().bs());
            assertEquals(EventClass.TRAP, e.get().eventClass());
        }
    }

    @Property(tries = 2000)
    void instructionFaultIffAnEnabledExecuteSlotHasExactlyThatAddress(@ForAll("scenarios") Scenario s,
                                                                      @ForAll boolean rf) {
        for (Access a : s.accesses()) {
            if (a instanceof Access.InstructionFetch f) {
                int matched = oracleMask(s.regs(), f, s.mode());
                Optional<DebugException> e = BreakpointMatcher.instructionFetch(s.regs(), f.linearAddress(), rf, s.mode());
                assertEquals(!rf && (matched & s.regs().dr7().enabledSlots()) != 0, e.isPresent());
                e.ifPresent(x -> {
                    assertEquals(matched, x.pending().bMask());
                    assertEquals(EventClass.FAULT, x.eventClass());
                });
            }
        }
    }

    @Property(tries = 1000)
    void fetchNeverMatchesDataOrIoSlots(@ForAll("scenarios") Scenario s) {
        for (Access a : s.accesses()) {
            if (a instanceof Access.InstructionFetch) {
                int m = BreakpointMatcher.matchingSlots(s.regs(), a, s.mode());
                for (int n = 0; n < 4; n++) {
                    if ((m & (1 << n)) != 0) {
                        assertEquals(BreakpointType.EXECUTE, s.regs().dr7().type(n));
                    }
                }
            }
        }
    }

    @Property(tries = 1000)
    void dataAndIoAccessesNeverMatchExecuteSlots(@ForAll("scenarios") Scenario s) {
        for (Access a : s.accesses()) {
            if (!(a instanceof Access.InstructionFetch)) {
                int m = BreakpointMatcher.matchingSlots(s.regs(), a, s.mode());
                for (int n = 0; n < 4; n++) {
                    if ((m & (1 << n)) != 0) {
                        assertTrue(s.regs().dr7().type(n) != BreakpointType.EXECUTE);
                    }
                }
            }
        }
    }

    @Property(tries = 3000)
    void overlapLawMatchesTheByteSetOracle(@ForAll("bases") long base, @ForAll("smallOffsets") long bpOffset,
                                           @ForAll("smallOffsets") long accessOffset,
                                           @ForAll("lengths") BreakpointLength len,
                                           @ForAll("sizes") int size) {
        long bp = base + bpOffset;
        long start = base + accessOffset - 8;
        assertEquals(touches(watchedBytes(bp, len), start, size), BreakpointMatcher.overlaps(bp, len, start, size));
    }

    @Provide
    Arbitrary<Long> smallOffsets() {
        return Arbitraries.longs().between(0, 32);
    }

    @Provide
    Arbitrary<BreakpointLength> lengths() {
        return Arbitraries.of(BreakpointLength.values());
    }

    @Provide
    Arbitrary<Integer> sizes() {
        return Arbitraries.integers().between(1, 64);
    }

    @Property(tries = 1000)
    void deliveryReplacesB0ToB3AndNeverClearsAnyOtherDr6Bit(@ForAll long dr6, @ForAll("pending") PendingDebug p) {
        Dr6 before = new Dr6(dr6);
        Dr6 after = before.deliver(p);
        assertEquals(before.value() & ~0xFL, after.value() & before.value() & ~0xFL);
        assertEquals(p.bits(), after.value() & p.bits());
        assertEquals(p.bits() & 0xF, after.value() & 0xF, "B0-B3 are exactly the reported slots");
    }

    @Provide
    Arbitrary<PendingDebug> pending() {
        return Arbitraries.longs().map(l -> new PendingDebug(l & PendingDebug.VALID));
    }

    @Property(tries = 500)
    void singleStepAlwaysRaisesTrapWithBs(@ForAll("scenarios") Scenario s) {
        DebugException e = BreakpointMatcher.singleStep(s.regs());
        assertTrue(e.pending().bs());
        assertEquals(EventClass.TRAP, e.eventClass());
    }
}
