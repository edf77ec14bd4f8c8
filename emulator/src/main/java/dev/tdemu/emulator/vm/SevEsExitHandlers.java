package dev.tdemu.emulator.vm;

import dev.tdemu.core.pc.CpuidResult;
import dev.tdemu.core.svm.SevFeatures;
import dev.tdemu.core.svm.Vmsa;
import dev.tdemu.core.x86.Event;
import dev.tdemu.core.x86.EventDelivery;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.core.x86.Gpr;
import dev.tdemu.emulator.cpu.SvmGuestMode;
import dev.tdemu.emulator.cpu.VmExit;
import dev.tdemu.emulator.machine.GuestMemory;

/**
 * An SEV-ES guest's exits, in the two places the architecture handles them (AMD GHCB
 * specification 56421). In the guest, the CPU turns an intercept the VMM cannot serve without the
 * guest's help (a "non-automatic exit": CPUID, port I/O, RDMSR/WRMSR) into #VC, whose error code is
 * the SVM exit code; the GHCB MSR is the guest's own and is read and written without an exit.
 * Only VMGEXIT leaves the guest (an "automatic exit"), and KVM's {@code sev_handle_vmgexit} answers
 * it from the GHCB: the MSR protocol (CPUID request, termination request) or a GHCB page (IOIO,
 * AP Creation). One per SEV-ES vCPU.
 *
 * <p>Modelling decisions: guest memory is not encrypted (the GHCB page is read where the guest put
 * it); AP Creation is honoured for the requesting vCPU itself only, and changes only its VMSA's
 * SEV_FEATURES (the way the guest turns DebugSwap on or off behind KVM's back); a termination
 * request's reason code is the guest's exit status.
 */
final class SevEsExitHandlers {
    /** MSR_AMD64_SEV_ES_GHCB: the GHCB MSR, the guest's own (part of the VMSA). */
    static final long MSR_AMD64_SEV_ES_GHCB = 0xC001_0130L;

    static final long GHCB_MSR_INFO_MASK = 0xFFF;
    static final long GHCB_MSR_CPUID_REQ = 0x004;
    static final long GHCB_MSR_CPUID_RESP = 0x005;
    static final long GHCB_MSR_TERM_REQ = 0x100;

    /** Offsets in the GHCB page (struct ghcb_save_area). */
    static final int GHCB_RAX = 0x1F8;
    static final int GHCB_SW_EXIT_CODE = 0x390;
    static final int GHCB_SW_EXIT_INFO_1 = 0x398;
    static final int GHCB_SW_EXIT_INFO_2 = 0x3A0;

    static final long SVM_EXIT_IOIO = 0x07B;
    static final long SVM_VMGEXIT_AP_CREATION = 0x8000_0013L;
    static final long SVM_VMGEXIT_AP_CREATE = 1;

    private final Vmsa vmsa;
    private final GuestMemory memory;
    /** The guest's GHCB MSR. */
    private long ghcbMsr;
    private String lastVmmCommunicationException;

    SevEsExitHandlers(Vmsa vmsa, GuestMemory memory) {
        this.vmsa = vmsa;
        this.memory = memory;
    }

    /** What the CPU does with an intercept inside the guest. */
    sealed interface InGuest {
        /** Handled in the guest: it runs on, after {@code deliver} if not null (the #VC). */
        record Handled(EventDelivery deliver) implements InGuest {}

        /** An automatic exit to KVM. */
        record ExitToHost(VmExit exit) implements InGuest {}
    }

    InGuest handleInGuest(ExitContext v, VmExit exit) {
        return switch (exit) {
            case VmExit.Cpuid c -> vc(v, c, SvmGuestMode.EXIT_CPUID, "CPUID");
            case VmExit.Io io -> vc(v, io, SVM_EXIT_IOIO, String.format("%s port 0x%x", io.io().in() ? "IN from" : "OUT to",
                    io.io().port()));
            case VmExit.Rdmsr r -> msr(v, r, false);
            case VmExit.Wrmsr w -> msr(v, w, true);
            // HLT, VMGEXIT, exceptions KVM intercepts, interrupts and shutdown are automatic exits.
            default -> new InGuest.ExitToHost(exit);
        };
    }

    /** #VC is a fault: the return RIP is the intercepted instruction's; the error code is the exit code. */
    private InGuest vc(ExitContext v, VmExit.Instruction exit, long exitCode, String what) {
        lastVmmCommunicationException = String.format("%s at RIP 0x%x", what, exit.rip());
        return new InGuest.Handled(Event.fault(ExceptionVector.VC).errorCode((int) exitCode).at(exit.rip()));
    }

    private InGuest msr(ExitContext v, VmExit.Instruction exit, boolean write) {
        long ecx = v.read(Gpr.RCX) & 0xFFFF_FFFFL;
        if (ecx != MSR_AMD64_SEV_ES_GHCB) {
            return vc(v, exit, SvmGuestMode.EXIT_MSR, (write ? "WRMSR 0x" : "RDMSR 0x") + Long.toHexString(ecx));
        }
        if (write) {
            ghcbMsr = (v.read(Gpr.RDX) << 32) | (v.read(Gpr.RAX) & 0xFFFF_FFFFL);
        } else {
            v.write(Gpr.RAX, ghcbMsr & 0xFFFF_FFFFL);
            v.write(Gpr.RDX, ghcbMsr >>> 32);
        }
        v.skipInstruction(exit);
        return new InGuest.Handled(null);
    }

    /** What the last #VC was for, for the report of a guest that dies of it; null before any. */
    String lastVmmCommunicationException() {
        return lastVmmCommunicationException;
    }

