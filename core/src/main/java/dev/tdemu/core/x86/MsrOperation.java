package dev.tdemu.core.x86;

/**
 * One MSR access the host kernel executed in a DR sequence: {@code get_debugctlmsr()} /
 * {@code update_debugctlmsr(value)} on IA32_DEBUGCTL. Kept apart from {@link DrOperation} so that
 * DR sequences stay comparable with those of kernels that never touched DEBUGCTL.
 */
public sealed interface MsrOperation {

    int msr();

    long value();

    record Rdmsr(int msr, long value) implements MsrOperation {
        @Override
        public String toString() {
            return msr == Debugctl.MSR_IA32_DEBUGCTLMSR ? String.format("get_debugctlmsr() = 0x%x", value)
                    : String.format("rdmsr(0x%x) = 0x%x", msr, value);
        }
    }

    record Wrmsr(int msr, long value) implements MsrOperation {
        @Override
        public String toString() {
            return msr == Debugctl.MSR_IA32_DEBUGCTLMSR ? String.format("update_debugctlmsr(0x%x)", value)
                    : String.format("wrmsr(0x%x, 0x%x)", msr, value);
        }
    }
}
