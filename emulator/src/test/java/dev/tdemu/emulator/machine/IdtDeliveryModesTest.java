package dev.tdemu.emulator.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.x86.Event;
import dev.tdemu.core.x86.EventDelivery;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.core.x86.Rflags;
import dev.tdemu.core.x86.Segment;
import dev.tdemu.emulator.machine.IdtDelivery.Result;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link IdtDelivery#deliver(IdtDelivery.Cpu, EventDelivery)} in real mode, 32-bit protected mode and IA-32e mode. */
class IdtDeliveryModesTest {
    static final long GDT = 0x1000, IDT = 0x2000, TSS = 0x3000;
    static final int CODE0 = 0x08, DATA0 = 0x10, DATA3 = 0x1B, CODE3 = 0x23, TSS_SEL = 0x28, CONFORMING = 0x30,
            CODE64 = 0x38, TINY_STACK = 0x40;

    final GuestMemory mem = new GuestMemory(4L << 20);
    final FakeCpu cpu = new FakeCpu();

    @AfterEach
    void close() {
        mem.close();
    }

    /** Every register delivery reads, settable; commits through the new {@link IdtDelivery.Commit}. */
    final class FakeCpu implements IdtDelivery.Cpu {
        long cr0 = PagingState.CR0_PE, cr3, cr4, efer, rsp = 0x90000, rflags = 0x202;
        Segment cs = Segment.fromDescriptor(CODE0, 0x00CF9A000000FFFFL), ss = Segment.fromDescriptor(DATA0, 0x00CF92000000FFFFL);
        long idtBase = IDT;
        int idtLimit = 256 * 8 - 1, trLimit = 0x67, trType = 0xB;
        IdtDelivery.Commit committed;

        public long rsp() { return rsp; }
        public long rflags() { return rflags; }
        public int cs() { return cs.selector(); }
        public int ss() { return ss.selector(); }
        public int cpl() { return (cr0 & PagingState.CR0_PE) == 0 ? 0 : cs.rpl(); }
        public long idtBase() { return idtBase; }
        public int idtLimit() { return idtLimit; }
        public long gdtBase() { return GDT; }
        public int gdtLimit() { return 0x4F; }
        public int trSelector() { return TSS_SEL; }
        public long trBase() { return TSS; }
        public int trLimit() { return trLimit; }
        public long cr3() { return cr3; }
        public GuestMemory memory() { return mem; }
        public long cr0() { return cr0; }
        public long cr4() { return cr4; }
        public long efer() { return efer; }
        public int maxPhysAddr() { return 36; }
        public Segment csSegment() { return cs; }
        public Segment ssSegment() { return ss; }
        public int trType() { return trType; }

        public void commit(long cr2, long rip, int cs, int newCpl, long rsp, int ss, long rflags) {
            throw new AssertionError("the new path commits through commit(Commit)");
        }

        @Override
        public void commit(IdtDelivery.Commit c) {
            committed = c;
            cs = c.cs();
            if (c.ss() != null) {
                ss = c.ss();
            }
            rsp = c.rsp();
            rflags = c.rflags();
        }
    }

    void gdt() {
        long[] gdt = {0, 0x00CF9A000000FFFFL, 0x00CF92000000FFFFL, 0x00CFF2000000FFFFL, 0x00CFFA000000FFFFL,
            0x0000_8B00_3000_0067L, 0x00CF9E000000FFFFL, 0x00AF9A000000FFFFL, 0x00409600_0000_0FFFL};
        for (int i = 0; i < gdt.length; i++) {
            mem.write64(GDT + 8L * i, gdt[i]);
        }
        mem.write32(TSS + 4, 0x9F000);  // ESP0
        mem.write16(TSS + 8, DATA0);    // SS0
    }

    /** A protected-mode gate: type 0xE/0xF (32-bit), 0x6/0x7 (16-bit), 0x5 (task). */
    void gate32(int vector, int selector, long offset, int type, int dpl) {
        long lo = (offset & 0xFFFF) | ((long) selector << 16) | ((long) type << 40) | ((long) dpl << 45) | (1L << 47)
                | ((offset >>> 16) << 48);
        mem.write64(IDT + 8L * vector, lo);
    }

