package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.x86.Gpr;
import dev.tdemu.core.x86.CpuMode;

import java.util.Arrays;
import java.util.Objects;

/**
 * A TD vCPU's state at a TDCALL, as the TDX module reads it from the TD's TDVPS: the 16 GPRs,
 * RIP of the TDCALL, RFLAGS and the processor mode (TDCALL needs CPL 0 in 64-bit mode).
 * Immutable; {@link #with} returns a copy.
 */
public final class TdcallRegs {

    /** TDCALL is 66 0F 01 CC. */
    public static final int TDCALL_LENGTH = 4;
    private final long[] gprs;
    private final long rip;
    private final long rflags;
    private final CpuMode mode;

    private TdcallRegs(long[] gprs, long rip, long rflags, CpuMode mode) {
        this.gprs = gprs;
        this.rip = rip;
        this.rflags = rflags;
        this.mode = Objects.requireNonNull(mode);
    }

    /** {@code gprs} in {@link Gpr} order (16 values). */
    public static TdcallRegs of(long[] gprs, long rip, long rflags, CpuMode mode) {
        if (gprs.length != 16) {
            throw new IllegalArgumentException("a TD vCPU has 16 GPRs, not " + gprs.length);
        }
        return new TdcallRegs(gprs.clone(), rip, rflags, mode);
    }

    /** All GPRs zero, at {@code rip} with RFLAGS 0x2, in ring 0 of 64-bit mode. */
    public static TdcallRegs at(long rip) {
        return new TdcallRegs(new long[16], rip, 0x2, CpuMode.KERNEL_64);
    }

    public long get(Gpr r) {
        return gprs[r.index()];
    }

    public TdcallRegs with(Gpr r, long value) {
        long[] copy = gprs.clone();
        copy[r.index()] = value;
        return new TdcallRegs(copy, rip, rflags, mode);
    }

    public TdcallRegs withRflags(long value) {
        return new TdcallRegs(gprs, rip, value, mode);
    }

    public TdcallRegs withMode(CpuMode value) {
        return new TdcallRegs(gprs, rip, rflags, value);
    }

    public long rip() {
        return rip;
    }

    public long rflags() {
        return rflags;
    }

    public CpuMode mode() {
        return mode;
    }

    /** RIP of the instruction after the TDCALL. */
    public long nextRip() {
        return rip + TDCALL_LENGTH;
    }

    public boolean trapFlag() {
        return (rflags & Rflags.TF) != 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TdcallRegs t && Arrays.equals(gprs, t.gprs) && rip == t.rip && rflags == t.rflags
                && mode.equals(t.mode);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(gprs), rip, rflags, mode);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("TdcallRegs[");
        for (Gpr r : Gpr.values()) {
            b.append(r).append(String.format("=0x%x ", gprs[r.index()]));
        }
        return b.append(String.format("rip=0x%x rflags=0x%x %s]", rip, rflags, mode)).toString();
    }
}
