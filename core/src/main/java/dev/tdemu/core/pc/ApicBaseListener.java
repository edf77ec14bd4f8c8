package dev.tdemu.core.pc;

/**
 * Told when a write to IA32_APIC_BASE moved, hid or changed the mode of the APIC page: the
 * emulator unmaps the old page if {@code previous.mmioDecoded()} and maps the new one if
 * {@code current.mmioDecoded()} (xAPIC mode only: a disabled APIC and one in x2APIC mode decode no
 * page), since each vCPU's APIC page is private to that vCPU. Called outside the APIC's lock, after
 * the APIC's state changed.
 */
@FunctionalInterface
public interface ApicBaseListener {
    void apicBaseChanged(ApicBase previous, ApicBase current);

    ApicBaseListener NONE = (previous, current) -> { };
}
