package dev.tdemu.core.pc;

import dev.tdemu.core.platform.ManualClock;

import java.util.ArrayList;
import java.util.List;

/** One local APIC on a manual clock, with its IPIs, EOIs and kicks recorded. */
final class LocalApicFixture {
    final ManualClock clock = new ManualClock();
    final List<ApicIcr> sent = new ArrayList<>();
    final List<Integer> eois = new ArrayList<>();
    int kicks;
    final LocalApic apic;

    LocalApicFixture() {
        this(0, true);
    }

    LocalApicFixture(int apicId, boolean bsp) {
        this(apicId, bsp, CpuidFeatures.UNICORN_QEMU64);
    }

    /** A 1 GHz APIC bus and a 1 GHz TSC (one tick per ns), with the given CPUID profile. */
    LocalApicFixture(int apicId, boolean bsp, CpuidFeatures features) {
        apic = new LocalApic(apicId, bsp, clock, LocalApic.DEFAULT_BUS_CYCLE_NS, features, GuestTsc.oneGigahertz(clock),
                (source, icr) -> sent.add(icr));
        apic.setEoiListener(eois::add);
        apic.setKick(() -> kicks++);
    }

    /** IA32_APIC_BASE from xAPIC to x2APIC mode (EXTD with EN). */
    LocalApicFixture x2apic() {
        MsrWrite w = apic.writeApicBase(apic.readApicBase() | ApicBase.X2APIC_ENABLE);
        if (w != MsrWrite.DONE) {
            throw new AssertionError("entering x2APIC mode: " + w);
        }
        return this;
    }

    /** RDMSR of an x2APIC register that must not fault. */
    long rdmsr(int index) {
        MsrRead r = apic.readX2apicMsr(index);
        if (!(r instanceof MsrRead.Value(long value))) {
            throw new AssertionError(MsrIndex.name(index) + ": " + r);
        }
        return value;
    }

    /** WRMSR of an x2APIC register that must not fault. */
    void wrmsr(int index, long value) {
        MsrWrite w = apic.writeX2apicMsr(index, value);
        if (w != MsrWrite.DONE) {
            throw new AssertionError(String.format("%s <- 0x%x: %s", MsrIndex.name(index), value, w));
        }
    }

    int read(ApicRegister r) {
        return (int) apic.read(r.offset(), 4);
    }

    int read(ApicRegister r, int slot) {
        return (int) apic.read(r.offset() + 16L * slot, 4);
    }

    void write(ApicRegister r, int value) {
        apic.write(r.offset(), 4, Integer.toUnsignedLong(value));
    }

    /** SVR = 0x1FF: software-enabled, spurious vector 0xFF (what kvm-unit-tests writes). */
    LocalApicFixture enabled() {
        write(ApicRegister.SVR, 0x1FF);
        return this;
    }

    /** ESR the way software reads it: write, then read. */
    int esr() {
        write(ApicRegister.ESR, 0);
        return read(ApicRegister.ESR);
    }

    boolean irr(int vector) {
        return bit(ApicRegister.IRR, vector);
    }

    boolean isr(int vector) {
        return bit(ApicRegister.ISR, vector);
    }

    boolean tmr(int vector) {
        return bit(ApicRegister.TMR, vector);
    }

    /** IRR, ISR and TMR bits through the interface of the APIC's mode: MMIO in xAPIC mode, MSRs in x2APIC mode. */
    private boolean bit(ApicRegister r, int vector) {
        long slot = apic.x2apicMode() ? rdmsr(r.msr() + (vector >>> 5)) : read(r, vector >>> 5);
        return (slot & (1L << (vector & 31))) != 0;
    }

    /** The core takes the interrupt: INTA then the handler's EOI (by MSR in x2APIC mode). */
    int acknowledgeAndEoi() {
        int v = apic.acknowledge().vector();
        eoi();
        return v;
    }

    /** The handler's EOI through the interface of the APIC's mode. */
    void eoi() {
        if (apic.x2apicMode()) {
            wrmsr(ApicRegister.EOI.msr(), 0);
        } else {
            write(ApicRegister.EOI, 0);
        }
    }
}
