package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Gpr;

/**
 * What the host receives from a TDG.VP.VMCALL (KVM's {@code vp_enter_args}): the GPR_SELECT and
 * XMM_SELECT masks the TD gave in RCX (the host's RCX), and the TD's GPRs the mask selects; the
 * module zeroes every other GPR, so {@link #get} answers 0 for them.
 */
public record TdVmcallArgs(int gprSelect, int xmmSelect, GprUpdates passed) {

    public TdVmcallArgs {
        if ((gprSelect & ~0xFFFF) != 0 || (xmmSelect & ~0xFFFF) != 0) {
            throw new IllegalArgumentException(String.format("GPR/XMM select masks are 16 bits: 0x%x 0x%x", gprSelect,
                    xmmSelect));
        }
        passed = passed.select(gprSelect);
    }

    /** For tests and tools: the standard GHCI call passing R10-R15 (mask 0xFC00) with these values. */
    public static TdVmcallArgs ofR10ToR15(long r10, long r11, long r12, long r13, long r14, long r15) {
        return new TdVmcallArgs(0xFC00, 0, GprUpdates.builder().set(Gpr.R10, r10).set(Gpr.R11, r11).set(Gpr.R12, r12)
                .set(Gpr.R13, r13).set(Gpr.R14, r14).set(Gpr.R15, r15).build());
    }

    /** The host's RCX after the exit: the TD exit qualification (GPR_SELECT, XMM_SELECT at bit 16). */
    public long rcx() {
        return ((long) xmmSelect << 16) | gprSelect;
    }

    public boolean passes(Gpr r) {
        return (gprSelect & r.bit()) != 0;
    }

    /** The register's value as the host sees it: the TD's if selected, else 0. */
    public long get(Gpr r) {
        return passed.get(r).orElse(0);
    }

    public long r10() {
        return get(Gpr.R10);
    }

    public long r11() {
        return get(Gpr.R11);
    }

    public long r12() {
        return get(Gpr.R12);
    }

    public long r13() {
        return get(Gpr.R13);
    }

    public long r14() {
        return get(Gpr.R14);
    }

    public long r15() {
        return get(Gpr.R15);
    }
}
