package dev.tdemu.core.x86;

/**
 * One step of a DR sequence the host kernel executed: {@code set_debugreg(value, reg)} or
 * {@code get_debugreg(reg)} with the value it read. Sequences of these are what tests assert and
 * what the emulator traces.
 */
public sealed interface DrOperation {

    int reg();

    long value();

    record Set(int reg, long value) implements DrOperation {
        @Override
        public String toString() {
            return String.format("set_debugreg(DR%d, 0x%x)", reg, value);
        }
    }

    record Get(int reg, long value) implements DrOperation {
        @Override
        public String toString() {
            return String.format("get_debugreg(DR%d) = 0x%x", reg, value);
        }
    }

    static DrOperation set(int reg, long value) {
        return new Set(reg, value);
    }

    static DrOperation get(int reg, long value) {
        return new Get(reg, value);
    }
}