    static Result.Delivered delivered(Result r) {
        assertThat(r).isInstanceOf(Result.Delivered.class);
        return (Result.Delivered) r;
    }

    // ---- Real mode ----------------------------------------------------------------------------

    void realMode() {
        cpu.cr0 = 0;
        cpu.cs = Segment.real(0x1234);
        cpu.ss = Segment.real(0x9000);
        cpu.rsp = 0xFFFE;
        cpu.idtBase = 0;
        cpu.idtLimit = 0x3FF;
    }

    @Test
    void realModeInterruptPushesFlagsCsAndIpAndJumpsThroughTheIvt() {
        realMode();
        cpu.rflags = Rflags.IF | Rflags.TF | Rflags.AC | 0x2;
        mem.write32(8 * 4, 0xF000_FEA5L);                       // IRQ 0 on the PIC's real-mode base: vector 8
        Result r = IdtDelivery.deliver(cpu, Event.externalInterrupt(8).at(0x5678));
        assertThat(delivered(r).handler()).isEqualTo(0xFFEA5);
        assertThat(cpu.committed.cs()).isEqualTo(Segment.real(0xF000));
        assertThat(cpu.committed.rip()).isEqualTo(0xFEA5);
        assertThat(cpu.rsp).isEqualTo(0xFFF8);
        long stack = 0x90000;
        assertThat(mem.read16(stack + 0xFFFC)).as("FLAGS").isEqualTo(0x302);
        assertThat(mem.read16(stack + 0xFFFA)).as("CS").isEqualTo(0x1234);
        assertThat(mem.read16(stack + 0xFFF8)).as("IP").isEqualTo(0x5678);
        assertThat(cpu.rflags).as("IF, TF and AC cleared").isEqualTo(0x2);
    }

    @Test
    void realModeExceptionsPushNoErrorCode() {
        realMode();
        mem.write32(13 * 4, 0x0000_0500L);
        IdtDelivery.deliver(cpu, Event.fault(ExceptionVector.GP).errorCode(0x10).at(0x100));
        assertThat(cpu.rsp).isEqualTo(0xFFF8);
        assertThat(mem.read16(0x90000 + 0xFFF8)).isEqualTo(0x100);
    }

    @Test
    void realModeStackWrapsAtSixtyFourKib() {
        realMode();
        cpu.rsp = 0x0002;
        mem.write32(0x20 * 4, 0x0000_0500L);
        delivered(IdtDelivery.deliver(cpu, Event.softwareInterrupt(0x20, 2).at(0x100)));
        assertThat(cpu.rsp).isEqualTo(0xFFFC);
        assertThat(mem.read16(0x90000)).as("FLAGS at SP 0").isEqualTo(0x202);
        assertThat(mem.read16(0x90000 + 0xFFFC)).as("IP after the INT").isEqualTo(0x102);
    }

    @Test
    void realModeVectorBeyondTheIvtLimitIsAGeneralProtectionFault() {
        realMode();
        cpu.idtLimit = 0x3F;                                    // vectors 0-15
        mem.write32(13 * 4, 0x0000_0600L);
        Result.Delivered d = delivered(IdtDelivery.deliver(cpu, Event.externalInterrupt(0x20).at(0x100)));
        assertThat(d.delivered().is(ExceptionVector.GP)).isTrue();
        assertThat(cpu.committed.rip()).isEqualTo(0x600);
    }

    @Test
    void realModeWithoutAnIvtTripleFaults() {
        realMode();
        cpu.idtLimit = 0;
        Result r = IdtDelivery.deliver(cpu, Event.fault(ExceptionVector.UD).at(0x100));
        assertThat(r).isInstanceOf(Result.TripleFault.class);
        assertThat(((Result.TripleFault) r).reason()).contains("#UD", "#GP", "#DF", "IVT limit");
        assertThat(cpu.committed).isNull();
    }

    // ---- 32-bit protected mode ------------------------------------------------------------------

