package dev.tdemu.core.pc;

import dev.tdemu.core.platform.PortBus;
import dev.tdemu.core.platform.PortDevice;

/**
 * QEMU's {@code isa-debug-exit} test device: a write of any width (1, 2 or 4 bytes) of value V to
 * any of its ports asks to end the VM with exit status {@code (V << 1) | 1}, so a test kernel's
 * status can never be mistaken for QEMU's own 0. Reads return 0, as QEMU's device does.
 * kvm-unit-tests puts it at {@code iobase=0xf4,iosize=0x4} (QEMU's own default is 0x501, 2 ports);
 * base and size are constructor arguments here.
 *
 * <p>The device only reports the request; stopping the VM is the emulator's business. The status
 * is given whole (up to 33 bits); a host process sees its low 8 bits, as with QEMU's exit().
 */
public final class IsaDebugExit implements PortDevice {
    /** kvm-unit-tests' placement. */
    public static final int KVM_UNIT_TESTS_IOBASE = 0xF4;
    public static final int KVM_UNIT_TESTS_IOSIZE = 4;

    /** Told of each exit request. */
    @FunctionalInterface
    public interface ExitListener {
        void exitRequested(long status);
    }

    private final int iobase;
    private final int iosize;
    private final ExitListener listener;

    public IsaDebugExit(int iobase, int iosize, ExitListener listener) {
        if (iosize < 1 || iobase < 0 || iobase + iosize > PortBus.PORTS) {
            throw new IllegalArgumentException(String.format("isa-debug-exit: iobase 0x%x, iosize %d is outside the I/O space", iobase, iosize));
        }
        this.iobase = iobase;
        this.iosize = iosize;
        this.listener = listener;
    }

    /** At 0xF4, four ports, as kvm-unit-tests' x86 configuration asks QEMU for it. */
    public static IsaDebugExit forKvmUnitTests(ExitListener listener) {
        return new IsaDebugExit(KVM_UNIT_TESTS_IOBASE, KVM_UNIT_TESTS_IOSIZE, listener);
    }

    public void attachTo(PortBus bus) {
        bus.register("isa-debug-exit", iobase, iosize, this);
    }

    /** The exit status QEMU gives a write of {@code value}. */
    public static long exitStatus(long value) {
        return (value << 1) | 1;
    }

    @Override
    public long in(int port, int size) {
        return 0;
    }

    @Override
    public void out(int port, int size, long value) {
        listener.exitRequested(exitStatus(value & PortBus.mask(size)));
    }
}
