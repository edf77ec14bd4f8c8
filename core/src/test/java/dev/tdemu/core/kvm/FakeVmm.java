package dev.tdemu.core.kvm;

import dev.tdemu.core.pc.CpuidResult;
import dev.tdemu.core.pc.MsrRead;
import dev.tdemu.core.pc.MsrWrite;

import java.util.ArrayList;
import java.util.List;

/**
 * A VMM that records every call as one line and answers predictably: port reads return
 * 0xA5A5A5A5_00000000 | port (so masking shows), MMIO reads 0x1122334455667788, MSR 0x10 reads
 * 0x1234 and every other MSR is #GP (writes: only 0x10), CPUID returns the leaf and subleaf in EAX
 * and EBX, the console write and the DR store fail for addresses with bit 62 set.
 */
final class FakeVmm implements Vmm {

    final List<String> calls = new ArrayList<>();
    long hostHits = 5;

    @Override
    public long portIn(int port, int size) {
        calls.add(String.format("in %d 0x%x", size, port));
        return 0xA5A5_A5A5_0000_0000L | port;
    }

    @Override
    public void portOut(int port, int size, long value) {
        calls.add(String.format("out %d 0x%x 0x%x", size, port, value));
    }

    @Override
    public long mmioRead(long gpa, int size) {
        calls.add(String.format("mmio read %d 0x%x", size, gpa));
        return 0x1122_3344_5566_7788L;
    }

    @Override
    public void mmioWrite(long gpa, int size, long value) {
        calls.add(String.format("mmio write %d 0x%x 0x%x", size, gpa, value));
    }

    @Override
    public MsrRead readMsr(int index) {
        calls.add(String.format("rdmsr 0x%x", index));
        return index == 0x10 ? new MsrRead.Value(0x1234) : new MsrRead.Gp("no MSR");
    }

    @Override
    public MsrWrite writeMsr(int index, long value) {
        calls.add(String.format("wrmsr 0x%x 0x%x", index, value));
        return index == 0x10 ? MsrWrite.DONE : new MsrWrite.Gp("no MSR");
    }

    @Override
    public CpuidResult cpuid(int leaf, int subleaf) {
        calls.add(String.format("cpuid 0x%x 0x%x", leaf, subleaf));
        return new CpuidResult(leaf, subleaf, 0x8000_0000, -1);
    }

    @Override
    public boolean consoleWrite(long address, int length) {
        calls.add(String.format("write 0x%x %d", address, length));
        return (address & (1L << 62)) == 0;
    }

    @Override
    public long hostWorkload() {
        calls.add("host workload");
        return hostHits;
    }

    @Override
    public boolean storeHostDebugRegisters(long address) {
        calls.add(String.format("store host DRs 0x%x", address));
        return (address & (1L << 62)) == 0;
    }
}
