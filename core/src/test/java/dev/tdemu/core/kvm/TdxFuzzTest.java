package dev.tdemu.core.kvm;

import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.x86.Gpr;
import dev.tdemu.core.tdx.GprUpdates;
import dev.tdemu.core.tdx.Td;
import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdEvent;
import dev.tdemu.core.tdx.TdEventResult;
import dev.tdemu.core.tdx.TdParams;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdVmcallArgs;
import dev.tdemu.core.tdx.TdcallLeaf;
import dev.tdemu.core.tdx.TdcallRegs;
import dev.tdemu.core.tdx.TdcallResult;
import dev.tdemu.core.tdx.TdvmcallLeaf;
import dev.tdemu.core.tdx.TdvmcallStatus;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.core.tdx.TdxMetadataField;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.tdx.TdxStatus;
import dev.tdemu.core.x86.CpuMode;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every register of a TDCALL and of a TDG.VP.VMCALL is the guest's. Thousands of calls with
 * seeded random registers (biased towards the leaves, masks and operand shapes the code tells
 * apart) must each end in a result, never an exception, and every status is one the ABI defines.
 */
class TdxFuzzTest {

    private static final long SEED = 0x7464_5EED_2024L;
    private static final int CALLS = 20_000;
    private static final long MIB = 1L << 20;

    /** The leaves tdemu's module reports as not modelled (with valid operands, for the measurement ones). */
    private static final Set<TdcallLeaf> NOT_MODELLED_LEAVES = EnumSet.of(TdcallLeaf.TDG_MR_RTMR_EXTEND,
            TdcallLeaf.TDG_MR_REPORT, TdcallLeaf.TDG_SYS_RD, TdcallLeaf.TDG_SYS_RDALL, TdcallLeaf.TDG_SERVTD_RD,
            TdcallLeaf.TDG_SERVTD_WR, TdcallLeaf.TDG_MR_VERIFYREPORT, TdcallLeaf.TDG_MEM_PAGE_ATTR_RD,
            TdcallLeaf.TDG_MEM_PAGE_ATTR_WR, TdcallLeaf.TDG_VP_ENTER, TdcallLeaf.TDG_VP_INVEPT,
            TdcallLeaf.TDG_VP_INVVPID, TdcallLeaf.TDG_VM_RD, TdcallLeaf.TDG_VM_WR, TdcallLeaf.TDG_VP_RD,
            TdcallLeaf.TDG_VP_WR);

    private final SplittableRandom random = new SplittableRandom(SEED);

    /** A value that is often one the code branches on: 0, small, a page address, a field ID, or anything. */
    private long interesting() {
        return switch (random.nextInt(10)) {
            case 0 -> 0;
            case 1 -> random.nextInt(16);
            case 2 -> random.nextLong(0, 128 * MIB) & ~0xFFFL | random.nextInt(4);
            case 3 -> (1L << 47) | random.nextLong(0, 1L << 32);
            case 4 -> TdxMetadataField.values()[random.nextInt(TdxMetadataField.values().length)].fieldId();
            case 5 -> 1L << random.nextInt(64);
            case 6 -> -1L;
            case 7 -> 0xFC00 | (random.nextBoolean() ? 1L << random.nextInt(64) : 0);
            default -> random.nextLong();
        };
    }

    private long raxForTdcall() {
        return switch (random.nextInt(6)) {
            case 0 -> random.nextLong();
            case 1 -> random.nextInt(0x20) | ((long) random.nextInt(3) << 16);
            default -> TdcallLeaf.values()[random.nextInt(TdcallLeaf.values().length)].number();
        };
    }

    private TdcallRegs randomTdcall() {
        long[] gprs = new long[16];
        for (int i = 0; i < 16; i++) {
            gprs[i] = interesting();
        }
        gprs[Gpr.RAX.index()] = raxForTdcall();
        if (gprs[Gpr.RAX.index()] == 0 && random.nextBoolean()) {
            gprs[Gpr.RCX.index()] = random.nextBoolean() ? 0xFC00 : random.nextInt(0x10000) & ~0x33; // a valid mask
        }
        CpuMode mode = random.nextInt(20) == 0 ? new CpuMode(random.nextInt(4), true, random.nextBoolean())
                : CpuMode.KERNEL_64;
        long rflags = 0x2 | (random.nextBoolean() ? Rflags.TF : 0);
        return TdcallRegs.of(gprs, random.nextLong(), rflags, mode);
    }