    @Test
    void interruptGateAtCplZeroPushesEflagsCsEipAndTheErrorCode() {
        gdt();
        gate32(13, CODE0, 0x402000, 0xE, 0);
        Result r = IdtDelivery.deliver(cpu, Event.fault(ExceptionVector.GP).errorCode(0x18).at(0x401000));
        assertThat(delivered(r).handler()).isEqualTo(0x402000);
        assertThat(cpu.rsp).isEqualTo(0x90000 - 16);
        assertThat(mem.read32(0x90000 - 16)).as("error code").isEqualTo(0x18);
        assertThat(mem.read32(0x90000 - 12)).as("EIP").isEqualTo(0x401000);
        assertThat(mem.read32(0x90000 - 8)).as("CS").isEqualTo(CODE0);
        assertThat(mem.read32(0x90000 - 4)).as("EFLAGS with RF").isEqualTo(0x10202);
        assertThat(cpu.rflags).as("interrupt gate clears IF").isEqualTo(0x2);
        assertThat(cpu.committed.ss()).as("no stack switch").isNull();
    }

    @Test
    void aPrivilegeChangeTakesSs0AndEsp0FromTheTssAndPushesTheOldStack() {
        gdt();
        gate32(0x80, CODE0, 0x403000, 0xF, 3);
        cpu.cs = Segment.fromDescriptor(CODE3, 0x00CFFA000000FFFFL);
        cpu.ss = Segment.fromDescriptor(DATA3, 0x00CFF2000000FFFFL);
        cpu.rsp = 0x70000;
        IdtDelivery.deliver(cpu, Event.softwareInterrupt(0x80, 2).at(0x8048000));
        assertThat(cpu.committed.ss().selector()).isEqualTo(DATA0);
        assertThat(cpu.committed.cpl()).isZero();
        assertThat(cpu.committed.cs().selector()).isEqualTo(CODE0);
        assertThat(cpu.rsp).isEqualTo(0x9F000 - 20);
        long f = cpu.rsp;
        assertThat(new long[] {mem.read32(f), mem.read32(f + 4), mem.read32(f + 8), mem.read32(f + 12), mem.read32(f + 16)})
                .as("EIP after INT, CS, EFLAGS, ESP, SS").containsExactly(0x8048002L, CODE3, 0x202L, 0x70000L, DATA3);
        assertThat(cpu.rflags & Rflags.IF).as("a trap gate keeps IF").isNotZero();
    }

    @Test
    void sixteenBitGatesPushWords() {
        gdt();
        gate32(0x21, CODE0, 0x1234, 0x6, 0);
        IdtDelivery.deliver(cpu, Event.externalInterrupt(0x21).at(0x5000));
        assertThat(cpu.rsp).isEqualTo(0x90000 - 6);
        assertThat(mem.read16(0x90000 - 6)).as("IP").isEqualTo(0x5000);
        assertThat(mem.read16(0x90000 - 4)).as("CS").isEqualTo(CODE0);
        assertThat(mem.read16(0x90000 - 2)).as("FLAGS").isEqualTo(0x202);
        assertThat(cpu.committed.rip()).isEqualTo(0x1234);
    }

    @Test
    void intNThroughAGateOfLowerDplFaultsOnTheIntInstructionWithoutExt() {
        gdt();
        gate32(0x80, CODE0, 0x403000, 0xE, 0);
        gate32(13, CONFORMING, 0x404000, 0xE, 0);
        cpu.cs = Segment.fromDescriptor(CODE3, 0x00CFFA000000FFFFL);
        cpu.ss = Segment.fromDescriptor(DATA3, 0x00CFF2000000FFFFL);
        cpu.rsp = 0x70000;
        Result.Delivered d = delivered(IdtDelivery.deliver(cpu, Event.softwareInterrupt(0x80, 2).at(0x8048000)));
        assertThat(d.delivered().is(ExceptionVector.GP)).isTrue();
        assertThat(mem.read32(cpu.rsp)).as("#GP(0x80*8+2): IDT bit, no EXT").isEqualTo(0x80 * 8 + 2);
        assertThat(mem.read32(cpu.rsp + 4)).as("saved EIP: the INT itself").isEqualTo(0x8048000);
        assertThat(cpu.committed.cpl()).as("a conforming handler keeps CPL 3").isEqualTo(3);
    }

