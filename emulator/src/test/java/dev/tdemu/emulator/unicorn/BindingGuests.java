package dev.tdemu.emulator.unicorn;

import dev.tdemu.emulator.elf.ElfFormatException;
import dev.tdemu.emulator.elf.ElfImage;

/** The binding test guests (testguests/src/main/asm/binding-*.S) and the layout of binding-hooks. */
final class BindingGuests {
    /** binding-hooks.S is linked at 1 MiB; scenario n starts at BASE + 0x100 * n. */
    static final long BASE = 0x100000;
    static final long NOPS = BASE;
    static final long PORT_IO = BASE + 0x100;
    static final long CPUID = BASE + 0x200;
    static final long SYSCALL = BASE + 0x300;
    static final long INT3 = BASE + 0x400;
    static final long DIVIDE = BASE + 0x500;
    static final long DIVIDE_AGAIN = BASE + 0x540;
    static final long DIVIDE_DONE = BASE + 0x580;
    static final long MEMORY = BASE + 0x600;
    static final long UNMAPPED = BASE + 0x700;
    static final long WRITE_READ_ONLY = BASE + 0x800;
    static final long INVALID = BASE + 0x900;
    static final long FETCH_UNMAPPED = BASE + 0xa00;
    static final long GP = BASE + 0xb00;
    static final long FETCH_NO_EXEC = BASE + 0xc00;

    /** Scratch data page the memory scenario uses, and the page tests re-protect. */
    static final long DATA = 0x200000;
    static final long PROTECTED_PAGE = 0x300000;

    private BindingGuests() {
    }

    static ElfImage image(String name) {
        try {
            return ElfImage.builtin(name);
        } catch (ElfFormatException e) {
            throw new AssertionError(e);
        }
    }

    /** A 16 MiB bare machine with the named guest loaded (RIP at its entry, RSP at the top of RAM). */
    static BareMachine machine(String guest) {
        BareMachine m = BareMachine.create();
        try {
            m.load(image(guest));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }
}
