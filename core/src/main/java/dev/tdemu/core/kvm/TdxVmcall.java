package dev.tdemu.core.kvm;

import dev.tdemu.core.pc.CpuidResult;
import dev.tdemu.core.pc.MsrRead;
import dev.tdemu.core.pc.MsrWrite;
import dev.tdemu.core.x86.Gpr;
import dev.tdemu.core.tdx.GprUpdates;
import dev.tdemu.core.tdx.TdVmcallArgs;
import dev.tdemu.core.tdx.TdvmcallLeaf;
import dev.tdemu.core.tdx.TdvmcallStatus;

/**
 * KVM's handling of a TD's TDG.VP.VMCALL exit (arch/x86/kvm/vmx/tdx.c: the TDCALL cases of
 * {@code tdx_handle_exit}, {@code handle_tdvmcall} and the {@code tdx_emulate_*} helpers), for one
 * TD. R10 = 0 selects a GHCI standard leaf in R11; R10 = {@link TdemuHypercall#TD_VENDOR_LEAF} is
 * tdemu's hypercall leaf; any other R10 is a KVM hypercall number, of which tdemu's KVM has none.
 *
 * <p>Every register is the TD's and is validated before anything is done; a bad one gets its GHCI
 * status in R10. Devices, MSRs and CPUID are the {@link Vmm}'s; this class never touches them itself.
 * Where KVM passes a value on without a check, tdemu checks it (port above 0xFFFF, an MMIO access
 * crossing a page) and says so at the check.
 */
public final class TdxVmcall {

    private final Vmm vmm;
    private final int gpaw;

    /** @param gpaw the TD's guest-physical address width (48 or 52): bit {@code gpaw - 1} is SHARED */
    public TdxVmcall(Vmm vmm, int gpaw) {
        if (gpaw != 48 && gpaw != 52) {
            throw new IllegalArgumentException("GPAW is 48 or 52, not " + gpaw);
        }
        this.vmm = vmm;
        this.gpaw = gpaw;
    }

    /** One TDG.VP.VMCALL with the registers the TD passed. Never throws for any register values. */
    public TdVmcallResult handleTdvmcall(TdVmcallArgs args) {
        long r10 = args.r10();
        if (r10 == TdemuHypercall.TD_VENDOR_LEAF) {
            return tdemuHypercall(args);
        }
        if (r10 != TdvmcallLeaf.TDX_HYPERCALL_STANDARD) {
            // tdx_emulate_vmcall: R10 is a KVM hypercall number; tdemu's KVM implements none for TDs.
            return status(-TdemuHypercall.KVM_ENOSYS);
        }
        var leaf = TdvmcallLeaf.of(args.r11());
        if (leaf.isEmpty()) {
            return status(TdvmcallStatus.TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED);
        }
        return switch (leaf.get()) {
            case INSTRUCTION_CPUID -> tdxEmulateCpuid(args);
            case INSTRUCTION_HLT -> new TdVmcallResult.Halt(args.r12() != 0, success().build());
            case INSTRUCTION_IO -> tdxEmulateIo(args);
            case INSTRUCTION_RDMSR -> tdxEmulateRdmsr(args);
            case INSTRUCTION_WRMSR -> tdxEmulateWrmsr(args);
            case VE_REQUEST_MMIO -> tdxEmulateMmio(args);
            case GET_TD_VM_CALL_INFO -> tdxGetTdVmCallInfo(args);
            case MAP_GPA -> tdxMapGpa(args);
            case GET_QUOTE -> tdxGetQuote(args);
            case REPORT_FATAL_ERROR -> new TdVmcallResult.Ends(new VmEnd.TdFatalError(args.r12(), args));
            case SETUP_EVENT_NOTIFY_INTERRUPT -> status(TdvmcallStatus.TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED);
        };
    }

    private static GprUpdates.Builder success() {
        return GprUpdates.builder().set(Gpr.R10, TdvmcallStatus.TDVMCALL_STATUS_SUCCESS.code());
    }

    private static TdVmcallResult status(TdvmcallStatus status) {
        return status(status.code());
    }

