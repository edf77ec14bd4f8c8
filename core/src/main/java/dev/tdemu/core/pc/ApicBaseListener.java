package dev.tdemu.core.pc;

/**
 * Told when a write to IA32_APIC_BASE moved or hid the APIC page: the emulator unmaps the old
 * page (if it was enabled) and maps the new one (if it is), since each vCPU's APIC page is
 * private to that vCPU. Called outside the APIC's lock, after the APIC's state changed.
 */
@FunctionalInterface
public interface ApicBaseListener {
    void apicBaseChanged(ApicBase previous, ApicBase current);

    ApicBaseListener NONE = (previous, current) -> { };
}
