package dev.tdemu.emulator.platform;

import dev.tdemu.core.pc.AcpiPm;
import dev.tdemu.core.pc.AcpiTables;
import dev.tdemu.core.pc.ApicBus;
import dev.tdemu.core.pc.ApicExtIntSource;
import dev.tdemu.core.pc.CpuidFeatures;
import dev.tdemu.core.pc.CpuidModel;
import dev.tdemu.core.pc.FwCfg;
import dev.tdemu.core.pc.GuestTsc;
import dev.tdemu.core.pc.I440fxHostBridge;
import dev.tdemu.core.pc.IoApic;
import dev.tdemu.core.pc.IsaDebugExit;
import dev.tdemu.core.pc.LocalApic;
import dev.tdemu.core.pc.Mc146818Rtc;
import dev.tdemu.core.pc.MpInitState;
import dev.tdemu.core.pc.MsrFile;
import dev.tdemu.core.pc.MsrVcpuContext;
import dev.tdemu.core.pc.NmiStatusControl;
import dev.tdemu.core.pc.PcTestdev;
import dev.tdemu.core.pc.PciConfigMechanism1;
import dev.tdemu.core.pc.Pic8259Pair;
import dev.tdemu.core.pc.Pit8254;
import dev.tdemu.core.pc.PostCodePort;
import dev.tdemu.core.pc.Uart16550;
import dev.tdemu.core.platform.Clock;
import dev.tdemu.core.platform.InterruptLine;
import dev.tdemu.core.platform.MmioDevice;
import dev.tdemu.core.platform.PortDevice;
import dev.tdemu.core.platform.TimedDevice;
import dev.tdemu.emulator.machine.GuestMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The PC a Multiboot kernel built for QEMU's {@code pc} machine expects (kvm-unit-tests): COM1
 * (16550A), isa-debug-exit at 0xF4, pc-testdev, fw_cfg, the POST port, the 8259 pair, the 8254 PIT with port
 * 0x61, the MC146818 RTC and CMOS, PCI configuration mechanism 1 with an i440FX host bridge, ACPI
 * tables in the BIOS area with the PIIX4 PM block, one local APIC per vCPU and the I/O APIC, all on
 * one {@link Platform}. ISA IRQ n goes to the PIC's IRQ n and to I/O APIC pin n, except the PIT's
 * IRQ 0, which reaches pin 2 (the MADT says so). Devices are not thread-safe: every access goes
 * through {@link #lock()}; the APICs are, and take only their own locks.
 */
public final class PcMachine {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.platform");
    /** QEMU's default guest RAM, what kvm-unit-tests' runner gives a test when it says nothing. */
    public static final long DEFAULT_MEMORY = 128L << 20;
    public static final int COM1 = 0x3F8, COM1_IRQ = 4;
    public static final int DEBUG_EXIT_BASE = 0xF4, DEBUG_EXIT_SIZE = 4;

    /**
     * A TD's firmware area, in the reserved BIOS range above the ACPI tables: the ACPI
     * Multiprocessor Wakeup mailbox, then the page tables (PML4, PDPT, four page directories of
     * 2 MiB pages: the first 4 GiB identity-mapped) and the GDT (null, 64-bit code 0x08, data 0x10)
     * its application processors hold while they wait, as TDVF's AP loop does.
     */
    public static final long TD_WAKEUP_MAILBOX = 0xF0000;
    public static final long TD_FIRMWARE_PML4 = 0xF1000;
    public static final long TD_FIRMWARE_GDT = 0xF7000;
    public static final int TD_FIRMWARE_GDT_LIMIT = 3 * 8 - 1;
    public static final int TD_FIRMWARE_CODE64 = 0x08, TD_FIRMWARE_DATA = 0x10;

    /** What the machine hands to the world around it. */
    public record Wiring(Uart16550.Output serial, LongConsumer debugExit, Runnable powerOff) {}

    /**
     * One vCPU's part of the machine: its local APIC (with its TSC) and its multiple-processor
     * initialisation state (the BSP runs, the application processors wait for a start-up IPI).
     */
    public record Cpu(int index, LocalApic apic, GuestTsc tsc, MpInitState mp) {}

    private final Object lock = new Object();
    private final Platform platform;
    private final Clock clock;
    private final ApicBus apicBus;
    private final IoApic ioapic;
    private final Pic8259Pair pic;
    private final Pit8254 pit;
    private final Uart16550 com1;
    private final Mc146818Rtc rtc;
    private final AcpiPm pm;
    private final CpuidModel cpuid;
    private final List<Cpu> cpus = new ArrayList<>();
    private final List<TimedDevice> timed = new ArrayList<>();
    private final GuestMemory memory;
    private final boolean trustDomain;

    public PcMachine(Platform platform, Clock clock, GuestMemory memory, int vcpus, Wiring wiring) {
        this(platform, clock, memory, vcpus, wiring, false);
    }

    /**
     * @param trustDomain the machine of a TD: every local APIC starts in x2APIC mode (KVM creates a
     *                    TD's vCPUs so, and a TD has no xAPIC page), INIT and SIPI are blocked, and
     *                    the application processors wait in the firmware for the ACPI
     *                    Multiprocessor Wakeup mailbox, which the MADT names
     */
    public PcMachine(Platform platform, Clock clock, GuestMemory memory, int vcpus, Wiring wiring, boolean trustDomain) {
        this.memory = memory;
        this.trustDomain = trustDomain;
        this.platform = platform;
        this.clock = clock;
        this.cpuid = CpuidModel.pc(vcpus);
        CpuidFeatures features = cpuid.features();
        this.apicBus = new ApicBus((source, icr, why) -> LOG.error("an interrupt message reached no CPU: {} ({})", icr, why));
        this.ioapic = new IoApic(apicBus);
        InterruptLine[] isa = new InterruptLine[16];
        // The PIC's INTR reaches the boot CPU's LINT0 (ExtINT: the BSP takes the vector from the PIC).
        InterruptLine[] lint0 = new InterruptLine[1];
        this.pic = new Pic8259Pair(new InterruptLine() {
            @Override
            public void raise() {
                if (lint0[0] != null) {
                    lint0[0].raise();
                }
            }

            @Override
            public void lower() {
                if (lint0[0] != null) {
                    lint0[0].lower();
                }
            }
        });
        for (int irq = 0; irq < 16; irq++) {
            // IRQ 2 is the PICs' cascade: no ISA device drives it (its pin is IRQ 9 on a PC).
            isa[irq] = irq == 2 ? InterruptLine.NONE : fanOut(pic.irq(irq), ioapic.pin(irq == 0 ? 2 : irq));
        }
        this.pit = new Pit8254(isa[0], clock);
        this.com1 = new Uart16550(COM1, isa[COM1_IRQ], clock, wiring.serial());
        this.rtc = new Mc146818Rtc(isa[8], clock, System.currentTimeMillis() / 1000);
        rtc.setPcConfiguration(memory.size(), 0, vcpus);
        this.pm = new AcpiPm(AcpiTables.PIIX4_PM_BASE, clock, isa[AcpiTables.SCI_IRQ], wiring.powerOff()::run);
        ApicExtIntSource extInt = new ApicExtIntSource() {
            @Override
            public boolean pending() {
                synchronized (lock) {
                    return pic.intr();
                }
            }

            @Override
            public int acknowledge() {
                synchronized (lock) {
                    return pic.interruptAcknowledge();
                }
            }
        };
        for (int i = 0; i < vcpus; i++) {
            GuestTsc tsc = GuestTsc.oneGigahertz(clock);
            LocalApic apic = new LocalApic(i, i == 0, clock, LocalApic.DEFAULT_BUS_CYCLE_NS, features, tsc, apicBus);
            apic.setEoiListener(ioapic);
            apic.setExtIntSource(extInt);
            apicBus.attach(apic);
            if (trustDomain) {
                apic.writeApicBase(dev.tdemu.core.pc.ApicBase.DEFAULT_BASE | dev.tdemu.core.pc.ApicBase.ENABLE
                        | dev.tdemu.core.pc.ApicBase.X2APIC_ENABLE | (i == 0 ? dev.tdemu.core.pc.ApicBase.BSP : 0));
            }
            cpus.add(new Cpu(i, apic, tsc, trustDomain ? MpInitState.trustDomain(apic) : new MpInitState(apic)));
            timed.add(apic);
        }
        lint0[0] = cpus.getFirst().apic().lint0();
        timed.add(pit);
        timed.add(rtc);
        timed.add(pm);
        timed.add(com1);

        // The ports, as QEMU's pc machine has them for kvm-unit-tests.
        com1.attachTo(platform.ports(), "COM1");
        new IsaDebugExit(DEBUG_EXIT_BASE, DEBUG_EXIT_SIZE, wiring.debugExit()::accept).attachTo(platform.ports());
        FwCfg.builder().ramSize(memory.size()).cpus(vcpus, vcpus).noGraphic(true).build().attachTo(platform.ports());
        new PostCodePort().attachTo(platform.ports());
        pic.attachTo(platform.ports());
        pit.attachTo(platform.ports());
        new NmiStatusControl(pit).attachTo(platform.ports());
        rtc.attachTo(platform.ports());
        PciConfigMechanism1 pci = new PciConfigMechanism1();
        pci.attach(0, 0, new I440fxHostBridge());
        pci.attachTo(platform.ports());
        pm.attachTo(platform.ports());
        platform.mmio().register("I/O APIC", AcpiTables.IO_APIC_ADDRESS, 0x1000, ioapic);
        // kvm-unit-tests' runner adds pc-testdev to every test; its lines are GSIs: the ISA IRQs
        // below 16 (IRQ 0 reaches pin 2), the I/O APIC's own pins above; GSI 2 is pin 2 alone.
        new PcTestdev(gsi -> gsi == 2 || gsi >= 16 ? ioapic.pin(gsi) : isa[gsi]).attachTo(platform.ports(), platform.mmio());
        // The BIOS would have programmed the PICs (vector bases 0x08 and 0x70, slave on IRQ 2):
        // a Multiboot kernel finds them that way.
        programPicsAsTheBiosDoes();
        // The ACPI tables in the BIOS area, where an OS looks for the RSDP.
        AcpiTables.Builder tables = AcpiTables.builder().cpus(vcpus);
        if (trustDomain) {
            tables.mpWakeupMailbox(TD_WAKEUP_MAILBOX);
            writeTdFirmwareArea(memory);
        }
        AcpiTables.Image acpi = tables.build();
        memory.writeBytes(acpi.address(), acpi.bytes());
    }

    /** An empty mailbox, the firmware's identity map of the first 4 GiB and its flat GDT. */
    private static void writeTdFirmwareArea(GuestMemory memory) {
        memory.fill(TD_WAKEUP_MAILBOX, TD_FIRMWARE_GDT + 0x1000 - TD_WAKEUP_MAILBOX, (byte) 0);
        java.nio.ByteBuffer pml4 = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long pdpt = TD_FIRMWARE_PML4 + 0x1000;
        memory.writeBytes(TD_FIRMWARE_PML4, pml4.putLong(0, pdpt | 0x3).array()); // present, writable
        java.nio.ByteBuffer table = java.nio.ByteBuffer.allocate(0x1000).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int gib = 0; gib < 4; gib++) {
            long pd = pdpt + 0x1000 + gib * 0x1000L;
            table.putLong(gib * 8, pd | 0x3);
        }
        memory.writeBytes(pdpt, table.array());
        for (int gib = 0; gib < 4; gib++) {
            java.nio.ByteBuffer pd = java.nio.ByteBuffer.allocate(0x1000).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int e = 0; e < 512; e++) {
                pd.putLong(e * 8, ((long) gib << 30) + ((long) e << 21) | 0x83); // present, writable, 2 MiB
            }
            memory.writeBytes(pdpt + 0x1000 + gib * 0x1000L, pd.array());
        }
        java.nio.ByteBuffer gdt = java.nio.ByteBuffer.allocate(TD_FIRMWARE_GDT_LIMIT + 1).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        gdt.putLong(TD_FIRMWARE_CODE64, 0x00AF9B000000FFFFL).putLong(TD_FIRMWARE_DATA, 0x00CF93000000FFFFL);
        memory.writeBytes(TD_FIRMWARE_GDT, gdt.array());
    }

    /** Whether this is a TD's machine (see the constructor). */
    public boolean trustDomain() {
        return trustDomain;
    }

    /**
     * What vCPU {@code index}'s INIT and start-up requests do (MpInitState), and, for a TD's AP
     * waiting in the firmware, what the wakeup mailbox does: a Wakeup for it is acknowledged here,
     * by clearing Command, before the AP starts.
     */
    public dev.tdemu.core.pc.MpInitAction acceptMpEvents(int index) {
        MpInitState mp = cpus.get(index).mp();
        dev.tdemu.core.pc.MpInitAction action = mp.acceptEvents();
        if (!(action instanceof dev.tdemu.core.pc.MpInitAction.None) || !trustDomain || mp.runnable()) {
            return action;
        }
        action = mp.acceptWakeup(mailbox());
        if (action instanceof dev.tdemu.core.pc.MpInitAction.Wakeup) {
            memory.writeBytes(TD_WAKEUP_MAILBOX + dev.tdemu.core.pc.MpWakeupMailbox.COMMAND_OFFSET, new byte[2]);
        }
        return action;
    }

    /** Whether taking vCPU {@code index}'s requests would change it: INIT or SIPI, or (a TD's AP) a mailbox command for it. */
    public boolean mpEventPending(int index) {
        MpInitState mp = cpus.get(index).mp();
        return mp.eventPending() || (trustDomain && mp.wakeupPending(mailbox()));
    }

    private dev.tdemu.core.pc.MpWakeupMailbox.Request mailbox() {
        return dev.tdemu.core.pc.MpWakeupMailbox.Request.decode(
                memory.readBytes(TD_WAKEUP_MAILBOX, dev.tdemu.core.pc.MpWakeupMailbox.REQUEST_SIZE));
    }

    private void programPicsAsTheBiosDoes() {
        int[][] init = {{0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01}, {0xA0, 0x11}, {0xA1, 0x70}, {0xA1, 0x02},
            {0xA1, 0x01}, {0x21, 0xFB}, {0xA1, 0xFF}};
        for (int[] w : init) {
            platform.ports().out(w[0], 1, w[1]);
        }
    }

    private static InterruptLine fanOut(InterruptLine a, InterruptLine b) {
        return new InterruptLine() {
            @Override
            public void raise() {
                a.raise();
                b.raise();
            }

            @Override
            public void lower() {
                a.lower();
                b.lower();
            }
        };
    }

    /** The platform lock every device access holds (devices are not thread-safe). */
    public Object lock() {
        return lock;
    }

    public Platform platform() {
        return platform;
    }

    public Clock clock() {
        return clock;
    }

    public CpuidModel cpuid() {
        return cpuid;
    }

    public Cpu cpu(int index) {
        return cpus.get(index);
    }

    /** How many vCPUs the machine has (the MADT, fw_cfg and CPUID say the same). */
    public int cpuCount() {
        return cpus.size();
    }

    public Uart16550 com1() {
        return com1;
    }

    /** The per-vCPU MSRs, tied to that vCPU's APIC and its engine (through {@code context}). */
    public MsrFile msrFile(int index, MsrVcpuContext context) {
        return new MsrFile(cpuid.features(), cpus.get(index).apic(), context);
    }

    /** Port I/O through the bus, under the platform lock. */
    public long portIn(int port, int size) {
        synchronized (lock) {
            return platform.ports().in(port, size);
        }
    }

    public void portOut(int port, int size, long value) {
        synchronized (lock) {
            platform.ports().out(port, size, value);
        }
    }

    /** MMIO through the bus, under the platform lock (a vCPU's own APIC page is not on the bus: see {@link #apicPage}). */
    public long mmioRead(long gpa, int size) {
        synchronized (lock) {
            return platform.mmio().read(gpa, size);
        }
    }

    public void mmioWrite(long gpa, int size, long value) {
        synchronized (lock) {
            platform.mmio().write(gpa, size, value);
        }
    }

    /** vCPU {@code index}'s xAPIC page, as its engine maps it at the APIC base. */
    public MmioDevice apicPage(int index) {
        return cpus.get(index).apic();
    }

    /** The earliest virtual time any device wants to act at ({@link Long#MAX_VALUE}: none). */
    public long nextDeadline() {
        long next = Long.MAX_VALUE;
        synchronized (lock) {
            for (TimedDevice d : timed) {
                next = Math.min(next, d.nextDeadline());
            }
        }
        return next;
    }

    /** Lets every device whose time has come act (raise its line, count a period). */
    public void expire(long now) {
        synchronized (lock) {
            for (TimedDevice d : timed) {
                if (d.nextDeadline() <= now) {
                    d.expire(now);
                }
            }
        }
    }

    /** Bytes from the host for COM1's receiver (what of them fits; the rest waits for {@link Uart16550#receiveRoom}). */
    public int serialInput(byte[] bytes, int offset, int length) {
        synchronized (lock) {
            int n = Math.min(length, com1.receiveRoom());
            if (n > 0) {
                com1.receive(java.util.Arrays.copyOfRange(bytes, offset, offset + n));
            }
            return n;
        }
    }

    /** A device a vCPU reached through a port (for the unclaimed-port log only). */
    static String describe(PortDevice d) {
        return d.getClass().getSimpleName();
    }
}
