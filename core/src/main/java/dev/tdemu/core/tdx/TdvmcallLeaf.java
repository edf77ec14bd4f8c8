package dev.tdemu.core.tdx;

import java.util.Optional;

/**
 * The GHCI's standard TDG.VP.VMCALL sub-functions (R11 with R10 = 0). The instruction leaves use
 * the VMX exit reason of the instruction they stand for.
 */
public enum TdvmcallLeaf {
    INSTRUCTION_CPUID(10, "Instruction.CPUID"),
    INSTRUCTION_HLT(12, "Instruction.HLT"),
    INSTRUCTION_IO(30, "Instruction.IO"),
    INSTRUCTION_RDMSR(31, "Instruction.RDMSR"),
    INSTRUCTION_WRMSR(32, "Instruction.WRMSR"),
    VE_REQUEST_MMIO(48, "#VE.RequestMMIO"),
    GET_TD_VM_CALL_INFO(0x10000, "GetTdVmCallInfo"),
    MAP_GPA(0x10001, "MapGPA"),
    GET_QUOTE(0x10002, "GetQuote"),
    REPORT_FATAL_ERROR(0x10003, "ReportFatalError"),
    SETUP_EVENT_NOTIFY_INTERRUPT(0x10004, "SetupEventNotifyInterrupt");

    /** R10 = 0: a GHCI standard leaf; anything else is vendor-specific. */
    public static final long TDX_HYPERCALL_STANDARD = 0;

    private final long number;
    private final String spelling;

    TdvmcallLeaf(long number, String spelling) {
        this.number = number;
        this.spelling = spelling;
    }

    public long number() {
        return number;
    }

    public String spelling() {
        return spelling;
    }

    public static Optional<TdvmcallLeaf> of(long number) {
        for (TdvmcallLeaf l : values()) {
            if (l.number == number) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return spelling;
    }
}