    /** KVM's {@code svm_handle_exit} for an SEV-ES vCPU. Returns false when this vCPU stops. */
    boolean handleOnHost(ExitContext v, VmExit exit) {
        boolean keepRunning = switch (exit) {
            case VmExit.Vmgexit g -> vmgexit(v, g);
            case VmExit.Hlt h -> VmxExitHandlers.handle(v, h);
            case VmExit.ExceptionNmi e -> VmxExitHandlers.handleExceptionNmi(v, e);
            case VmExit.TripleFault t -> VmxExitHandlers.handleTripleFault(v, lastVmmCommunicationException == null ? t
                    : new VmExit.TripleFault(t.why() + "; the guest's last #VC was for " + lastVmmCommunicationException, t.rip()));
            case VmExit.ExternalInterrupt x -> true;
            case VmExit.InterruptWindow w -> true;
            case VmExit.EptViolation e -> VmxExitHandlers.handleEptViolation(v, e);
            default -> {
                v.finish(VmResult.Outcome.NOT_MODELLED, String.format("SEV-ES vCPU %d: %s at RIP 0x%x is not modelled for "
                        + "SEV-ES guests", v.vcpuIndex(), exit.getClass().getSimpleName(), exit.rip()), -1);
                yield false;
            }
        };
        return keepRunning && !v.vmFinished();
    }

    /** {@code sev_handle_vmgexit}: the request in the GHCB MSR, or in the GHCB page it points to. */
    private boolean vmgexit(ExitContext v, VmExit.Vmgexit g) {
        long info = ghcbMsr & GHCB_MSR_INFO_MASK;
        if (info == GHCB_MSR_CPUID_REQ) {
            int reg = (int) (ghcbMsr >>> 30) & 3;
            CpuidResult r = v.vmm().cpuid((int) (ghcbMsr >>> 32), 0);
            int value = switch (reg) {
                case 0 -> r.eax();
                case 1 -> r.ebx();
                case 2 -> r.ecx();
                default -> r.edx();
            };
            ghcbMsr = (Integer.toUnsignedLong(value) << 32) | GHCB_MSR_CPUID_RESP;
            return done(v, g);
        }
        if (info == GHCB_MSR_TERM_REQ) {
            long reasonSet = (ghcbMsr >>> 12) & 0xF;
            int code = (int) (ghcbMsr >>> 16) & 0xFF;
            if (reasonSet == 0) {
                v.finish(VmResult.Outcome.EXITED, "GHCB termination request", code);
            } else {
                v.finish(VmResult.Outcome.FATAL_ERROR, String.format("SEV-ES vCPU %d: GHCB termination request, reason set "
                        + "%d code 0x%x", v.vcpuIndex(), reasonSet, code), -1);
            }
            return false;
        }
        if (info != 0 || ghcbMsr == 0) {
            return notModelled(v, g, String.format("GHCB MSR protocol request 0x%x", info));
        }
        long ghcb = ghcbMsr;
        if (!memory.contains(ghcb, 0x1000)) {
            return notModelled(v, g, String.format("a GHCB at 0x%x, outside guest RAM", ghcb));
        }
        long exitCode = memory.read64(ghcb + GHCB_SW_EXIT_CODE);
        long info1 = memory.read64(ghcb + GHCB_SW_EXIT_INFO_1);
        if (exitCode == SVM_EXIT_IOIO) {
            int port = (int) (info1 >>> 16) & 0xFFFF;
            int size = (info1 & (1 << 4)) != 0 ? 1 : (info1 & (1 << 5)) != 0 ? 2 : (info1 & (1 << 6)) != 0 ? 4 : 0;
            boolean string = (info1 & (1 << 2)) != 0;
            if (size == 0 || string) {
                return notModelled(v, g, String.format("GHCB IOIO exit info 0x%x (string or sizeless I/O)", info1));
            }
            long mask = size == 4 ? 0xFFFF_FFFFL : (1L << (8 * size)) - 1;
            if ((info1 & 1) != 0) {
                memory.write64(ghcb + GHCB_RAX, v.vmm().portIn(port, size) & mask);
            } else {
                v.vmm().portOut(port, size, memory.read64(ghcb + GHCB_RAX) & mask);
            }
            return done(v, g);
        }
        if (exitCode == SVM_VMGEXIT_AP_CREATION) {
            long apicId = info1 >>> 32;
            if ((info1 & 0xFFFF_FFFFL) != SVM_VMGEXIT_AP_CREATE || apicId != v.vcpuIndex()) {
                return notModelled(v, g, String.format("AP Creation request 0x%x for APIC ID %d (tdemu re-creates only the "
                        + "requesting vCPU)", info1 & 0xFFFF_FFFFL, apicId));
            }
            vmsa.apCreate(new SevFeatures(memory.read64(ghcb + GHCB_RAX)));
            return done(v, g);
        }
        return notModelled(v, g, String.format("GHCB exit code 0x%x", exitCode));
    }

    /** VMGEXIT completes: the guest resumes after it. */
    private static boolean done(ExitContext v, VmExit.Vmgexit g) {
        v.skipInstruction(g);
        return true;
    }

    private static boolean notModelled(ExitContext v, VmExit.Vmgexit g, String what) {
        v.finish(VmResult.Outcome.NOT_MODELLED, String.format("SEV-ES vCPU %d at RIP 0x%x: VMGEXIT with %s is not modelled",
                v.vcpuIndex(), g.rip(), what), -1);
        return false;
    }
}
