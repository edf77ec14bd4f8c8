package dev.tdemu.core.x86;

import static dev.tdemu.core.x86.ExceptionVector.DB;
import static dev.tdemu.core.x86.ExceptionVector.DF;
import static dev.tdemu.core.x86.ExceptionVector.GP;
import static dev.tdemu.core.x86.ExceptionVector.PF;
import static dev.tdemu.core.x86.ExceptionVector.UD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tdemu.core.x86.ExceptionVector.DoubleFaultClass;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class EventTest {
    private static void refused(String message, Executable e) {
        String got = assertThrows(RuntimeException.class, e).getMessage();
        assertTrue(got.contains(message), got);
    }

    @Test
    void aFaultSavesItsOwnRipWithRfAndItsErrorCode() {
        EventDelivery d = Event.fault(GP).errorCode(0x18).at(0x1000);
        assertEquals(0x1000, d.returnRip());
        assertTrue(d.resumeFlag());
        assertEquals(new Event.HardwareException(GP, OptionalInt.of(0x18), OptionalLong.empty()), d.event());
        assertEquals("#GP(0x18) at RIP 0x1000 RF", d.toString());
    }

    @Test
    void aTrapSavesTheNextRipWithoutRf() {
        EventDelivery d = Event.trap(DB).after(0x1003);
        assertEquals(0x1003, d.returnRip());
        assertFalse(d.resumeFlag());
        assertTrue(d.withResumeFlag(true).resumeFlag(), "after a non-final REP iteration");
    }

    @Test
    void anInstructionBreakpointIsAFaultWhoseFrameHasNoRf() {
        assertFalse(Event.fault(DB).at(0x2000).withResumeFlag(false).resumeFlag());
    }

    @Test
    void aPageFaultCarriesCr2() {
        EventDelivery d = Event.pageFault(6, 0xdead000).at(0x1000);
        assertEquals(OptionalLong.of(0xdead000), ((Event.HardwareException) d.event()).cr2());
        assertTrue(d.is(PF));
        assertEquals(DoubleFaultClass.PAGE_FAULT, d.event().doubleFaultClass());
    }

    @Test
    void aReportedExceptionKeepsOnlyWhatItsVectorPushes() {
        assertEquals(Event.pageFault(6, 0xdead000).at(0x1000), Event.exception(PF, 6, 0xdead000).at(0x1000));
        assertEquals(Event.fault(GP).errorCode(0x18).at(0x1000), Event.exception(GP, 0x18, 0x5000).at(0x1000),
                "CR2 belongs to #PF only");
        assertEquals(Event.fault(UD).at(0x1000), Event.exception(UD, 7, 0).at(0x1000), "#UD pushes no error code");
        assertEquals(Event.abort(DF).errorCode(0).at(0x1000), Event.exception(DF, 0, 0).at(0x1000));
        assertFalse(Event.exception(ExceptionVector.BP, 0, 0).at(0x1001).resumeFlag(), "a trap's frame has no RF");
        assertEquals(Event.nmi(), Event.exception(ExceptionVector.NMI, 0, 0));
    }

    @Test
    void errorCodesMustMatchTheVector() {
        refused("#GP pushes an error code", () -> Event.fault(GP).at(0));
        refused("#UD pushes no error code", () -> Event.fault(UD).errorCode(0).at(0));
        refused("CR2 belongs to #PF", () -> new Event.HardwareException(GP, OptionalInt.of(0), OptionalLong.of(1)));
        refused("NMI is interrupt, not fault", () -> Event.fault(ExceptionVector.NMI));
    }

    @Test
    void faultsTrapsAndAbortsAreNotInterchangeable() {
        refused("#GP is fault, not trap", () -> Event.trap(GP));
        refused("#DF is abort", () -> Event.fault(DF));
        refused("use after(nextRip)", () -> Event.trap(DB).at(0));
        refused("use at(rip)", () -> Event.fault(DB).after(0));
        assertTrue(Event.abort(DF).errorCode(0).at(5).resumeFlag());
    }

    @Test
    void softwareInterruptsSaveTheRipAfterTheInstructionAndClearExt() {
        EventDelivery d = Event.softwareInterrupt(0x80, 2).at(0x1000);
        assertEquals(0x1002, d.returnRip());
        assertEquals(0x1000, d.instructionRip());
        assertFalse(d.event().external());
        assertTrue(d.event().checksGateDpl());
        assertEquals(3, Event.int3(1).at(0x10).event().vector());
        assertEquals(4, Event.into(1).at(0x10).event().vector());
        assertFalse(Event.int3(1).at(0x10).is(ExceptionVector.BP), "INT3 is a software exception, not hardware #BP");
        assertEquals("INT 0x80 at RIP 0x1002", d.toString());
    }

    @Test
    void icebpIsExternalAndSkipsTheDplCheck() {
        Event e = Event.int1(1);
        assertTrue(e.external());
        assertFalse(e.checksGateDpl());
        assertEquals(1, e.vector());
    }

    @Test
    void interruptsAreBenignExternalAndAnyVector() {
        Event irq0InRealMode = Event.externalInterrupt(8);
        assertEquals(DoubleFaultClass.BENIGN, irq0InRealMode.doubleFaultClass());
        assertTrue(irq0InRealMode.external());
        assertFalse(irq0InRealMode.at(0x7c00).is(DF));
        assertFalse(irq0InRealMode.at(0x7c00).resumeFlag());
        assertEquals(2, Event.nmi().vector());
        refused("0..255", () -> Event.externalInterrupt(256));
        refused("raises vector 3", () -> new Event.SoftwareInterrupt(Event.Instruction.INT3, 4, 1));
        refused("1..15", () -> Event.softwareInterrupt(0x80, 16));
    }
}
