package dev.tdemu.emulator.platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.tdemu.core.pc.AcpiTables;
import dev.tdemu.core.platform.ManualClock;
import dev.tdemu.emulator.machine.GuestMemory;
import org.junit.jupiter.api.Test;

/**
 * Which device deadlines make a PC vCPU keep its kick hook on: only those whose interrupt can
 * reach a CPU unmasked ({@link PcMachine#nextInterruptDeadline}).
 */
class PcMachineInterruptDeadlineTest {
    private final ManualClock clock = new ManualClock();
    private final PcMachine pc = new PcMachine(new Platform(), clock, new GuestMemory(16L << 20), 1,
            new PcMachine.Wiring(b -> {}, status -> {}, () -> {}));

    @Test
    void aPitCountingBehindAMaskedIrq0CannotInterruptAnyCpu() {
        startPitChannel0();
        assertNotEquals(Long.MAX_VALUE, pc.nextDeadline(), "the PIT itself has a deadline");
        assertEquals(Long.MAX_VALUE, pc.nextInterruptDeadline(), "the BIOS-programmed PIC masks IRQ 0, the I/O APIC pin 2");
    }

    @Test
    void unmaskingIrq0AtThePicMakesThePitDeadlineCountWhileLint0PassesThePicsInterrupt() {
        startPitChannel0();
        pc.portOut(0x21, 1, 0xFA); // OCW1: IRQ 0 (and the cascade) unmasked
        assertEquals(pc.nextDeadline(), pc.nextInterruptDeadline(), "the BSP's LINT0 is ExtINT, as the BIOS leaves it");
        pc.apicPage(0).write(0xF0, 4, 0x1FF); // SVR: software enabled
        pc.apicPage(0).write(0x350, 4, 0x10700); // LVT LINT0: ExtINT, masked
        assertEquals(Long.MAX_VALUE, pc.nextInterruptDeadline(), "LINT0 masked: the PIC's INTR reaches no CPU");
    }

    @Test
    void anUnmaskedIoApicPinCountsWithoutThePic() {
        startPitChannel0();
        long ioapic = AcpiTables.IO_APIC_ADDRESS;
        pc.mmioWrite(ioapic, 4, 0x10 + 2 * 2); // IOREGSEL: redirection entry 2, low half
        pc.mmioWrite(ioapic + 0x10, 4, 0x30); // IOWIN: vector 0x30, fixed, unmasked
        assertEquals(pc.nextDeadline(), pc.nextInterruptDeadline());
    }

    @Test
    void anArmedLocalApicTimerCounts() {
        pc.apicPage(0).write(0xF0, 4, 0x1FF);
        pc.apicPage(0).write(0x3E0, 4, 0xB); // divide by 1
        pc.apicPage(0).write(0x320, 4, 0x40); // one-shot, vector 0x40
        assertEquals(Long.MAX_VALUE, pc.nextInterruptDeadline(), "no count yet");
        pc.apicPage(0).write(0x380, 4, 1000);
        assertNotEquals(Long.MAX_VALUE, pc.nextInterruptDeadline());
    }

    private void startPitChannel0() {
        pc.portOut(0x43, 1, 0x34); // channel 0, lobyte/hibyte, mode 2
        pc.portOut(0x40, 1, 0x00);
        pc.portOut(0x40, 1, 0x10);
    }
}
