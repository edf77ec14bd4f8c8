package dev.tdemu.emulator.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.emulator.machine.GuestMemory;
import dev.tdemu.emulator.unicorn.MemType;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GuestEngineTest {
    static final long CODE = 0x100000;
    GuestMemory mem;
    GuestEngine engine;
    final List<String> io = new ArrayList<>();

    GuestEngine start(String hex) {
        mem = new GuestMemory(4L << 20);
        BootStructures.build(mem, 1);
        byte[] code = HexFormat.of().parseHex(hex);
        mem.writeBytes(CODE, code);
        engine = new GuestEngine(mem, BootStructures.entryState(mem, 0, 1, CODE), new GuestEngine.FallbackIo() {
            public long in(int port, int size) { io.add("in " + port); return 0x5a; }
            public void out(int port, int size, long value) { io.add("out " + port + "=" + value); }
        });
        engine.scanCode(CODE, code);
        return engine;
    }

    @AfterEach
    void close() {
        if (engine != null) engine.close();
        if (mem != null) mem.close();
    }

    void skip(int bytes) {
        engine.engine().writeReg(X86Reg.RIP, engine.rip() + bytes);
    }

    @Test
    void guestStartsAtItsEntryInLongModeWithTheAbiRegisters() {
        start("f4");
        var u = engine.engine();
        assertThat(engine.rip()).isEqualTo(CODE);
        assertThat(u.readReg(X86Reg.CR0)).as("paging on").isEqualTo(BootStructures.CR0);
        assertThat(u.readReg(X86Reg.CR4)).isEqualTo(BootStructures.CR4);
        assertThat(u.readReg(X86Reg.CS)).isEqualTo(BootStructures.KERNEL_CS);
        assertThat(u.readReg(X86Reg.CR3)).isEqualTo(BootStructures.PML4_BASE);
        assertThat(u.readReg(X86Reg.RSI)).isEqualTo(mem.size());
        assertThat(u.readReg(X86Reg.RSP)).isEqualTo(mem.size() - 16);
        assertThat(u.readMmr(X86Reg.TR).base()).isEqualTo(BootStructures.tssBase(0));
    }

    @Test
    void movDrCpuidMsrAndHltAreInterceptedPreciselyWhereverTheCodeIs() {
        // mov %rax,%dr7 ; mov %dr0,%rbx ; cpuid ; rdmsr ; mov %rax,%cr3 ; hlt
        start("0f23f8" + "0f21c3" + "0fa2" + "0f32" + "0f22d8" + "f4");
        int[][] expected = {{SvmGuestMode.EXIT_WRITE_DR0 + 7, 0, 3}, {SvmGuestMode.EXIT_READ_DR0, 3, 3},
            {SvmGuestMode.EXIT_CPUID, 6, 2}, {SvmGuestMode.EXIT_MSR, 8, 2}, {SvmGuestMode.EXIT_WRITE_CR3, 10, 3},
            {SvmGuestMode.EXIT_HLT, 13, 1}};
        for (int[] e : expected) {
            assertThat(engine.run()).isEqualTo(new EngineEvent.Intercept(e[0], CODE + e[1]));
            skip(e[2]);
        }
        assertThat(engine.engine().readReg(X86Reg.DR7)).as("the engine's own DR7 never changes").isEqualTo(0x400);
    }

    @Test
    void interceptAfterInt3StillReportsItsOwnRip() {
        // int3 ; cpuid
        start("cc" + "0fa2");
        assertThat(engine.run()).isEqualTo(new EngineEvent.Exception(3, -1, CODE + 1));
        engine.engine().clearExceptionInFlight();
        assertThat(engine.run()).isEqualTo(new EngineEvent.Intercept(SvmGuestMode.EXIT_CPUID, CODE + 1));
    }

    @Test
    void vmcallTdcallAndIcebpStopAsInvalidInstructionsOnTheInstruction() {
        start("0f01c1" + "660f01cc" + "f1");
        assertThat(engine.run()).isEqualTo(new EngineEvent.InvalidInstruction(CODE));
        skip(3);
        assertThat(engine.run()).isEqualTo(new EngineEvent.InvalidInstruction(CODE + 3));
        skip(4);
        assertThat(engine.run()).isEqualTo(new EngineEvent.InvalidInstruction(CODE + 7));
    }

    @Test
    void scannedPortIoStopsBeforeTheInstructionAndUnscannedIoFallsBack() {
        // out %al,$0xe9 ; mov $0xf4,%dx ; out %al,(%dx) ; hlt
        start("e6e9" + "66baf400" + "ee" + "f4");
        EngineEvent first = engine.run();
        assertThat(first).isEqualTo(new EngineEvent.PortIoInstruction(new PortIo(false, 1, 0xe9, false, false, 8, 2), CODE));
        skip(2);
        assertThat(engine.run()).isInstanceOf(EngineEvent.PortIoInstruction.class);
        assertThat(io).as("nothing reached the fallback").isEmpty();
        // Code written at run time is not scanned: the engine performs the I/O through the fallback.
        mem.writeBytes(CODE + 0x100, HexFormat.of().parseHex("e680f4"));
        engine.engine().removeCache(CODE + 0x100, CODE + 0x103);
        engine.engine().writeReg(X86Reg.RIP, CODE + 0x100);
        EngineEvent late = engine.run();
        assertThat(late).isInstanceOf(EngineEvent.ImprecisePortIo.class);
        assertThat(io).containsExactly("out 128=0");
    }

    @Test
    void executeBreakpointStopsBeforeTheInstructionUnlessRfIsSet() {
        // nop ; nop ; hlt
        start("90" + "90" + "f4");
        DebugRegisters regs = DebugRegisters.INIT.withDr(1, CODE + 1)
                .withDr7(Dr7.RESET.withSlot(1, BreakpointType.EXECUTE, BreakpointLength.ONE, true, false));
        engine.armDebugRegisters(regs);
        assertThat(engine.run()).isEqualTo(new EngineEvent.ExecuteBreakpoint(CODE + 1));
        var u = engine.engine();
        u.writeReg(X86Reg.RFLAGS, u.readReg(X86Reg.RFLAGS) | GuestEngine.RFLAGS_RF);
        assertThat(engine.run()).isEqualTo(new EngineEvent.Intercept(SvmGuestMode.EXIT_HLT, CODE + 2));
        assertThat(u.readReg(X86Reg.RFLAGS) & GuestEngine.RFLAGS_RF).as("RF cleared after its one instruction").isZero();
    }

    @Test
    void accessToAWatchedPageStopsBeforeTheInstructionAndAStepRecordsIt() {
        // mov $1,%rax ; mov %rax,0x200010 ; mov 0x200100,%rbx ; hlt
        start("48c7c001000000" + "48890425" + "10002000" + "488b1c25" + "00012000" + "f4");
        DebugRegisters regs = DebugRegisters.INIT.withDr(0, 0x200010)
                .withDr7(Dr7.RESET.withSlot(0, BreakpointType.WRITE, BreakpointLength.EIGHT, false, true));
        engine.armDebugRegisters(regs);
        EngineEvent ev = engine.run();
        assertThat(ev).isEqualTo(new EngineEvent.WatchedPageAccess(MemType.WRITE_PROT, 0x200010, 8, CODE + 7));
        assertThat(engine.engine().readReg(X86Reg.RAX)).as("earlier instructions ran").isEqualTo(1);
        assertThat(mem.read64(0x200010)).as("the store did not happen").isZero();
        var u = engine.engine();
        engine.enforcer().openForStep();
        u.writeReg(X86Reg.RFLAGS, u.readReg(X86Reg.RFLAGS) | GuestEngine.RFLAGS_TF);
        assertThat(engine.run()).isEqualTo(new EngineEvent.SingleStep(CODE + 15));
        var accesses = engine.enforcer().closeAfterStep();
        assertThat(accesses).hasSize(1);
        assertThat(accesses.getFirst().linearAddress()).isEqualTo(0x200010);
        assertThat(mem.read64(0x200010)).isEqualTo(1);
        u.writeReg(X86Reg.RFLAGS, u.readReg(X86Reg.RFLAGS) & ~GuestEngine.RFLAGS_TF);
        // A read on the same (write-watched) page is allowed.
        assertThat(engine.run()).isEqualTo(new EngineEvent.Intercept(SvmGuestMode.EXIT_HLT, CODE + 23));
    }

    @Test
    void watchedPageReachedThroughANonIdentityMappingStillStopsAsAWatchedAccess() {
        // mov $1,%rax ; mov %rax,(%rdx) ; hlt   with RDX = linear 4 GiB + 2 MiB + 0x10, mapped to physical 0x200010
        start("48c7c001000000" + "488902" + "f4");
        long pdpt = BootStructures.PML4_BASE + 0x1000, pd = 0x30000;
        mem.write64(pdpt + 8 * 4, pd | 7);   // PDPT[4] -> a page directory for linear 4 GiB
        mem.write64(pd + 8, 0x200000 | 0x87); // PD[1]: linear 4 GiB + 2 MiB -> physical 2 MiB (2 MiB page)
        engine.engine().writeReg(X86Reg.CR3, BootStructures.PML4_BASE);
        long linear = (4L << 30) + 0x200010;
        engine.engine().writeReg(X86Reg.RDX, linear);
        DebugRegisters regs = DebugRegisters.INIT.withDr(0, linear)
                .withDr7(Dr7.RESET.withSlot(0, BreakpointType.WRITE, BreakpointLength.EIGHT, false, true));
        engine.armDebugRegisters(regs);
        EngineEvent ev = engine.run();
        assertThat(ev).isEqualTo(new EngineEvent.WatchedPageAccess(MemType.WRITE_PROT, 0x200010, 8, CODE + 7));
        engine.enforcer().openForStep();
        var u = engine.engine();
        u.writeReg(X86Reg.RFLAGS, u.readReg(X86Reg.RFLAGS) | GuestEngine.RFLAGS_TF);
        assertThat(engine.run()).isInstanceOf(EngineEvent.SingleStep.class);
        var accesses = engine.enforcer().closeAfterStep();
        assertThat(accesses).extracting(a -> a.linearAddress()).containsExactly(linear);
        assertThat(mem.read64(0x200010)).isEqualTo(1);
    }

    @Test
    void guestAccessToTheHypervisorRegionIsAMemoryFault() {
        // map the hypervisor region into the guest's page tables (PDPT entry 512 GiB is PML4 slot 1).
        start("48b8" + "0000000080000000" + "488b00" + "f4");
        long pdpt = BootStructures.PML4_BASE + 0x5000, pd = 0x30000;
        mem.write64(BootStructures.PML4_BASE + 8, pdpt | 7);
        mem.write64(pdpt, pd | 7);
        mem.write64(pd, SvmGuestMode.HV_BASE | 0x87L); // 2 MiB page at the hypervisor region
        EngineEvent ev = engine.run();
        assertThat(ev).isInstanceOf(EngineEvent.MemoryFault.class);
        assertThat(((EngineEvent.MemoryFault) ev).physical()).isEqualTo(SvmGuestMode.HV_BASE);
    }

    @Test
    void stopFromAnotherThreadEndsAnInfiniteLoop() throws Exception {
        start("ebfe");
        Thread t = Thread.ofVirtual().start(() -> {
            try { Thread.sleep(50); } catch (InterruptedException e) { return; }
            engine.stop();
        });
        assertThat(engine.run()).isEqualTo(new EngineEvent.Stopped(CODE));
        t.join();
    }
}
