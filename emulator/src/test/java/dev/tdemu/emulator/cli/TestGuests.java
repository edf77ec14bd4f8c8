package dev.tdemu.emulator.cli;

import dev.tdemu.emulator.elf.ElfBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Small VMX guests assembled here, byte by byte, for what the built-in guests do not do: print
 * given bytes (any value, any amount), then exit or loop. Code at 1 MiB, data at 2 MiB; the
 * console is written with the TDEMU_HC_WRITE hypercall (docs/guest-abi.md).
 */
final class TestGuests {
    static final long CODE = 0x100000, DATA = 0x200000;

    private TestGuests() {}

    /** x86-64 machine code, one instruction per method. */
    static final class Code {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream();

        int here() {
            return b.size();
        }

        private Code bytes(int... v) {
            for (int x : v) {
                b.write(x);
            }
            return this;
        }

        private Code le(long v, int n) {
            for (int i = 0; i < n; i++) {
                b.write((int) (v >>> (8 * i)));
            }
            return this;
        }

        Code movRaxImm32(int v) {
            return bytes(0x48, 0xC7, 0xC0).le(v, 4);
        }

        Code movRdiImm64(long v) {
            return bytes(0x48, 0xBF).le(v, 8);
        }

        Code movRsiImm64(long v) {
            return bytes(0x48, 0xBE).le(v, 8);
        }

        Code movR12Imm32(int v) {
            return bytes(0x49, 0xC7, 0xC4).le(v, 4);
        }

        Code decR12() {
            return bytes(0x49, 0xFF, 0xCC);
        }

        Code vmcall() {
            return bytes(0x0F, 0x01, 0xC1);
        }

        Code cpuid() {
            return bytes(0x0F, 0xA2);
        }

        Code testRdiRdi() {
            return bytes(0x48, 0x85, 0xFF);
        }

        /** JNZ to {@code target} (an offset from {@link #here()}). */
        Code jnz(int target) {
            return bytes(0x0F, 0x85).le(target - (here() + 6), 4);
        }

        Code jmpSelf() {
            return bytes(0xEB, 0xFE);
        }

        /** TDEMU_HC_WRITE of {@code length} bytes at {@code address}. */
        Code write(long address, long length) {
            return movRaxImm32(0x101).movRdiImm64(address).movRsiImm64(length).vmcall();
        }

        /** OUT to the exit port: the guest ends with {@code status}. */
        Code exit(int status) {
            return bytes(0xB0, status, 0xE6, 0xF4);
        }

        byte[] toBytes() {
            return b.toByteArray();
        }
    }

    static Path elf(Path dir, String name, Code code, byte[] data, long dataMemory) throws IOException {
        ElfBuilder elf = new ElfBuilder().load(5, CODE, code.toBytes(), 0x1000);
        if (dataMemory > 0) {
            elf.load(6, DATA, data, dataMemory);
        }
        return Files.write(dir.resolve(name), elf.build());
    }

    /** Prints {@code message} and exits with {@code status}. */
    static Path printing(Path dir, byte[] message, int status) throws IOException {
        return elf(dir, "print.elf", new Code().write(DATA, message.length).exit(status), message, align(message.length));
    }

    /** Prints {@code chunk} bytes of data (0..255 repeated) {@code times} times, then exits 0. */
    static Path printingRepeatedly(Path dir, int chunk, int times) throws IOException {
        Code c = new Code().movR12Imm32(times);
        int loop = c.here();
        c.write(DATA, chunk).decR12().jnz(loop).exit(0);
        byte[] data = new byte[chunk];
        for (int i = 0; i < chunk; i++) {
            data[i] = (byte) i;
        }
        return elf(dir, "repeat.elf", c, data, align(chunk));
    }

    /** vCPU 0 prints {@code message}; then every vCPU loops forever. */
    static Path printingThenLooping(Path dir, byte[] message) throws IOException {
        Code c = new Code().testRdiRdi();
        int branch = c.here();
        c.jnz(0); // patched below: other vCPUs go straight to the loop
        c.write(DATA, message.length);
        int loop = c.here();
        c.jmpSelf();
        byte[] code = c.toBytes();
        int rel = loop - (branch + 6);
        for (int i = 0; i < 4; i++) {
            code[branch + 2 + i] = (byte) (rel >>> (8 * i));
        }
        Code patched = new Code();
        patched.bytes(toInts(code));
        return elf(dir, "loop.elf", patched, message, align(message.length));
    }

    /** {@code n} CPUID exits, then exit status 0. */
    static Path exiting(Path dir, int n) throws IOException {
        Code c = new Code().movR12Imm32(n);
        int loop = c.here();
        c.cpuid().decR12().jnz(loop).exit(0);
        return elf(dir, "exits.elf", c, new byte[0], 0);
    }

    private static int[] toInts(byte[] b) {
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xFF;
        }
        return out;
    }

    private static long align(long n) {
        return Math.max(0x1000, (n + 0xFFF) & ~0xFFFL);
    }
}
