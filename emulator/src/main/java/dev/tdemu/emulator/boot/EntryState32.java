package dev.tdemu.emulator.boot;

import dev.tdemu.core.x86.Segment;

import java.util.List;

/**
 * The machine state a Multiboot kernel finds at its entry point (specification 3.2, "Machine
 * state"), for the emulator's CPU set-up to establish on the boot CPU:
 * <ul>
 * <li>EAX = 0x2BADB002, EBX = the physical address of the Multiboot information structure;</li>
 * <li>protected mode with paging off: CR0.PE = 1, CR0.PG = 0 (here CR0 = PE|ET), CR4 = 0,
 *     EFER = 0;</li>
 * <li>CS a 32-bit read/execute segment, DS, ES, FS, GS and SS 32-bit read/write segments, all with
 *     base 0 and limit 0xFFFFFFFF; the GDT they come from is written by the loader at
 *     {@code gdtBase} (the specification lets GDTR be invalid; a real one costs nothing and lets
 *     an engine load the selectors from memory);</li>
 * <li>EFLAGS.VM = 0 and EFLAGS.IF = 0 (EFLAGS = 0x2, only the always-one bit);</li>
 * <li>ESP undefined (0 here: the kernel must set up its own stack); IDTR undefined (base 0,
 *     limit 0 here: any interrupt before the kernel's LIDT shuts the CPU down, as it should);</li>
 * <li>A20 enabled: tdemu has no A20 gate, addresses never wrap at 1 MiB.</li>
 * </ul>
 */
public record EntryState32(long eax, long ebx, long eip, long esp, long eflags, long cr0, long cr4, long efer,
                           long gdtBase, int gdtLimit, long idtBase, int idtLimit, Segment cs,
                           Segment ds, Segment es, Segment fs, Segment gs,
                           Segment ss) {
    /** Selector of the flat 32-bit code segment in the loader's GDT. */
    public static final int CODE_SELECTOR = 0x08;
    /** Selector of the flat 32-bit data segment in the loader's GDT. */
    public static final int DATA_SELECTOR = 0x10;
    /** Base 0, limit 0xFFFFF pages, G=1, D=1, P=1, DPL 0, S=1, type 0xB (execute/read, accessed). */
    public static final long FLAT_CODE32_DESCRIPTOR = 0x00CF9B000000FFFFL;
    /** Base 0, limit 0xFFFFF pages, G=1, B=1, P=1, DPL 0, S=1, type 0x3 (read/write, accessed). */
    public static final long FLAT_DATA32_DESCRIPTOR = 0x00CF93000000FFFFL;
    /** The GDT: null, code (0x08), data (0x10). */
    public static final List<Long> GDT = List.of(0L, FLAT_CODE32_DESCRIPTOR, FLAT_DATA32_DESCRIPTOR);

    public static final long CR0_PE = 1L, CR0_ET = 1L << 4;
    public static final long EFLAGS_FIXED = 0x2;

    /** The state for a kernel entered at {@code entry} with its information structure at {@code info}. */
    static EntryState32 multiboot(long entry, long info, long gdtBase) {
        Segment code = Segment.fromDescriptor(CODE_SELECTOR, FLAT_CODE32_DESCRIPTOR);
        Segment data = Segment.fromDescriptor(DATA_SELECTOR, FLAT_DATA32_DESCRIPTOR);
        return new EntryState32(Integer.toUnsignedLong(MultibootHeader.BOOTLOADER_MAGIC), info, entry, 0,
                EFLAGS_FIXED, CR0_PE | CR0_ET, 0, 0, gdtBase, GDT.size() * 8 - 1, 0, 0, code, data, data, data,
                data, data);
    }
}