    private TdVmcallArgs randomTdvmcall() {
        long r10 = switch (random.nextInt(5)) {
            case 0 -> TdemuHypercall.TD_VENDOR_LEAF;
            case 1 -> random.nextLong();
            default -> 0;
        };
        long r11 = switch (random.nextInt(4)) {
            case 0 -> random.nextLong();
            case 1 -> 0x100 + random.nextInt(5);
            default -> TdvmcallLeaf.values()[random.nextInt(TdvmcallLeaf.values().length)].number();
        };
        int mask = random.nextInt(8) == 0 ? random.nextInt(0x10000) & ~0x33 : 0xFC00;
        return new TdVmcallArgs(mask, 0, GprUpdates.builder().set(Gpr.R10, r10).set(Gpr.R11, r11)
                .set(Gpr.R12, interesting()).set(Gpr.R13, interesting()).set(Gpr.R14, interesting())
                .set(Gpr.R15, interesting()).build());
    }

    private static void assertTdxStatus(long rax, Object context) {
        assertTrue(TdxStatus.of(rax).isPresent(), () -> String.format("RAX 0x%x is no TDX status, after %s", rax, context));
    }

    /** R10 after a TDG.VP.VMCALL: a GHCI status, or KVM's -ENOSYS for a KVM hypercall number in R10. */
    private static void assertTdvmcallStatus(TdVmcallArgs args, long r10) {
        boolean kvmHypercall = args.r10() != 0 && args.r10() != TdemuHypercall.TD_VENDOR_LEAF;
        if (kvmHypercall) {
            assertEquals(-TdemuHypercall.KVM_ENOSYS, r10, args::toString);
        } else {
            assertTrue(TdvmcallStatus.of(r10).isPresent(), () -> String.format("R10 0x%x after %s", r10, args));
        }
    }

    private void checkTdvmcall(TdxVmcall kvm, TdVmcallArgs args) {
        TdVmcallResult r;
        try {
            r = kvm.handleTdvmcall(args);
        } catch (RuntimeException e) {
            throw new AssertionError("TDG.VP.VMCALL threw for " + args, e);
        }
        switch (r) {
            case TdVmcallResult.Completed c -> {
                assertTdvmcallStatus(args, c.r10());
                if (args.r10() == TdemuHypercall.TD_VENDOR_LEAF) {
                    long v = c.registers().value(Gpr.R11);
                    assertTrue(v >= 0 || v == -TdemuHypercall.KVM_EFAULT || v == -TdemuHypercall.KVM_EINVAL
                            || v == -TdemuHypercall.KVM_ENOSYS, () -> "hypercall result " + v + " for " + args);
                }
            }
            case TdVmcallResult.Halt h -> assertEquals(TdvmcallLeaf.INSTRUCTION_HLT.number(), args.r11());
            case TdVmcallResult.Ends e -> assertTrue(args.r11() == TdvmcallLeaf.REPORT_FATAL_ERROR.number()
                    || (args.r10() == TdemuHypercall.TD_VENDOR_LEAF && args.r11() == TdemuHypercall.TDEMU_HC_EXIT), args::toString);
            case TdVmcallResult.NotModelled n -> assertEquals(TdvmcallLeaf.MAP_GPA.number(), args.r11(), n.what());
        }
    }

    @Test
    void randomTdcallsAlwaysEndInAResultWithAStatusTheAbiDefines() {
        Td td = new Td(new TdParams(TdAttributes.DEBUG_TD, 2, TdParams.GPAW_48, 64 * MIB, 16 * MIB));
        TdVcpu vcpu = td.addVcpu();
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        FakeVmm vmm = new FakeVmm();
        TdxVmcall kvm = new TdxVmcall(vmm, 48);
        int completed = 0, exits = 0;
        for (int i = 0; i < CALLS; i++) {
            TdcallRegs regs = randomTdcall();
            TdcallResult r;
            try {
                r = module.tdcall(vcpu, regs);
            } catch (RuntimeException e) {
                throw new AssertionError("TDCALL threw for " + regs, e);
            }
            boolean canCall = regs.mode().longMode() && regs.mode().cpl() == 0;
            switch (r) {
                case TdcallResult.Completed c -> {
                    completed++;
                    assertTdxStatus(c.status(), regs);
                    assertEquals(regs.nextRip(), c.nextRip());
                    assertEquals(regs.trapFlag(), c.singleStepTrap());
                }
                case TdcallResult.InjectGp gp -> assertTrue(!canCall, regs::toString);
                case TdcallResult.VmcallExit exit -> {
                    exits++;
                    assertEquals(0, regs.get(Gpr.RAX), regs::toString);
                    checkTdvmcall(kvm, exit.args());
                    TdcallResult.Completed back = module.vmcallReturn(vcpu, GprUpdates.builder()
                            .set(Gpr.R10, 0).set(Gpr.R11, random.nextLong()).set(Gpr.RBX, 1).build());
                    assertEquals(TdxStatus.TDX_SUCCESS.code(), back.status());
                    assertTrue(back.updates().asMap().keySet().stream()
                            .allMatch(g -> g == Gpr.RAX || exit.args().passes(g)), back::toString);
                }
                case TdcallResult.EptViolationExit e -> assertTrue(Long.compareUnsigned(e.gpa(), 64 * MIB) >= 0
                        || Long.compareUnsigned(e.gpa() + (1L << 21), 64 * MIB) > 0, regs::toString);
                case TdcallResult.NotModelled n -> assertTrue(NOT_MODELLED_LEAVES.contains(n.leaf()), n::what);
            }
        }
        assertTrue(completed > CALLS / 4 && exits > CALLS / 100,
                "the generator reaches the leaves: " + completed + " completed, " + exits + " VMCALL exits");
    }

