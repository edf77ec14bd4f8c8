package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Gpr;
import dev.tdemu.core.x86.CpuMode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** A TD with a module and helpers to issue TDCALLs the way a TD vCPU would. */
final class TdFixture {

    static final long RIP = 0x10_0000;
    static final long MIB = 1L << 20;

    final TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
    final Td td;

    TdFixture(TdParams params) {
        td = new Td(params);
    }

    /** Four vCPUs allowed, 64 MiB of private memory of which the first 16 MiB were added before the TD ran. */
    static TdFixture standard() {
        return new TdFixture(new TdParams(TdAttributes.NON_DEBUG, 4, TdParams.GPAW_48, 64 * MIB, 16 * MIB));
    }

    static TdcallRegs call(long rax) {
        return TdcallRegs.at(RIP).with(Gpr.RAX, rax);
    }

    static TdcallRegs call(TdcallLeaf leaf) {
        return call(leaf.number());
    }

    TdcallResult.Completed completed(TdVcpu vcpu, TdcallRegs regs) {
        return assertInstanceOf(TdcallResult.Completed.class, module.tdcall(vcpu, regs));
    }

    long status(TdVcpu vcpu, TdcallRegs regs) {
        TdcallResult.Completed c = completed(vcpu, regs);
        assertEquals(RIP + 4, c.nextRip(), "a completed TDCALL moves RIP past its 4 bytes");
        return c.status();
    }

    static TdcallRegs userMode(TdcallRegs regs) {
        return regs.withMode(CpuMode.USER_64);
    }
}
