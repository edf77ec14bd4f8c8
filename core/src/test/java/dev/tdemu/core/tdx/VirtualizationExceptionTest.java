package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.x86.Gpr;
import dev.tdemu.core.vmx.ExitReason;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static dev.tdemu.core.tdx.TdFixture.MIB;
import static dev.tdemu.core.tdx.TdFixture.RIP;
import static dev.tdemu.core.tdx.TdFixture.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The events the module turns into #VE, and the #VE information's life until TDG.VP.VEINFO.GET. */
class VirtualizationExceptionTest {
    /** IA32_APIC_BASE: not in the TDX module's MSR table, so intercepted as #VE. */
    private static final long MSR_APIC_BASE = 0x1B;

    private final TdFixture f = TdFixture.standard();
    private final TdVcpu v = f.td.addVcpu();

    private TdEventResult event(TdEvent e) {
        return f.module.handleTdEvent(v, e);
    }

    private static TdEvent.Cpuid cpuid(long rax, long rcx) {
        return new TdEvent.Cpuid(RIP, 2, 0x2, 0, rax, rcx);
    }

    private VeInfo ve(TdEvent e) {
        return assertInstanceOf(TdEventResult.InjectVe.class, event(e)).info();
    }

    private TdcallResult.Completed veinfoGet() {
        return f.completed(v, call(TdcallLeaf.TDG_VP_VEINFO_GET));
    }

    @Test
    void cpuidLeaf21IsAnsweredByTheModuleWithTheTdxSignature() {
        var a = assertInstanceOf(TdEventResult.AnsweredByModule.class, event(cpuid(0xFFFF_FFFF_0000_0021L, 0)));
        assertEquals(0, a.updates().value(Gpr.RAX));
        assertEquals(0x6574_6E49L, a.updates().value(Gpr.RBX), "\"Inte\"");
        assertEquals(0x2020_2020L, a.updates().value(Gpr.RCX), "\"    \"");
        assertEquals(0x5844_546CL, a.updates().value(Gpr.RDX), "\"lTDX\"");
        assertEquals(RIP + 2, a.nextRip());
        assertFalse(a.singleStepTrap());
        assertEquals(Optional.empty(), v.veInfo(), "no #VE, nothing recorded");
    }

    @Test
    void cpuidAnsweredUnderTheTrapFlagOwesASingleStepTrap() {
        var a = assertInstanceOf(TdEventResult.AnsweredByModule.class,
                event(new TdEvent.Cpuid(RIP, 2, 0x2 | Rflags.TF, 0, 0x21, 0)));
        assertTrue(a.singleStepTrap());
    }

    @Test
    void everyOtherCpuidIsAVirtualizationExceptionWithReasonCpuid() {
        assertEquals(VeInfo.instruction(ExitReason.CPUID.basic(), 0, 2), ve(cpuid(1, 0)));
        veinfoGet();
        assertEquals(ExitReason.CPUID.basic(), ve(cpuid(0x21, 1)).exitReason(), "leaf 0x21 has subleaf 0 only");
    }

    @Test
    void cpuidVeSetMakesEvenLeaf21AVirtualizationExceptionAtThatCpl() {
        f.status(v, call(TdcallLeaf.TDG_VP_CPUIDVE_SET).with(Gpr.RCX, 2)); // user CPUID only
        assertInstanceOf(TdEventResult.AnsweredByModule.class, event(cpuid(0x21, 0)));
        assertInstanceOf(TdEventResult.InjectVe.class, event(new TdEvent.Cpuid(RIP, 2, 0x2, 3, 0x21, 0)));
    }

    @Test
    void hltRdmsrAndWrmsrBecomeVirtualizationExceptionsWithTheirExitReasonsAndLengths() {
        assertEquals(VeInfo.instruction(12, 0, 1), ve(new TdEvent.Hlt(RIP, 1)));
        veinfoGet();
        assertEquals(VeInfo.instruction(31, 0, 2), ve(new TdEvent.Rdmsr(RIP, 2, MSR_APIC_BASE, 0)));
        veinfoGet();
        assertEquals(VeInfo.instruction(32, 0, 2), ve(new TdEvent.Wrmsr(RIP, 2, MSR_APIC_BASE)));
    }

    @Test
    void portIoCarriesTheVmxIoExitQualification() {
        assertEquals(0xE9L << 16, ve(new TdEvent.PortIo(RIP, 1, 0xE9, 1, false, false, false, false)).exitQualification(),
                "OUT DX, AL: size 1 -> 0, out, DX");
        veinfoGet();
        assertEquals(3 | 8 | 64 | (0x71L << 16),
                ve(new TdEvent.PortIo(RIP, 2, 0x71, 4, true, false, false, true)).exitQualification(),
                "IN EAX, imm8: size 4 -> 3, in (bit 3), immediate (bit 6)");
        veinfoGet();
        assertEquals(8 | 16 | 32 | (0x3F8L << 16),
                ve(new TdEvent.PortIo(RIP, 2, 0x3F8, 1, true, true, true, false)).exitQualification(),
                "REP INSB: string (bit 4), REP (bit 5)");
    }