    @Test
    void interruptsAndIcebpSkipTheGateDplCheck() {
        gdt();
        gate32(0x80, CODE0, 0x403000, 0xE, 0);
        gate32(1, CODE0, 0x405000, 0xE, 0);
        cpu.cs = Segment.fromDescriptor(CODE3, 0x00CFFA000000FFFFL);
        cpu.ss = Segment.fromDescriptor(DATA3, 0x00CFF2000000FFFFL);
        assertThat(delivered(IdtDelivery.deliver(cpu, Event.externalInterrupt(0x80).at(0x100))).handler()).isEqualTo(0x403000);
        cpu.cs = Segment.fromDescriptor(CODE3, 0x00CFFA000000FFFFL);
        assertThat(delivered(IdtDelivery.deliver(cpu, Event.int1(1).at(0x100))).handler()).isEqualTo(0x405000);
    }

    @Test
    void aMissingGateReportsExtOnlyForEventsFromOutsideTheProgram() {
        gdt();
        gate32(11, CODE0, 0x406000, 0xE, 0);
        gate32(0x40, CODE0, 0x403000, 0xE, 3);
        mem.write64(IDT + 8 * 0x40, mem.read64(IDT + 8 * 0x40) & ~(1L << 47)); // not present
        IdtDelivery.deliver(cpu, Event.softwareInterrupt(0x40, 2).at(0x100));
        assertThat(mem.read32(cpu.rsp)).isEqualTo(0x40 * 8 + 2);
        cpu.rsp = 0x90000;
        IdtDelivery.deliver(cpu, Event.externalInterrupt(0x40).at(0x100));
        assertThat(mem.read32(cpu.rsp)).isEqualTo(0x40 * 8 + 2 + 1);
    }

    @Test
    void aStackSegmentThatIsNotDplZeroIsAnInvalidTssFault() {
        gdt();
        mem.write16(TSS + 8, DATA3);                            // SS0 = a user data segment
        gate32(0x80, CODE0, 0x403000, 0xE, 3);
        gate32(10, CONFORMING, 0x407000, 0xE, 0);
        cpu.cs = Segment.fromDescriptor(CODE3, 0x00CFFA000000FFFFL);
        cpu.ss = Segment.fromDescriptor(DATA3, 0x00CFF2000000FFFFL);
        cpu.rsp = 0x70000;
        Result.Delivered d = delivered(IdtDelivery.deliver(cpu, Event.softwareInterrupt(0x80, 2).at(0x100)));
        assertThat(d.delivered().is(ExceptionVector.TS)).isTrue();
        assertThat(mem.read32(cpu.rsp)).as("#TS(SS0 selector)").isEqualTo(DATA3 & 0xFFFC);
    }

    @Test
    void pushingBelowAnExpandDownStackLimitIsAStackFaultAndWritesNothing() {
        gdt();
        gate32(13, CODE0, 0x402000, 0xE, 0);
        cpu.ss = Segment.fromDescriptor(TINY_STACK, mem.read64(GDT + TINY_STACK));
        cpu.rsp = 0x1008;                                       // valid offsets: 0x1000 and up
        Result r = IdtDelivery.deliver(cpu, Event.fault(ExceptionVector.GP).errorCode(0).at(0x100));
        assertThat(r).isInstanceOf(Result.TripleFault.class);
        assertThat(((Result.TripleFault) r).reason()).contains("outside the stack segment", "#SS", "#DF");
        assertThat(mem.read32(0x1004)).as("no partial frame").isZero();
    }

    @Test
    void taskGatesAndVirtual8086ModeFailLoudly() {
        gdt();
        gate32(8, TSS_SEL, 0, 0x5, 0);
        assertThatThrownBy(() -> IdtDelivery.deliver(cpu, Event.abort(ExceptionVector.DF).errorCode(0).at(0)))
                .isInstanceOf(NotModelledException.class).hasMessageContaining("task gate");
        cpu.rflags |= Rflags.VM;
        assertThatThrownBy(() -> IdtDelivery.deliver(cpu, Event.externalInterrupt(0x20).at(0)))
                .isInstanceOf(NotModelledException.class).hasMessageContaining("virtual-8086");
    }

