package dev.tdemu.core.kvm;

/** A WARN_ON the kernel would have printed: recorded on the vCPU, never thrown. */
public record KvmWarning(String function, String condition) {

    @Override
    public String toString() {
        return "WARN_ON(" + condition + ") in " + function;
    }
}
