package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Gpr;
import java.util.EnumMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.StringJoiner;

/**
 * Register writes to apply to a vCPU, in {@link Gpr} order; registers not named keep their value.
 * Immutable.
 */
public final class GprUpdates {

    public static final GprUpdates NONE = new GprUpdates(new EnumMap<>(Gpr.class));

    private final EnumMap<Gpr, Long> values;

    private GprUpdates(EnumMap<Gpr, Long> values) {
        this.values = values;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static GprUpdates of(Gpr r, long value) {
        return builder().set(r, value).build();
    }

    /** The value written to {@code r}, if this update writes it. */
    public OptionalLong get(Gpr r) {
        Long v = values.get(r);
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /** The written value of a register this update must write (a caller's own bug otherwise). */
    public long value(Gpr r) {
        Long v = values.get(r);
        if (v == null) {
            throw new IllegalStateException(r + " is not written by " + this);
        }
        return v;
    }

    public boolean writes(Gpr r) {
        return values.containsKey(r);
    }

    /** The writes in register order. */
    public Map<Gpr, Long> asMap() {
        return java.util.Collections.unmodifiableMap(values);
    }

    /** Only the writes to registers whose bit is set in {@code gprSelect}. */
    public GprUpdates select(int gprSelect) {
        EnumMap<Gpr, Long> kept = new EnumMap<>(Gpr.class);
        values.forEach((r, v) -> {
            if ((gprSelect & r.bit()) != 0) {
                kept.put(r, v);
            }
        });
        return new GprUpdates(kept);
    }

    /** These writes followed by {@code later}'s (later wins). */
    public GprUpdates then(GprUpdates later) {
        EnumMap<Gpr, Long> merged = new EnumMap<>(values);
        merged.putAll(later.values);
        return new GprUpdates(merged);
    }

    public TdcallRegs applyTo(TdcallRegs regs) {
        TdcallRegs out = regs;
        for (Map.Entry<Gpr, Long> e : values.entrySet()) {
            out = out.with(e.getKey(), e.getValue());
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GprUpdates u && values.equals(u.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        StringJoiner j = new StringJoiner(", ", "{", "}");
        values.forEach((r, v) -> j.add(String.format("%s=0x%x", r, v)));
        return j.toString();
    }

    public static final class Builder {
        private final EnumMap<Gpr, Long> values = new EnumMap<>(Gpr.class);

        public Builder set(Gpr r, long value) {
            values.put(r, value);
            return this;
        }

        public GprUpdates build() {
            return new GprUpdates(new EnumMap<>(values));
        }
    }
}
