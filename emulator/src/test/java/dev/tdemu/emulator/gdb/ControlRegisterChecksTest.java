package dev.tdemu.emulator.gdb;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** MOV to CRn and WRMSR checks for the debugger's writes, in tdemu's machine (IA-32e mode, its CPUID). */
class ControlRegisterChecksTest {
    static final long CR0 = 0x80010033L, CR4 = 0x620;

    @Test
    void cr0AcceptsTheFlagsSoftwareSetsAndRefusesInvalidCombinations() {
        assertThat(ControlRegisterChecks.cr0(CR0 | 1L << 3 | 1L << 18, CR4)).as("TS, AM").isEmpty();
        assertThat(ControlRegisterChecks.cr0(CR0 | 1L << 30 | 1L << 29, CR4)).as("CD and NW").isEmpty();
        assertThat(ControlRegisterChecks.cr0(CR0 | 1L << 29, CR4)).get(as()).contains("#GP(0)").contains("NW without CD");
        assertThat(ControlRegisterChecks.cr0(CR0 & ~1L, CR4)).get(as()).contains("PG without PE");
        assertThat(ControlRegisterChecks.cr0(CR0 & ~(1L << 31), CR4)).get(as()).contains("clearing PG leaves IA-32e mode");
        assertThat(ControlRegisterChecks.cr0(CR0 | 1L << 32, CR4)).get(as()).contains("bits 63:32");
        assertThat(ControlRegisterChecks.cr0(CR0 | 1L << 10, CR4)).get(as()).contains("reserved bits 0x400");
    }

    @Test
    void cr3RefusesBitsAboveMaxPhysAddr() {
        assertThat(ControlRegisterChecks.cr3(0x3000, 40)).isEmpty();
        assertThat(ControlRegisterChecks.cr3(0xFF_FFFF_F000L, 40)).isEmpty();
        assertThat(ControlRegisterChecks.cr3(1L << 40 | 0x3000, 40)).get(as()).contains("above MAXPHYADDR (40 bits)");
    }

    @Test
    void cr4TakesOnlyWhatTheCpuidReportsAndKeepsPae() {
        assertThat(ControlRegisterChecks.cr4(CR4, CR4 | 1L << 7 | 1L << 3)).as("PGE, DE").isEmpty();
        assertThat(ControlRegisterChecks.cr4(CR4, CR4 | 1L << 20)).get(as()).contains("#GP(0)").contains("0x100000");
        assertThat(ControlRegisterChecks.cr4(CR4, CR4 & ~(1L << 5))).get(as()).contains("PAE");
    }

    @Test
    void onAPcCr8TakesAnyTprClassAndRefusesReservedBits() {
        assertThat(ControlRegisterChecks.cr8Tpr(0xF)).isEmpty();
        assertThat(ControlRegisterChecks.cr8Tpr(0x10)).get(as()).contains("#GP(0)").contains("bits 63:4");
    }

    @Test
    void cr8AndEferTakeOnlyWhatTheGuestCouldSee() {
        assertThat(ControlRegisterChecks.cr8(0)).isEmpty();
        assertThat(ControlRegisterChecks.cr8(2)).get(as()).contains("cr8 reads 0");
        assertThat(ControlRegisterChecks.cr8(0x10)).get(as()).contains("#GP(0)").contains("bits 63:4");
        assertThat(ControlRegisterChecks.efer(0x500)).isEmpty();
        assertThat(ControlRegisterChecks.efer(0xD01)).get(as()).contains("0x500").contains("#GP(0)");
    }

    @Test
    void basesMustBeCanonical() {
        assertThat(ControlRegisterChecks.canonical("fs_base", 0x7FFF_FFFF_F000L)).isEmpty();
        assertThat(ControlRegisterChecks.canonical("fs_base", 0xFFFF_8000_0000_0000L)).isEmpty();
        assertThat(ControlRegisterChecks.canonical("k_gs_base", 0x8000_0000_0000L)).get(as()).contains("not canonical");
    }

    private static org.assertj.core.api.InstanceOfAssertFactory<String, org.assertj.core.api.AbstractStringAssert<?>> as() {
        return org.assertj.core.api.InstanceOfAssertFactories.STRING;
    }
}