    @Test
    void randomTdvmcallsAlwaysEndInAResultWithAStatusTheGhciDefines() {
        TdxVmcall kvm = new TdxVmcall(new FakeVmm(), 48);
        for (int i = 0; i < CALLS; i++) {
            checkTdvmcall(kvm, randomTdvmcall());
        }
    }

    @Test
    void randomVmcallsOfAVmxGuestAlwaysReturnOrEndTheVm() {
        FakeVmm vmm = new FakeVmm();
        for (int i = 0; i < CALLS; i++) {
            long nr = random.nextBoolean() ? 0x100 + random.nextInt(5) : random.nextLong();
            long a0 = interesting(), a1 = interesting(), a2 = interesting();
            HypercallResult r = KvmHypercall.handleVmcall(nr, a0, a1, a2, vmm);
            if (r instanceof HypercallResult.Ends e) {
                assertEquals(new VmEnd.Exited((int) a0), e.end());
                assertEquals(TdemuHypercall.TDEMU_HC_EXIT, nr);
            }
        }
    }

    @Test
    void randomTdEventsAlwaysEndInAResult() {
        Td td = new Td(new TdParams(TdAttributes.NON_DEBUG, 1, TdParams.GPAW_48, 64 * MIB, 16 * MIB));
        TdVcpu vcpu = td.addVcpu();
        TdxModule module = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        for (int i = 0; i < CALLS; i++) {
            long rip = random.nextLong();
            TdEvent e = switch (random.nextInt(6)) {
                case 0 -> new TdEvent.Cpuid(rip, 2, random.nextLong(), random.nextInt(4),
                        random.nextBoolean() ? 0x21 : random.nextLong(), interesting());
                case 1 -> new TdEvent.Hlt(rip, 1);
                case 2 -> new TdEvent.PortIo(rip, 1 + random.nextInt(3), random.nextInt(0x10000), 1 << random.nextInt(3),
                        random.nextBoolean(), random.nextBoolean(), random.nextBoolean(), random.nextBoolean());
                case 3 -> new TdEvent.Rdmsr(rip, 2, random.nextLong() & 0xFFFF_FFFFL, random.nextLong());
                case 4 -> new TdEvent.Wrmsr(rip, 2, random.nextLong() & 0xFFFF_FFFFL);
                default -> new TdEvent.EptViolation(rip, interesting(), random.nextLong(), random.nextLong());
            };
            TdEventResult r;
            try {
                r = module.handleTdEvent(vcpu, e);
            } catch (RuntimeException ex) {
                throw new AssertionError("the module threw for " + e, ex);
            }
            if (r instanceof TdEventResult.InjectVe || r instanceof TdEventResult.InjectDf) {
                assertTrue(vcpu.veInfo().isPresent(), "a #VE or #DF leaves unread VE info behind");
            }
            if (random.nextInt(3) == 0) {
                TdcallResult get = module.tdcall(vcpu, TdcallRegs.at(rip).with(Gpr.RAX, TdcallLeaf.TDG_VP_VEINFO_GET.number()));
                if (!(get instanceof TdcallResult.Completed c)) {
                    fail("TDG.VP.VEINFO.GET gave " + get);
                    return;
                }
                assertTdxStatus(c.status(), e);
            }
        }
    }
}
