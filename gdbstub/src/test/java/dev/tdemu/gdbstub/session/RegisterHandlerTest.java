package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.gdbstub.registers.RegisterLayout;
import dev.tdemu.gdbstub.registers.X86_64Registers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RegisterHandler}: g, G, p, P against the fake target. */
@Timeout(30)
class RegisterHandlerTest extends SessionTestBase {
    @Test
    void gReturnsTheWholeLayoutInRegisterNumberOrder() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            String g = c.request("g");
            RegisterLayout layout = RegisterLayout.x86_64();
            assertEquals(2 * layout.gPacketSize(), g.length());
            int rip = 2 * layout.register(X86_64Registers.RIP).offset();
            assertEquals(le64(0x401000), g.substring(rip, rip + 16));
            int dr7 = 2 * layout.register(X86_64Registers.DR7).offset();
            assertEquals(le64(0x400), g.substring(dr7, dr7 + 16));
            int eflags = 2 * layout.register(X86_64Registers.EFLAGS).offset();
            assertEquals("02020000", g.substring(eflags, eflags + 8));
        }
    }

    @Test
    void unavailableRegistersAreSentAsX() throws Exception {
        target.makeUnavailable(1, X86_64Registers.DR7);
        try (RspClient c = attach(PLAIN)) {
            assertEquals("x".repeat(16), c.request("p46"));
            int dr7 = 2 * RegisterLayout.x86_64().register(X86_64Registers.DR7).offset();
            assertEquals("x".repeat(16), c.request("g").substring(dr7, dr7 + 16));
        }
    }

    @Test
    void singleRegistersAreReadAndWrittenByNumber() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals(le64(0x401000), c.request("p10"));
            assertEquals(le64(0x400), c.request("p46"));
            assertEquals(le64(0xffff0ff0L), c.request("p45"));
            assertEquals(le64(0x80050033L), c.request("p3b"));
            assertEquals("OK", c.request("P46=" + le64(0x401)));
            assertEquals(0x401, target.register(1, X86_64Registers.DR7));
            assertEquals("E.no register number 82", c.request("p52"), "register reads explain themselves even to gdb 13");
            assertEquals("E.rip is 8 bytes, got 2", c.request("P10=1234"), "wrong size: register writes explain themselves too");
        }
    }

    @Test
    void gWritesOnlyTheRegistersThePacketCovers() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            String g = c.request("g");
            int ripEnd = 2 * (RegisterLayout.x86_64().register(X86_64Registers.RIP).offset() + 8);
            String prefix = g.substring(0, ripEnd - 16) + le64(0x401500);
            assertEquals("OK", c.request("G" + prefix));
            assertEquals(0x401500, target.register(1, X86_64Registers.RIP));
            assertEquals(0x400, target.register(1, X86_64Registers.DR7));
            assertTrue(c.request("G" + prefix + "00").startsWith("E"), "G ending inside a register");
        }
    }

    /** gdb 13 prints a failed register write's raw reply, so the reason goes in it without error-message+. */
    @Test
    void aRefusedRegisterWriteCarriesTheReasonWithoutErrorMessages() throws Exception {
        target.refuseRegisterWrites = "#GP(0x1230): cs 0x1230 is beyond the GDT's limit";
        try (RspClient c = attach(PLAIN)) {
            // '#' would end the packet: an exception's mnemonic goes without it
            assertEquals("E.GP(0x1230): cs 0x1230 is beyond the GDT's limit", c.request("P12=30120000"));
            assertEquals("E.GP(0x1230): cs 0x1230 is beyond the GDT's limit", c.request("G" + "00".repeat(8)));
        }
    }
}
