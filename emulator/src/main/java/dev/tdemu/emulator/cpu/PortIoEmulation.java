package dev.tdemu.emulator.cpu;

import dev.tdemu.core.platform.PortBus;
import dev.tdemu.core.vmx.IoQualification;
import dev.tdemu.core.x86.Access;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DataAccessKind;
import dev.tdemu.emulator.machine.PageWalker;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.util.ArrayList;
import java.util.List;

/**
 * Port I/O as the CPU performs it, in one place for every caller: the VMM emulating an I/O exit
 * (KVM's {@code handle_io}), and the CPU running a passed-through port with no device behind it.
 * It does the register side of IN and OUT (the operand size, RAX's untouched upper bytes), the
 * memory side of INS and OUTS (RSI/RDI by the address size and RFLAGS.DF, the page walk with the
 * CPU's U/S and R/W checks, the #PF of an iteration that cannot reach its memory) and REP (RCX).
 * RIP is the caller's: it moves past the instruction only when the caller completes it.
 */
public final class PortIoEmulation {
    /** The devices behind the ports. */
    public interface Ports {
        long in(int port, int size);

        void out(int port, int size, long value);
    }

    /** Ports with nothing behind them: reads float high, writes vanish. */
    public static final Ports NOTHING = new Ports() {
        @Override
        public long in(int port, int size) {
            return PortBus.mask(size);
        }

        @Override
        public void out(int port, int size, long value) {
        }
    };

    /** What the instruction did; {@code accesses} are its I/O and memory accesses, for breakpoint matching. */
    public sealed interface Outcome {
        List<Access> accesses();

        /** Every iteration asked for ran; {@code more}: a REP count is left for another round. */
        record Done(boolean more, List<Access> accesses) implements Outcome {}

        /**
         * An iteration of INS/OUTS could not reach its memory: the iterations before it are done
         * (registers updated), this one faults. CR2 has not been written.
         */
        record PageFault(long errorCode, long address, List<Access> accesses) implements Outcome {}
    }

    private PortIoEmulation() {}

    /**
     * Performs the I/O instruction now at RIP: IN/OUT once; INS/OUTS up to {@code maxIterations}
     * times (all of a REP count with {@link Long#MAX_VALUE}, one at a time for a CPU that must trap
     * between iterations).
     */
    public static Outcome perform(GuestEngine g, IoQualification io, int addressSize, Ports ports, long maxIterations) {
        Unicorn uc = g.engine();
        int size = io.size();
        long mask = PortBus.mask(size);
        List<Access> accesses = new ArrayList<>(2);
        if (!io.string()) {
            accesses.add(new Access.IoAccess(io.port(), size));
            if (io.in()) {
                long value = ports.in(io.port(), size) & mask;
                // A 32-bit IN zero-extends into RAX, as every 32-bit register write does; 8 and 16 keep the rest.
                uc.writeReg(X86Reg.RAX, size == 4 ? value : (uc.readReg(X86Reg.RAX) & ~mask) | value);
            } else {
                ports.out(io.port(), size, uc.readReg(X86Reg.RAX) & mask);
            }
            return new Outcome.Done(false, accesses);
        }
        long countMask = addressSize == 8 ? -1L : addressSize == 4 ? 0xFFFF_FFFFL : 0xFFFFL;
        long count = io.rep() ? uc.readReg(X86Reg.RCX) & countMask : 1;
        long step = (uc.readReg(X86Reg.RFLAGS) & 0x400) != 0 ? -size : size;
        X86Reg index = io.in() ? X86Reg.RDI : X86Reg.RSI;
        long pointer = uc.readReg(index);
        long cr3 = uc.readReg(X86Reg.CR3);
        CpuMode mode = g.mode();
        long done = 0;
        Outcome.PageFault fault = null;
        while (done < count && done < maxIterations) {
            long at = pointer & countMask;
            accesses.add(new Access.IoAccess(io.port(), size));
            byte[] bytes = new byte[size];
            if (io.in()) {
                long value = ports.in(io.port(), size);
                for (int i = 0; i < size; i++) {
                    bytes[i] = (byte) (value >>> (8 * i));
                }
            }
            long faultAt = transfer(g, cr3, mode, at, bytes, io.in());
            if (faultAt != NO_FAULT) {
                PageWalker.Translation t = PageWalker.translate(g.memory(), cr3, faultAt);
                long errorCode = (t != null ? 1 : 0) | (io.in() ? 2 : 0) | (mode.cpl() == 3 ? 4 : 0);
                fault = new Outcome.PageFault(errorCode, faultAt, accesses);
                break;
            }
            accesses.add(new Access.DataAccess(at, size, io.in() ? DataAccessKind.WRITE : DataAccessKind.READ));
            if (!io.in()) {
                long value = 0;
                for (int i = size - 1; i >= 0; i--) {
                    value = (value << 8) | (bytes[i] & 0xFF);
                }
                ports.out(io.port(), size, value);
            }
            pointer = (pointer & ~countMask) | ((pointer + step) & countMask);
            done++;
        }
        uc.writeReg(index, pointer);
        if (io.rep()) {
            uc.writeReg(X86Reg.RCX, (uc.readReg(X86Reg.RCX) & ~countMask) | ((count - done) & countMask));
        }
        return fault != null ? fault : new Outcome.Done(io.rep() && done < count, accesses);
    }

    private static final long NO_FAULT = Long.MIN_VALUE;

    /**
     * Stores {@code bytes} at linear {@code at} (INS) or loads them from there (OUTS) through the
     * guest's page tables, page by page, as the CPU's access would check them; returns the linear
     * address that faults, or {@link #NO_FAULT}. Nothing is stored unless every byte is reachable.
     * Device memory is the device's: INS into an MMIO buffer writes the device, as on the CPU.
     */
    private static long transfer(GuestEngine g, long cr3, CpuMode mode, long at, byte[] bytes, boolean store) {
        long[] physical = new long[2]; // an access of at most 4 bytes spans at most two pages
        int[] length = new int[2];
        int pieces = 0;
        for (int n = 0; n < bytes.length; pieces++) {
            PageWalker.Translation t = PageWalker.translate(g.memory(), cr3, at + n);
            if (t == null || store && !t.writable() || mode.cpl() == 3 && !t.user()) {
                return at + n;
            }
            physical[pieces] = t.physical();
            length[pieces] = (int) Math.min(bytes.length - n, t.bytesToPageEnd());
            n += length[pieces];
        }
        for (int i = 0, n = 0; i < pieces; n += length[i++]) {
            if (store) {
                g.writePhysical(physical[i], java.util.Arrays.copyOfRange(bytes, n, n + length[i]));
            } else {
                System.arraycopy(g.readPhysical(physical[i], length[i]), 0, bytes, n, length[i]);
            }
        }
        return NO_FAULT;
    }
}