    @Test
    void aPageFaultOnAThirtyTwoBitPagedStackIsReportedWithItsErrorCode() {
        gdt();
        // 32-bit paging, identity 4 MiB page for 0-4 MiB except that 0x8F000 (the stack) is not mapped.
        cpu.cr0 = PagingState.CR0_PE | PagingState.CR0_PG | PagingState.CR0_WP;
        cpu.cr3 = 0x10000;
        mem.write32(0x10000, 0x11000 | 3);
        for (int i = 0; i < 1024; i++) {
            mem.write32(0x11000 + 4L * i, i == 0x8F ? 0 : ((long) i << 12) | 3);
        }
        gate32(13, CODE0, 0x402000, 0xE, 0);
        gate32(14, CODE0, 0x402100, 0xE, 0);
        gate32(8, CODE0, 0x402200, 0xE, 0);
        cpu.rsp = 0x90000 - 8;                                  // the frame's first push (EFLAGS) lands at 0x8FFF4
        Result r = IdtDelivery.deliver(cpu, Event.fault(ExceptionVector.GP).errorCode(0).at(0x100));
        // #GP's push faults: #PF(W) serially (contributory then page fault), whose push faults again: #DF, likewise: shutdown.
        assertThat(r).isInstanceOf(Result.TripleFault.class);
        assertThat(((Result.TripleFault) r).reason()).contains("delivering #GP(0x0): #PF(0x2) CR2=0x8fff4, stack 0x8fff4: PTE not present",
                "delivering #DF(0x0)");
        cpu.rsp = 0x91000;                                      // a mapped stack: the page-fault handler runs
        Result.Delivered d = delivered(IdtDelivery.deliver(cpu, Event.pageFault(0x4, 0x8F123).at(0x100)));
        assertThat(d.handler()).isEqualTo(0x402100);
        assertThat(cpu.committed.cr2()).hasValue(0x8F123);
    }

    // ---- IA-32e mode ----------------------------------------------------------------------------

    @Test
    void compatibilityModeDeliversThroughTheSixtyFourBitIdt() {
        gdt();
        cpu.cr0 = PagingState.CR0_PE;                           // paging is off only for the test's memory layout
        cpu.efer = PagingState.EFER_LME | PagingState.EFER_LMA;
        cpu.cs = Segment.fromDescriptor(CODE0, 0x00CF9A000000FFFFL); // a 32-bit code segment: compatibility mode
        long lo = (0x408000 & 0xFFFF) | ((long) CODE64 << 16) | (0xEL << 40) | (1L << 47) | ((0x408000L >>> 16) << 48);
        mem.write64(IDT + 16 * 0x20, lo);
        mem.write64(IDT + 16 * 0x20 + 8, 0);
        cpu.rsp = 0x90004;
        IdtDelivery.deliver(cpu, Event.externalInterrupt(0x20).at(0x1000));
        assertThat(cpu.committed.cs().longMode()).isTrue();
        assertThat(cpu.rsp).as("aligned, five quadwords").isEqualTo(0x90000 - 40);
        assertThat(mem.read64(cpu.rsp)).isEqualTo(0x1000);
        assertThat(mem.read64(cpu.rsp + 24)).as("old RSP").isEqualTo(0x90004);
    }

    @Test
    void cr2KeepsThePageFaultAddressWhenItsDeliveryBecomesADoubleFault() {
        try (GuestMemory big = new GuestMemory(4L << 20)) {
            BootStructures.build(big, 1);
            IdtDeliveryTest.FakeCpu old = new IdtDeliveryTest.FakeCpu(big);
            long pf = (IdtDeliveryTest.HANDLER & 0xFFFF) | ((long) BootStructures.KERNEL_CS << 16) | (0xEL << 40) | (1L << 47)
                    | ((IdtDeliveryTest.HANDLER >>> 16) << 48);
            big.write64(IdtDeliveryTest.IDT + 16 * 14, pf);
            big.write64(IdtDeliveryTest.IDT + 16 * 8, pf | (1L << 32)); // IST1
            old.rsp = 0x800000;                                          // unmapped
            Result.Delivered d = delivered(IdtDelivery.deliver(old, Event.pageFault(2, 0x123000).at(0x100000)));
            assertThat(d.delivered().is(ExceptionVector.DF)).isTrue();
            assertThat(old.cr2).isEqualTo(0x123000);
        }
    }
}
