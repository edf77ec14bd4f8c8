package dev.tdemu.emulator.gdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.gdbstub.target.TargetException;
import dev.tdemu.gdbstub.registers.RegisterFile;
import dev.tdemu.gdbstub.registers.X86_64Registers;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.VmConfig;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the debugger may write into a stopped vCPU's registers ({@code G} and {@code P}): what a
 * real CPU's debugger may — general registers, RIP, RFLAGS, x87, XMM and MXCSR, segment selectors
 * (their descriptors loaded through the guest's GDT), the segment bases, CR0/CR2/CR3/CR4 within the
 * architectural checks — and the system registers and MSRs it reads. A refusal writes nothing and
 * says why, naming the exception the CPU would raise.
 */
@Timeout(60)
class VmDebugTargetRegistersTest {
    StubbedVm stub;
    VmDebugTarget target;

    @BeforeEach
    void start() throws Exception {
        stub = StubbedVm.start(VmConfig.newBuilder().setGuestImage("builtin:debuggee").setMode(GuestMode.GUEST_MODE_VMX)
                .setTimeoutMs(60_000).build());
        target = stub.target;
        done(target.attach());
    }

    @AfterEach
    void stop() throws Exception {
        stub.close();
    }

    static <T> T done(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    static Throwable refusal(CompletionStage<?> stage) {
        try {
            stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("the write was accepted");
    }

    static byte[] le(long value, int bytes) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        return b;
    }

    RegisterFile registers() throws Exception {
        return done(target.readRegisters(1));
    }

    @Test
    void theWholeFileWrittenBackWithOneChangeChangesOnlyThat() throws Exception {
        RegisterFile file = registers();
        assertThat(file.isPresent(X86_64Registers.FOP)).as("the engine does not track fop").isFalse();
        file.setLong(X86_64Registers.RAX, 0x1122334455667788L);
        file.setLong(X86_64Registers.FOP, 0x1ff); // gdb sends back what it holds for an unavailable register
        done(target.writeRegisters(1, file));
        RegisterFile after = registers();
        assertThat(after.getLong(X86_64Registers.RAX)).isEqualTo(0x1122334455667788L);
        assertThat(after.getLong(X86_64Registers.CR0)).isEqualTo(file.getLong(X86_64Registers.CR0));
    }

    @Test
    void aRefusedRegisterInTheWholeFileWritesNothingAtAll() throws Exception {
        RegisterFile file = registers();
        long rax = file.getLong(X86_64Registers.RAX);
        file.setLong(X86_64Registers.RAX, rax + 1);
        file.setLong(X86_64Registers.CS, 0x33);
        assertThat(refusal(target.writeRegisters(1, file))).isInstanceOf(TargetException.class)
                .hasMessageContaining("#GP(0x30)").hasMessageContaining("cs"); // the upper half of the TSS descriptor
        assertThat(registers().getLong(X86_64Registers.RAX)).as("RAX unchanged").isEqualTo(rax);
    }

    @Test
    void xmmAndMxcsrAreWritable() throws Exception {
        byte[] xmm = new byte[16];
        for (int i = 0; i < 16; i++) {
            xmm[i] = (byte) (i * 17);
        }
        done(target.writeRegister(1, X86_64Registers.XMM0 + 5, xmm));
        done(target.writeRegister(1, X86_64Registers.MXCSR, le(0x9f80, 4)));
        RegisterFile after = registers();
        assertThat(after.bytes(X86_64Registers.XMM0 + 5)).contains(xmm);
        assertThat(after.getLong(X86_64Registers.MXCSR)).isEqualTo(0x9f80);
        assertThat(refusal(target.writeRegister(1, X86_64Registers.MXCSR, le(0x10000, 4))))
                .hasMessageContaining("reserved bits");
        assertThat(registers().getLong(X86_64Registers.MXCSR)).isEqualTo(0x9f80);
    }

    @Test
    void otherRegistersAreRefusedWithTheReason() throws Exception {
        assertThat(refusal(target.writeRegister(1, X86_64Registers.DR7, le(0x401, 8))))
                .isInstanceOf(TargetException.class).hasMessageContaining("dr7").hasMessageContaining("hbreak");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.CR0, le(0x11, 8))))
                .hasMessageContaining("#GP(0)").hasMessageContaining("PG");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.CR8, le(1, 8))))
                .hasMessageContaining("cr8 reads 0");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.FOP, le(0x1d9, 4))))
                .hasMessageContaining("fop is not available");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.EFER, le(0xd01, 8)))).hasMessageContaining("0x500");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.GDTR_BASE, le(0x5000, 8)))).hasMessageContaining("LGDT");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.LSTAR, le(0x5000, 8)))).hasMessageContaining("#GP(0)");
        // the same value again is no change: accepted
        done(target.writeRegister(1, X86_64Registers.CR0, registers().bytes(X86_64Registers.CR0).orElseThrow()));
        assertThat(registers().getLong(X86_64Registers.DR7)).as("the guest's own DR7").isEqualTo(0x400);
    }

    @Test
    void x87RegistersAreWritable() throws Exception {
        byte[] two = java.util.HexFormat.of().parseHex("00000000000000800040"); // 2.0 as an 80-bit extended
        done(target.writeRegister(1, X86_64Registers.ST0, two));
        done(target.writeRegister(1, X86_64Registers.FCTRL, le(0x27f, 4)));
        done(target.writeRegister(1, X86_64Registers.FIOFF, le(0x101234, 4)));
        RegisterFile after = registers();
        assertThat(after.bytes(X86_64Registers.ST0)).contains(two);
        assertThat(after.getLong(X86_64Registers.FCTRL)).isEqualTo(0x27f);
        assertThat(after.getLong(X86_64Registers.FIOFF)).isEqualTo(0x101234);
        assertThat(refusal(target.writeRegister(1, X86_64Registers.FCTRL, le(0x10000, 4)))).hasMessageContaining("16 bits");
    }

    /** tdemu's boot GDT: 0x08 64-bit code DPL 0, 0x10 data DPL 0, 0x18 data DPL 3, 0x20 64-bit code DPL 3, 0x28 the TSS. */
    @Test
    void segmentSelectorsLoadTheirDescriptorsThroughTheGdtOrAreRefusedWithTheException() throws Exception {
        done(target.writeRegister(1, X86_64Registers.DS, le(0x18, 4)));
        done(target.writeRegister(1, X86_64Registers.ES, le(0, 4)));
        done(target.writeRegister(1, X86_64Registers.SS, le(0x10, 4)));
        done(target.writeRegister(1, X86_64Registers.CS, le(0x08, 4)));
        done(target.writeRegister(1, X86_64Registers.FS_BASE, le(0x123000, 8)));
        assertThat(registers().getLong(X86_64Registers.FS_BASE)).isEqualTo(0x123000);
        done(target.writeRegister(1, X86_64Registers.FS, le(0x10, 4)));
        RegisterFile after = registers();
        assertThat(after.getLong(X86_64Registers.DS)).isEqualTo(0x18);
        assertThat(after.getLong(X86_64Registers.ES)).isZero();
        assertThat(after.getLong(X86_64Registers.FS)).isEqualTo(0x10);
        assertThat(after.getLong(X86_64Registers.FS_BASE)).as("MOV FS loads the descriptor's base").isZero();
        assertThat(refusal(target.writeRegister(1, X86_64Registers.DS, le(0x1230, 4))))
                .hasMessage("#GP(0x1230): selector 0x1230 is beyond the GDT's limit 0x37");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.SS, le(0x08, 4)))).hasMessageContaining("writable data");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.CS, le(0x23, 4)))).hasMessageContaining("privilege");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.GS, le(0x28, 4)))).hasMessageContaining("system descriptor");
        assertThat(registers().getLong(X86_64Registers.GS)).as("unchanged").isEqualTo(after.getLong(X86_64Registers.GS));
    }

    @Test
    void segmentBasesAndControlRegistersTakeWhatTheCpuWould() throws Exception {
        done(target.writeRegister(1, X86_64Registers.GS_BASE, le(0xffff_8880_0000_0000L, 8)));
        long cr0 = registers().getLong(X86_64Registers.CR0);
        done(target.writeRegister(1, X86_64Registers.CR0, le(cr0 | 8, 8))); // TS
        long cr4 = registers().getLong(X86_64Registers.CR4);
        done(target.writeRegister(1, X86_64Registers.CR4, le(cr4 | 0x80, 8))); // PGE
        long cr3 = registers().getLong(X86_64Registers.CR3);
        done(target.writeRegister(1, X86_64Registers.CR3, le(cr3 | 0x18, 8))); // PWT, PCD
        done(target.writeRegister(1, X86_64Registers.CR2, le(0xdead000, 8)));
        RegisterFile after = registers();
        assertThat(after.getLong(X86_64Registers.GS_BASE)).isEqualTo(0xffff_8880_0000_0000L);
        assertThat(after.getLong(X86_64Registers.CR0)).isEqualTo(cr0 | 8);
        assertThat(after.getLong(X86_64Registers.CR4)).isEqualTo(cr4 | 0x80);
        assertThat(after.getLong(X86_64Registers.CR3)).isEqualTo(cr3 | 0x18);
        assertThat(after.getLong(X86_64Registers.CR2)).isEqualTo(0xdead000);
        assertThat(refusal(target.writeRegister(1, X86_64Registers.FS_BASE, le(0x8000_0000_0000L, 8))))
                .hasMessageContaining("not canonical");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.K_GS_BASE, le(0x4000, 8)))).hasMessageContaining("SvmGuestMode");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.CR4, le(cr4 | 1L << 20, 8)))).hasMessageContaining("#GP(0)");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.CR3, le(1L << 41, 8)))).hasMessageContaining("MAXPHYADDR");
    }

    @Test
    void systemRegistersAndMsrsReadWhatTheMachineHolds() throws Exception {
        RegisterFile r = registers();
        assertThat(r.getLong(X86_64Registers.GDTR_BASE)).isEqualTo(BootStructures.GDT_BASE);
        assertThat(r.getLong(X86_64Registers.GDTR_LIMIT)).isEqualTo(BootStructures.gdtLimit(1));
        assertThat(r.getLong(X86_64Registers.TR)).isEqualTo(BootStructures.FIRST_TSS_SELECTOR);
        assertThat(r.getLong(X86_64Registers.LDTR)).isZero();
        assertThat(r.getLong(X86_64Registers.EFER)).isEqualTo(0x500);
        assertThat(r.getLong(X86_64Registers.APIC_BASE)).isEqualTo(0xfee00900L);
        assertThat(r.getLong(X86_64Registers.CR8)).as("what the guest's MOV from CR8 reads").isZero();
        assertThat(r.getLong(X86_64Registers.STAR)).isZero();
        assertThat(r.getLong(X86_64Registers.LSTAR)).isZero();
        for (int reg = 0; reg < X86_64Registers.COUNT; reg++) {
            // fop: the engine does not track it; k_gs_base: SWAPGS changes it inside the engine, where nothing can read it
            assertThat(r.isPresent(reg)).as(r.layout().register(reg).name())
                    .isEqualTo(reg != X86_64Registers.FOP && reg != X86_64Registers.K_GS_BASE);
        }
    }
}