    private static TdVmcallResult status(long r10) {
        return new TdVmcallResult.Completed(GprUpdates.of(Gpr.R10, r10));
    }

    private static long sizeMask(int size) {
        return size == 8 ? -1L : (1L << (8 * size)) - 1;
    }

    /** tdemu's vendor leaf: R11 number, R12-R14 arguments; R10 = success and R11 = the hypercall's result. */
    private TdVmcallResult tdemuHypercall(TdVmcallArgs args) {
        return switch (KvmHypercall.kvmEmulateHypercall(args.r11(), args.r12(), args.r13(), args.r14(), vmm)) {
            case HypercallResult.Returned r -> new TdVmcallResult.Completed(success().set(Gpr.R11, r.value()).build());
            case HypercallResult.Ends e -> new TdVmcallResult.Ends(e.end());
        };
    }

    /** R12 = EAX, R13 = ECX (bits 63:32 ignored, as CPUID ignores them); R12-R15 = EAX, EBX, ECX, EDX. */
    private TdVmcallResult tdxEmulateCpuid(TdVmcallArgs args) {
        CpuidResult r = vmm.cpuid((int) args.r12(), (int) args.r13());
        return new TdVmcallResult.Completed(success()
                .set(Gpr.R12, Integer.toUnsignedLong(r.eax()))
                .set(Gpr.R13, Integer.toUnsignedLong(r.ebx()))
                .set(Gpr.R14, Integer.toUnsignedLong(r.ecx()))
                .set(Gpr.R15, Integer.toUnsignedLong(r.edx()))
                .build());
    }

    /**
     * R12 size (1, 2, 4), R13 direction (0 in, 1 out), R14 port, R15 the value to write; IN returns
     * the value in R11. KVM truncates the port to 16 bits; tdemu refuses one above 0xFFFF.
     */
    private TdVmcallResult tdxEmulateIo(TdVmcallArgs args) {
        long size = args.r12(), write = args.r13(), port = args.r14();
        if ((write != 0 && write != 1) || (size != 1 && size != 2 && size != 4)
                || Long.compareUnsigned(port, 0xFFFF) > 0) {
            return status(TdvmcallStatus.TDVMCALL_STATUS_INVALID_OPERAND);
        }
        long mask = sizeMask((int) size);
        if (write == 1) {
            vmm.portOut((int) port, (int) size, args.r15() & mask);
            return new TdVmcallResult.Completed(success().build());
        }
        return new TdVmcallResult.Completed(success().set(Gpr.R11, vmm.portIn((int) port, (int) size) & mask).build());
    }

    /** R12 the MSR index (bits 63:32 ignored, as RDMSR ignores RCX's); R11 = the value. #GP is INVALID_OPERAND. */
    private TdVmcallResult tdxEmulateRdmsr(TdVmcallArgs args) {
        return switch (vmm.readMsr((int) args.r12())) {
            case MsrRead.Value v -> new TdVmcallResult.Completed(success().set(Gpr.R11, v.value()).build());
            case MsrRead.Gp gp -> status(TdvmcallStatus.TDVMCALL_STATUS_INVALID_OPERAND);
        };
    }

    /** R12 the MSR index, R13 the 64-bit value. #GP is INVALID_OPERAND. */
    private TdVmcallResult tdxEmulateWrmsr(TdVmcallArgs args) {
        return switch (vmm.writeMsr((int) args.r12(), args.r13())) {
            case MsrWrite.Done d -> new TdVmcallResult.Completed(success().build());
            case MsrWrite.Gp gp -> status(TdvmcallStatus.TDVMCALL_STATUS_INVALID_OPERAND);
        };
    }

    private long sharedBit() {
        return 1L << (gpaw - 1);
    }

    private boolean legalGpa(long gpa) {
        return (gpa >>> gpaw) == 0;
    }

