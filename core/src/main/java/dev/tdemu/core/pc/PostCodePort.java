package dev.tdemu.core.pc;

import dev.tdemu.core.platform.PortBus;

import java.util.OptionalInt;

/**
 * Port 0x80, where firmware and kernels write POST codes and where Linux's {@code io_delay}
 * writes to pause an I/O cycle. Each write is recorded (the last one is readable here for tests
 * and the monitor); a guest read returns all-ones, as QEMU's {@code pc} machine answers it. (On an
 * AT the port is a spare DMA page register that reads back its value, and on newer chipsets the
 * read goes unanswered; kvm-unit-tests and Linux only write it, and the QEMU answer keeps test
 * kernels seeing what they see there.)
 */
public final class PostCodePort extends ByteWidePortDevice {
    public static final int PORT = 0x80;

    private int last = -1;
    private long writes;

    public PostCodePort() {
        super(PORT, 1);
    }

    public void attachTo(PortBus bus) {
        bus.register("post-code", PORT, 1, this);
    }

    /** The last POST code written, if any. */
    public OptionalInt lastPostCode() {
        return last < 0 ? OptionalInt.empty() : OptionalInt.of(last);
    }

    /** How many writes the port has seen (a guest's io_delay count). */
    public long writes() {
        return writes;
    }

    @Override
    int readByte(int port) {
        return 0xFF;
    }

    @Override
    void writeByte(int port, int value) {
        last = value;
        writes++;
    }
}
