package dev.tdemu.core.x86;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** Write/read-back laws of MOV DR in 64-bit ring 0. */
class DebugRegisterWritePropertyTest {

    private static final CpuMode K = CpuMode.KERNEL_64;

    @Property(tries = 2000)
    void dr7ReadsBackWithFixedBitsOrRejectsUpperBits(@ForAll long value) {
        DebugRegisterFile cpu = new DebugRegisterFile();
        MovDrOutcome out = cpu.movToDr(K, 7, value);
        if ((value >>> 32) != 0) {
            assertEquals(new MovDrOutcome.Fault(ExceptionVector.GP), out);
            assertEquals(Dr7.RESET, cpu.dr7());
        } else {
            long expected = (value & ~0xD800L) | 0x400L;
            assertEquals(new MovDrOutcome.Completed(expected), out);
            assertEquals(expected, cpu.dr7().value());
            // With GD now set, reading it back is itself a MOV DR and faults with BD.
            if ((expected & Dr7.GD) != 0) {
                assertInstanceOf(MovDrOutcome.GeneralDetect.class, cpu.movFromDr(K, 7));
            } else {
                assertEquals(new MovDrOutcome.Completed(expected), cpu.movFromDr(K, 7));
            }
        }
    }

    @Property(tries = 2000)
    void dr6ReadsBackWithFixedBitsOrRejectsUpperBits(@ForAll long value) {
        DebugRegisterFile cpu = new DebugRegisterFile();
        MovDrOutcome out = cpu.movToDr(K, 6, value);
        if ((value >>> 32) != 0) {
            assertEquals(new MovDrOutcome.Fault(ExceptionVector.GP), out);
            assertEquals(Dr6.RESET, cpu.dr6());
        } else {
            long expected = (value & 0xE00FL) | 0xFFFF_0FF0L;
            assertEquals(new MovDrOutcome.Completed(expected), cpu.movFromDr(K, 6));
        }
    }

    @Property(tries = 1000)
    void dr0To3ReadBackExactly(@ForAll long value, @ForAll("slot") int n) {
        DebugRegisterFile cpu = new DebugRegisterFile();
        assertInstanceOf(MovDrOutcome.Completed.class, cpu.movToDr(K, n, value));
        assertEquals(new MovDrOutcome.Completed(value), cpu.movFromDr(K, n));
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<Integer> slot() {
        return net.jqwik.api.Arbitraries.integers().between(0, 3);
    }

    @Property(tries = 1000)
    void dr7ValueIsIdempotentUnderItsFixedBits(@ForAll long value) {
        Dr7 once = new Dr7(value);
        assertEquals(once, new Dr7(once.value()));
        Dr6 six = new Dr6(value);
        assertEquals(six, new Dr6(six.value()));
    }
}