    @Test
    void veinfoGetReturnsTheRecordedInformationOnceThenNoValidVeInfo() {
        ve(new TdEvent.PortIo(RIP, 1, 0x80, 2, false, false, false, false));
        TdcallResult.Completed c = veinfoGet();
        assertEquals(TdxStatus.TDX_SUCCESS.code(), c.status());
        assertEquals(30, c.updates().value(Gpr.RCX));
        assertEquals(1 | (0x80L << 16), c.updates().value(Gpr.RDX));
        assertEquals(0, c.updates().value(Gpr.R8));
        assertEquals(0, c.updates().value(Gpr.R9));
        assertEquals(1, c.updates().value(Gpr.R10), "instruction length in bits 31:0");
        assertEquals(Optional.empty(), v.veInfo());

        TdcallResult.Completed again = veinfoGet();
        assertEquals(0xC000_0704_0000_0000L, again.status(), "TDX_NO_VALID_VE_INFO");
        assertEquals(GprUpdates.builder().set(Gpr.RAX, again.status()).set(Gpr.RCX, 0).set(Gpr.RDX, 0).set(Gpr.R8, 0)
                .set(Gpr.R9, 0).set(Gpr.R10, 0).build(), again.updates(), "the outputs are cleared");
    }

    @Test
    void aSecondVirtualizationExceptionBeforeTheFirstIsReadBecomesADoubleFault() {
        VeInfo first = ve(new TdEvent.Hlt(RIP, 1));
        TdEventResult second = event(new TdEvent.Rdmsr(RIP + 1, 2, MSR_APIC_BASE, 0));
        assertEquals(31, assertInstanceOf(TdEventResult.InjectDf.class, second).lost().exitReason());
        assertEquals(Optional.of(first), v.veInfo(), "the unread information is kept, not overwritten");
        veinfoGet();
        assertInstanceOf(TdEventResult.InjectVe.class, event(new TdEvent.Rdmsr(RIP + 1, 2, MSR_APIC_BASE, 0)), "read: #VE works again");
    }

    @Test
    void theVeInformationBelongsToOneVcpu() {
        TdVcpu other = f.td.addVcpu();
        ve(new TdEvent.Hlt(RIP, 1));
        assertInstanceOf(TdEventResult.InjectVe.class, f.module.handleTdEvent(other, new TdEvent.Hlt(RIP, 1)));
        assertEquals(TdxStatus.TDX_SUCCESS.code(), f.status(other, call(TdcallLeaf.TDG_VP_VEINFO_GET)));
        assertTrue(v.veInfo().isPresent());
    }

    @Test
    void anEptViolationOnASharedGpaIsAVirtualizationExceptionWithItsAddresses() {
        long gpa = (1L << 47) | 0xFEC0_0010L;
        VeInfo info = ve(new TdEvent.EptViolation(RIP, gpa, 0xFFFF_8000_FEC0_0010L, 0x182));
        assertEquals(new VeInfo(48, 0x182, 0xFFFF_8000_FEC0_0010L, gpa, 0, 0), info);
        TdcallResult.Completed c = veinfoGet();
        assertEquals(0xFFFF_8000_FEC0_0010L, c.updates().value(Gpr.R8));
        assertEquals(gpa, c.updates().value(Gpr.R9));
    }

    @Test
    void anEptViolationOnAPendingPrivatePageIsAVirtualizationExceptionUnlessSeptVeDisable() {
        long pending = 32 * MIB;
        assertEquals(48, ve(new TdEvent.EptViolation(RIP, pending, 0, 1)).exitReason());
        TdFixture noVe = new TdFixture(new TdParams(new TdAttributes(TdAttributes.SEPT_VE_DISABLE), 1,
                TdParams.GPAW_48, 64 * MIB, 16 * MIB));
        TdEventResult r = noVe.module.handleTdEvent(noVe.td.addVcpu(), new TdEvent.EptViolation(RIP, pending + 0x10, 0, 1));
        assertEquals(new TdEventResult.ExitToHost(ExitReason.EPT_VIOLATION, 1, pending),
                r, "the host sees the page-aligned GPA");
    }

    @Test
    void anEptViolationOutsidePrivateMemoryExitsToTheHost() {
        TdEventResult r = event(new TdEvent.EptViolation(RIP, 64 * MIB + 0x123, 0, 2));
        assertEquals(new TdEventResult.ExitToHost(ExitReason.EPT_VIOLATION, 2, 64 * MIB), r);
        assertEquals(Optional.empty(), v.veInfo());
    }
}
