package dev.tdemu.emulator.gdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
 * What the debugger may write into a stopped vCPU's registers ({@code G} and {@code P}): general
 * registers, RIP, RFLAGS, XMM and MXCSR; anything else only unchanged, and a refusal writes
 * nothing and says why.
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
                .hasMessageContaining("not cs");
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
                .hasMessageContaining("not cr0");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.ST0, java.util.HexFormat.of().parseHex("0000000000000080ff3f"))))
                .hasMessageContaining("not st0");
        assertThat(refusal(target.writeRegister(1, X86_64Registers.CR8, le(1, 8))))
                .hasMessageContaining("cr8 is not available");
        // the same value again is no change: accepted
        done(target.writeRegister(1, X86_64Registers.CR0, registers().bytes(X86_64Registers.CR0).orElseThrow()));
        assertThat(registers().getLong(X86_64Registers.DR7)).as("the guest's own DR7").isEqualTo(0x400);
    }
}
