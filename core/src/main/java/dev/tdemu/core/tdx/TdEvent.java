package dev.tdemu.core.tdx;

import dev.tdemu.core.vmx.ExitReason;

/**
 * Something a TD vCPU does that the TDX module intercepts without a TDCALL: instructions the TD
 * may not execute natively, and EPT violations. {@link TdxModule#handleTdEvent} answers it inside
 * the TD (CPUID leaves the module virtualizes), converts it into #VE, or exits to the host.
 */
public sealed interface TdEvent {

    /** RIP of the instruction. */
    long rip();

    /** CPUID with the TD's EAX (leaf) and ECX (subleaf); bits 63:32 are ignored as CPUID ignores them. */
    record Cpuid(long rip, int length, long rflags, int cpl, long rax, long rcx) implements TdEvent {
    }

    record Hlt(long rip, int length) implements TdEvent {
    }

    /**
     * IN, OUT, INS or OUTS.
     *
     * @param immediate the port came from an immediate operand (not DX)
     */
    record PortIo(long rip, int length, int port, int size, boolean in, boolean string, boolean rep,
            boolean immediate) implements TdEvent {
        public PortIo {
            if (size != 1 && size != 2 && size != 4) {
                throw new IllegalArgumentException("port I/O is 1, 2 or 4 bytes, not " + size);
            }
            if (port < 0 || port > 0xFFFF) {
                throw new IllegalArgumentException(String.format("no I/O port 0x%x", port));
            }
        }

        /** The VMX exit qualification for I/O instructions (SDM Vol. 3C, table 28-5). */
        public long exitQualification() {
            return (size - 1) | (in ? 1 << 3 : 0) | (string ? 1 << 4 : 0) | (rep ? 1 << 5 : 0)
                    | (immediate ? 1 << 6 : 0) | ((long) port << 16);
        }
    }

    /** RDMSR of MSR {@code ecx} (ECX zero-extended); {@code rflags} for the single step a module-answered read owes. */
    record Rdmsr(long rip, int length, long ecx, long rflags) implements TdEvent {
    }

    /** WRMSR of MSR {@code ecx} (ECX zero-extended). */
    record Wrmsr(long rip, int length, long ecx) implements TdEvent {
    }

    /**
     * An access the TD's EPT does not allow: {@code gpa} (with the SHARED bit as the TD used it),
     * {@code gla} the linear address, {@code exitQualification} the EPT-violation qualification.
     */
    record EptViolation(long rip, long gpa, long gla, long exitQualification) implements TdEvent {
    }

    /** The VMX basic exit reason the event stands for (the #VE information's exit reason). */
    default ExitReason exitReason() {
        return switch (this) {
            case Cpuid c -> ExitReason.CPUID;
            case Hlt h -> ExitReason.HLT;
            case PortIo p -> ExitReason.IO_INSTRUCTION;
            case Rdmsr r -> ExitReason.RDMSR;
            case Wrmsr w -> ExitReason.WRMSR;
            case EptViolation e -> ExitReason.EPT_VIOLATION;
        };
    }
}