    /**
     * #VE.RequestMMIO: R12 size (1, 2, 4, 8), R13 direction (0 read, 1 write), R14 GPA, R15 the value
     * to write; a read returns R11. The GPA must be shared (MMIO on private memory makes no sense)
     * and within GPAW. KVM hands one fragment to one device, so tdemu refuses an access crossing a
     * 4 KiB page instead of splitting it; it does not ask for natural alignment (KVM does not).
     */
    private TdVmcallResult tdxEmulateMmio(TdVmcallArgs args) {
        long size = args.r12(), write = args.r13(), gpa = args.r14();
        if ((size != 1 && size != 2 && size != 4 && size != 8) || (write != 0 && write != 1)) {
            return status(TdvmcallStatus.TDVMCALL_STATUS_INVALID_OPERAND);
        }
        long last = gpa + size - 1;
        if (!legalGpa(gpa) || !legalGpa(last) || (gpa & sharedBit()) == 0 || (gpa >>> 12) != (last >>> 12)) {
            return status(TdvmcallStatus.TDVMCALL_STATUS_INVALID_OPERAND);
        }
        long mask = sizeMask((int) size);
        long address = gpa & ~sharedBit();
        if (write == 1) {
            vmm.mmioWrite(address, (int) size, args.r15() & mask);
            return new TdVmcallResult.Completed(success().build());
        }
        return new TdVmcallResult.Completed(success().set(Gpr.R11, vmm.mmioRead(address, (int) size) & mask).build());
    }

    /** R12 leaf: 0 (base GHCI, R11-R14 = 0) or 1 (optional TDVMCALLs supported: none); others INVALID_OPERAND. */
    private TdVmcallResult tdxGetTdVmCallInfo(TdVmcallArgs args) {
        long leaf = args.r12();
        if (leaf != 0 && leaf != 1) {
            return status(TdvmcallStatus.TDVMCALL_STATUS_INVALID_OPERAND);
        }
        return new TdVmcallResult.Completed(success().set(Gpr.R11, 0).set(Gpr.R12, 0).set(Gpr.R13, 0).set(Gpr.R14, 0)
                .build());
    }

    /**
     * MapGPA: R12 start GPA, R13 size; both ends on the same side of SHARED, within GPAW, 4 KiB
     * aligned. On an error R11 = the start GPA. tdemu's TD memory is all private and stays so:
     * mapping private is done at once; mapping shared is not modelled.
     */
    private TdVmcallResult tdxMapGpa(TdVmcallArgs args) {
        long gpa = args.r12(), size = args.r13();
        long last = gpa + size - 1;
        TdvmcallStatus error = null;
        if (Long.compareUnsigned(gpa + size, gpa) <= 0 || !legalGpa(gpa) || !legalGpa(last)
                || ((gpa ^ last) & sharedBit()) != 0) {
            error = TdvmcallStatus.TDVMCALL_STATUS_INVALID_OPERAND;
        } else if ((gpa & 0xFFF) != 0 || (size & 0xFFF) != 0) {
            error = TdvmcallStatus.TDVMCALL_STATUS_ALIGN_ERROR;
        }
        if (error != null) {
            return new TdVmcallResult.Completed(GprUpdates.builder().set(Gpr.R10, error.code()).set(Gpr.R11, gpa).build());
        }
        if ((gpa & sharedBit()) != 0) {
            return new TdVmcallResult.NotModelled(String.format(
                    "MapGPA of 0x%x bytes at 0x%x to shared: tdemu models no shared TD memory", size, gpa));
        }
        return new TdVmcallResult.Completed(success().build());
    }

    /**
     * GetQuote: R12 the shared GPA of the buffer, R13 its size; checked as KVM does, then refused
     * with SUBFUNC_UNSUPPORTED, as KVM answers when userspace has no quote service (tdemu has none).
     */
    private TdVmcallResult tdxGetQuote(TdVmcallArgs args) {
        long gpa = args.r12(), size = args.r13();
        if ((gpa & sharedBit()) == 0 || !legalGpa(gpa) || size == 0 || Long.compareUnsigned(gpa + size, gpa) < 0) {
            return status(TdvmcallStatus.TDVMCALL_STATUS_INVALID_OPERAND);
        }
        if ((gpa & 0xFFF) != 0 || (size & 0xFFF) != 0) {
            return status(TdvmcallStatus.TDVMCALL_STATUS_ALIGN_ERROR);
        }
        return status(TdvmcallStatus.TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED);
    }
}
