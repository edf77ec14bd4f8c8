package dev.tdemu.core.kvm;

import dev.tdemu.core.pc.CpuidResult;
import dev.tdemu.core.pc.MsrRead;
import dev.tdemu.core.pc.MsrWrite;

/**
 * What KVM's exit handlers hand on to the VMM and the device models (in-kernel or userspace):
 * the narrow interface {@link TdxVmcall} and {@link KvmHypercall} call, which the emulator
 * implements. Every argument arrives already validated (port and size in range, an MMIO access
 * inside one 4 KiB page, a 32-bit MSR index), so an implementation only does the access.
 * Halting and the end of the VM are results of the handlers, not calls: the vCPU loop owns them.
 */
public interface Vmm {

    /** IN from {@code port} (0..0xFFFF), {@code size} 1, 2 or 4 bytes; the value is zero-extended. */
    long portIn(int port, int size);

    /** OUT of the low {@code size} bytes of {@code value} to {@code port}. */
    void portOut(int port, int size, long value);

    /** A read of {@code size} (1, 2, 4, 8) bytes at {@code gpa}, the SHARED bit already stripped. */
    long mmioRead(long gpa, int size);

    /** A write of the low {@code size} bytes of {@code value} at {@code gpa}, the SHARED bit stripped. */
    void mmioWrite(long gpa, int size, long value);

    /** RDMSR of {@code index}: the value, or #GP (which a TD gets as TDVMCALL_STATUS_INVALID_OPERAND). */
    MsrRead readMsr(int index);

    /** WRMSR of {@code index}: done, or #GP. */
    MsrWrite writeMsr(int index, long value);

    /** CPUID as KVM presents it to this guest ({@code kvm_cpuid}). */
    CpuidResult cpuid(int leaf, int subleaf);

    // ---- tdemu's hypercalls (docs/guest-abi.md) ----

    /**
     * TDEMU_HC_WRITE: write {@code length} (0 < length <= {@link TdemuHypercall#WRITE_MAX}) bytes
     * of guest memory at guest-linear {@code address} to the console. False, with nothing written,
     * when part of the range is not mapped.
     */
    boolean consoleWrite(long address, int length);

    /** TDEMU_HC_HOST_WORKLOAD: run the host workload now; the host breakpoint hits so far. */
    long hostWorkload();

    /**
     * TDEMU_HC_READ_HOST_DRS: store the host's DR0-3, DR6, DR7 as it saw them after this exit
     * (6 qwords) at guest-linear {@code address}. False, with nothing stored, when not all mapped
     * and writable.
     */
    boolean storeHostDebugRegisters(long address);
}
