package dev.tdemu.core.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ExecutionModeTest {
    @Test
    void theModeFollowsPeVmLmaAndTheCodeSegmentsLAndDBits() {
        assertEquals(ExecutionMode.REAL, ExecutionMode.of(false, false, false, false, true), "PE=0 is real mode whatever CS says");
        assertEquals(ExecutionMode.VIRTUAL_8086, ExecutionMode.of(true, true, false, false, false));
        assertEquals(ExecutionMode.PROTECTED_16, ExecutionMode.of(true, false, false, false, false));
        assertEquals(ExecutionMode.PROTECTED_32, ExecutionMode.of(true, false, false, false, true));
        assertEquals(ExecutionMode.LONG_64, ExecutionMode.of(true, false, true, true, false));
        assertEquals(ExecutionMode.PROTECTED_32, ExecutionMode.of(true, false, true, false, true), "compatibility mode");
        assertEquals(ExecutionMode.PROTECTED_16, ExecutionMode.of(true, true, true, false, false), "no virtual-8086 mode in IA-32e mode");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ExecutionMode.of(true, false, true, true, true))
                .getMessage().contains("reserved"));
    }

    @Test
    void defaultSizesAreTheSdms() {
        assertEquals(2, ExecutionMode.REAL.defaultOperandSize());
        assertEquals(2, ExecutionMode.REAL.defaultAddressSize());
        assertEquals(4, ExecutionMode.PROTECTED_32.defaultAddressSize());
        assertEquals(4, ExecutionMode.LONG_64.defaultOperandSize());
        assertEquals(8, ExecutionMode.LONG_64.defaultAddressSize());
        assertTrue(ExecutionMode.VIRTUAL_8086.isProtected() && ExecutionMode.VIRTUAL_8086.isReal8086());
    }

    @Test
    void sregEncodingsAreEsCsSsDsFsGs() {
        assertEquals(Sreg.SS, Sreg.fromEncoding(2));
        assertEquals(Sreg.GS, Sreg.fromEncoding(5));
        assertThrows(IllegalArgumentException.class, () -> Sreg.fromEncoding(6));
        assertEquals("%fs", Sreg.FS.attName());
    }
}
