package dev.tdemu.emulator.machine;

import dev.tdemu.core.x86.Event;
import static dev.tdemu.core.x86.ExceptionVector.GP;
import static dev.tdemu.core.x86.ExceptionVector.DF;
import static dev.tdemu.core.x86.ExceptionVector.DE;
import static dev.tdemu.core.x86.ExceptionVector.DB;
import static dev.tdemu.core.x86.ExceptionVector.BP;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class IdtDeliveryTest {
    static final long IDT = 0x150000;
    static final long HANDLER = 0x120000;

    GuestMemory mem;
    FakeCpu cpu;

    static final class FakeCpu implements IdtDelivery.Cpu {
        final GuestMemory mem;
        long rsp = 0x180000, rflags = 0x202, cr2 = -1, rip = -1;
        int cs = BootStructures.KERNEL_CS, ss = BootStructures.KERNEL_DS, cpl = 0, idtLimit = 256 * 16 - 1;
        boolean committed;

        FakeCpu(GuestMemory mem) {
            this.mem = mem;
        }

        public long rsp() { return rsp; }
        public long rflags() { return rflags; }
        public int cs() { return cs; }
        public int ss() { return ss; }
        public int cpl() { return cpl; }
        public long idtBase() { return IDT; }
        public int idtLimit() { return idtLimit; }
        public long gdtBase() { return BootStructures.GDT_BASE; }
        public int gdtLimit() { return BootStructures.gdtLimit(1); }
        public int trSelector() { return BootStructures.tssSelector(0); }
        public long trBase() { return BootStructures.tssBase(0); }
        public int trLimit() { return 0x67; }
        public long cr3() { return BootStructures.PML4_BASE; }
        public GuestMemory memory() { return mem; }

        public void commit(long cr2, long rip, int cs, int newCpl, long rsp, int ss, long rflags) {
            committed = true;
            if (cr2 != -1) this.cr2 = cr2;
            this.rip = rip;
            this.cs = cs;
            this.cpl = newCpl;
            this.rsp = rsp;
            if (ss != -1) this.ss = ss;
            this.rflags = rflags;
        }
    }

    void gate(int vector, long handler, int type, int ist, boolean present) {
        long lo = (handler & 0xFFFF) | ((long) BootStructures.KERNEL_CS << 16) | ((long) ist << 32)
                | ((long) type << 40) | ((present ? 1L : 0) << 47) | (((handler >>> 16) & 0xFFFF) << 48);
        mem.write64(IDT + 16L * vector, lo);
        mem.write64(IDT + 16L * vector + 8, handler >>> 32);
    }

    @BeforeEach
    void setUp() {
        mem = new GuestMemory(4L << 20);
        BootStructures.build(mem, 1);
        cpu = new FakeCpu(mem);
    }

    @AfterEach
    void tearDown() {
        mem.close();
    }

    @Test
    void generalProtectionAtCpl0PushesAnAlignedFrameWithErrorCodeAndRfSet() {
        gate(13, HANDLER, 0xE, 0, true);
        cpu.rsp = 0x180008; // not 16-byte aligned: the CPU aligns before pushing
        var out = IdtDelivery.deliver(cpu, Event.fault(GP).errorCode(0x28).at(0x100010));
        assertThat(out).isInstanceOf(IdtDelivery.Result.Delivered.class);
        assertThat(cpu.rip).isEqualTo(HANDLER);
        assertThat(cpu.rsp).isEqualTo(0x180000 - 48);
        long f = cpu.rsp;
        assertThat(mem.read64(f)).as("error code").isEqualTo(0x28);
        assertThat(mem.read64(f + 8)).as("RIP").isEqualTo(0x100010);
        assertThat(mem.read64(f + 16)).as("CS").isEqualTo(BootStructures.KERNEL_CS);
        assertThat(mem.read64(f + 24)).as("RFLAGS with RF").isEqualTo(0x202 | 0x10000);
        assertThat(mem.read64(f + 32)).as("old RSP").isEqualTo(0x180008);
        assertThat(mem.read64(f + 40)).as("SS").isEqualTo(BootStructures.KERNEL_DS);
        assertThat(cpu.rflags & 0x200).as("interrupt gate clears IF").isZero();
    }

    @Test
    void trapGateKeepsInterruptsEnabledAndTrapsDoNotSetRf() {
        gate(3, HANDLER, 0xF, 0, true);
        cpu.rflags = 0x302; // IF and TF
        IdtDelivery.deliver(cpu, Event.trap(BP).after(0x100001));
        assertThat(cpu.rflags).isEqualTo(0x202);
        assertThat(mem.read64(cpu.rsp + 16)).as("pushed RFLAGS keep TF, no RF").isEqualTo(0x302);
        assertThat(mem.read64(cpu.rsp)).isEqualTo(0x100001);
    }

    @Test
    void instructionBreakpointFaultDoesNotSetRfInTheFrame() {
        gate(1, HANDLER, 0xE, 0, true);
        IdtDelivery.deliver(cpu, Event.fault(DB).at(0x100000).withResumeFlag(false));
        assertThat(mem.read64(cpu.rsp + 16) & 0x10000).isZero();
    }

    @Test
    void exceptionAtCpl3SwitchesToRsp0AndLoadsANullStackSegment() {
        gate(13, HANDLER, 0xE, 0, true);
        cpu.cpl = 3;
        cpu.cs = BootStructures.USER_CS;
        cpu.ss = BootStructures.USER_DS;
        cpu.rsp = 0x170000;
        IdtDelivery.deliver(cpu, Event.fault(GP).errorCode(0).at(0x100020));
        long rsp0 = mem.read64(BootStructures.tssBase(0) + 4);
        assertThat(cpu.rsp).isEqualTo(rsp0 - 48);
        assertThat(cpu.cpl).isZero();
        assertThat(cpu.ss).isZero();
        assertThat(cpu.cs).isEqualTo(BootStructures.KERNEL_CS);
        assertThat(mem.read64(cpu.rsp + 16)).as("user CS").isEqualTo(BootStructures.USER_CS);
        assertThat(mem.read64(cpu.rsp + 32)).as("user RSP").isEqualTo(0x170000);
        assertThat(mem.read64(cpu.rsp + 40)).as("user SS").isEqualTo(BootStructures.USER_DS);
    }

    @Test
    void istGateUsesTheInterruptStackTable() {
        gate(8, HANDLER, 0xE, 1, true);
        IdtDelivery.deliver(cpu, Event.abort(DF).errorCode(0).at(0x100000));
        assertThat(cpu.rsp).isEqualTo(mem.read64(BootStructures.tssBase(0) + 36) - 48);
    }

    @Test
    void missingGateForAContributoryFaultBecomesADoubleFault() {
        gate(8, HANDLER + 0x100, 0xE, 1, true);
        var out = IdtDelivery.deliver(cpu, Event.fault(DE).at(0x100000)); // #DE, gate 0 absent
        assertThat(out).isInstanceOf(IdtDelivery.Result.Delivered.class);
        assertThat(((IdtDelivery.Result.Delivered) out).delivered().vector()).isEqualTo(8);
        assertThat(cpu.rip).isEqualTo(HANDLER + 0x100);
        assertThat(mem.read64(cpu.rsp)).as("#DF error code").isZero();
    }

    @Test
    void benignExceptionWhoseGateIsMissingIsReplacedByTheNestedFault() {
        gate(11, HANDLER, 0xE, 0, true);
        gate(1, HANDLER, 0xE, 0, false);
        var out = IdtDelivery.deliver(cpu, Event.trap(DB).after(0x100000)); // #DB gate not present -> #NP
        assertThat(((IdtDelivery.Result.Delivered) out).delivered().vector()).isEqualTo(11);
        assertThat(mem.read64(cpu.rsp)).as("#NP(IDT entry 1, IDT, EXT)").isEqualTo(1 * 8 + 2 + 1);
    }

    @Test
    void anEmptyGateIsAGeneralProtectionFaultNotASegmentNotPresent() {
        gate(13, HANDLER, 0xE, 0, true);
        var out = IdtDelivery.deliver(cpu, Event.trap(DB).after(0x100000));
        assertThat(((IdtDelivery.Result.Delivered) out).delivered().vector()).isEqualTo(13);
    }

    @Test
    void noIdtAtAllEndsInATripleFault() {
        cpu.idtLimit = 0;
        var out = IdtDelivery.deliver(cpu, Event.fault(GP).errorCode(0).at(0x100000));
        assertThat(out).isInstanceOf(IdtDelivery.Result.TripleFault.class);
        assertThat(((IdtDelivery.Result.TripleFault) out).reason()).contains("IDT limit").contains("#DF");
        assertThat(cpu.committed).isFalse();
    }

    @Test
    void unmappedStackDuringPageFaultDeliveryDoubleFaultsOntoTheIstStack() {
        gate(14, HANDLER, 0xE, 0, true);
        gate(8, HANDLER + 0x200, 0xE, 1, true);
        cpu.rsp = 0x800000; // beyond the 4 MiB of mapped RAM
        var out = IdtDelivery.deliver(cpu, Event.pageFault(2, 0x900000).at(0x100000));
        assertThat(((IdtDelivery.Result.Delivered) out).delivered().vector()).isEqualTo(8);
        assertThat(cpu.rip).isEqualTo(HANDLER + 0x200);
    }

    @Test
    void pageFaultDeliverySetsCr2() {
        gate(14, HANDLER, 0xE, 0, true);
        IdtDelivery.deliver(cpu, Event.pageFault(2, 0x123456).at(0x100000));
        assertThat(cpu.cr2).isEqualTo(0x123456);
        assertThat(mem.read64(cpu.rsp)).isEqualTo(2);
    }

    @Test
    void gateToAUserCodeSegmentFromCpl0IsRefused() {
        long lo = (HANDLER & 0xFFFF) | ((long) BootStructures.USER_CS << 16) | (0xEL << 40) | (1L << 47);
        mem.write64(IDT + 16 * 13, lo);
        var out = IdtDelivery.deliver(cpu, Event.fault(GP).errorCode(0).at(0x100000));
        assertThat(out).isInstanceOf(IdtDelivery.Result.TripleFault.class);
    }
}
