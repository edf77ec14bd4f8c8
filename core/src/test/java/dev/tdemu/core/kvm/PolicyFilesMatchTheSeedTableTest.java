package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The five seed policy files do exactly what the seed's Java table did ({@link SeedJavaTable}):
 * the same DR operations in the same order, the same hardware afterwards and the same KVM state
 * (switch_db_regs, guest view, effDb, warnings), before entry and after exit, in every state.
 */
class PolicyFilesMatchTheSeedTableTest {

    private record World(KvmVcpu vcpu, HostCpu host, DebugRegisterFile cpu) {
    }

    /** Every state: vCPU kind × all 16 switch_db_regs × host breakpoints × debugger USE_HW_BP × guest DR6. */
    @Test
    void everySeedPolicyFileProducesTheJavaTablesSequencesInEveryState() {
        int states = 0;
        for (DrSwitchPolicy p : DrSwitchPolicy.values()) {
            for (String kind : List.of("vmx", "td", "debug-td")) {
                for (int bits = 0; bits < 16; bits++) {
                    for (boolean hostActive : new boolean[] {false, true}) {
                        for (boolean useHwBp : new boolean[] {false, true}) {
                            if (useHwBp && kind.equals("td")) {
                                continue; // a non-debug TD refuses the debugger
                            }
                            SwitchDbRegs s = new SwitchDbRegs(bits);
                            String where = p + " " + kind + " " + s + " hostActive=" + hostActive + " useHwBp=" + useHwBp;
                            Supplier<World> world = () -> world(p, kind, s, hostActive, useHwBp);
                            compare(world.get(), world.get(), p, where);
                            states++;
                        }
                    }
                }
            }
        }
        assertEquals(5 * (3 * 16 * 4 - 16 * 2), states);
    }

    private static World world(DrSwitchPolicy p, String kind, SwitchDbRegs s, boolean hostActive, boolean useHwBp) {
        DebugRegisterFile cpu = new DebugRegisterFile();
        HostCpu host = new HostCpu(0);
        if (hostActive) {
            host.installBreakpoint(new HostBreakpoint(0xFFFF_FFFF_8100_0000L, BreakpointType.EXECUTE, BreakpointLength.ONE), cpu);
            host.installBreakpoint(new HostBreakpoint(0xFFFF_8880_0000_1000L, BreakpointType.WRITE, BreakpointLength.EIGHT), cpu);
        }
        KvmVcpu v = switch (kind) {
            case "vmx" -> KvmVcpu.vmx(p);
            case "td" -> KvmVcpu.td(p, new TdxModule(TdxDrBehaviour.INIT_ON_EXIT), new TdVcpu(TdAttributes.NON_DEBUG));
            default -> KvmVcpu.td(p, new TdxModule(TdxDrBehaviour.INIT_ON_EXIT), new TdVcpu(TdAttributes.DEBUG_TD));
        };
        if (!kind.equals("td")) {
            v.kvmSetDr(0, 0xA0);
            v.kvmSetDr(3, 0xA3);
            v.kvmSetDr(6, Dr6.BS | 0x2);
            v.kvmSetDr(7, 0x41);
        }
        if (useHwBp) {
            v.setGuestDebug(KvmDrStateTest.HW_BP);
        }
        v.forceSwitchDbRegs(s);
        // what a guest left in hardware, for the WONT_EXIT sync to read
        cpu.load(new DebugRegisters(0xB0, 0xB1, 0xB2, 0xB3, new Dr6(Dr6.BS), cpu.dr7()));
        return new World(v, host, cpu);
    }

    private static void compare(World javaTable, World file, DrSwitchPolicy p, String where) {
        DrSequence wantIn = SeedJavaTable.beforeEntry(p, javaTable.vcpu(), javaTable.host(), javaTable.cpu());
        DrSequence gotIn = VcpuEnterGuest.beforeEntry(file.vcpu(), file.host(), file.cpu());
        assertEquals(wantIn, gotIn, "before entry: " + where);
        assertSame(javaTable, file, "after entry: " + where);
        DrSequence wantOut = SeedJavaTable.afterExit(p, javaTable.vcpu(), javaTable.host(), javaTable.cpu());
        DrSequence gotOut = VcpuEnterGuest.afterExit(file.vcpu(), file.host(), file.cpu());
        assertEquals(wantOut, gotOut, "after exit: " + where);
        assertTrue(gotOut.msrOperations().isEmpty(), "a seed policy never touches DEBUGCTL: " + where);
        assertSame(javaTable, file, "after exit: " + where);
    }

    private static void assertSame(World a, World b, String where) {
        assertEquals(a.cpu().snapshot(), b.cpu().snapshot(), "hardware " + where);
        assertEquals(a.vcpu().switchDbRegs(), b.vcpu().switchDbRegs(), "switch_db_regs " + where);
        assertEquals(a.vcpu().guestView(), b.vcpu().guestView(), "guest view " + where);
        assertEquals(a.vcpu().warnings(), b.vcpu().warnings(), "warnings " + where);
        assertEquals(a.vcpu().effectiveDr7(), b.vcpu().effectiveDr7(), "effective DR7 " + where);
        for (int n = 0; n < 4; n++) {
            assertEquals(a.vcpu().effDb(n), b.vcpu().effDb(n), "effDb[" + n + "] " + where);
        }
        if (a.vcpu().isTd()) {
            return;
        }
        assertEquals(a.vcpu().vmcs().movDrExiting(), b.vcpu().vmcs().movDrExiting(), "MOV-DR exiting " + where);
    }

    @Test
    void theTableReadBackFromEachFileIsTheSeedsTableForEveryFlagCombination() {
        for (DrSwitchPolicy p : DrSwitchPolicy.values()) {
            for (int bits = 0; bits < 16; bits++) {
                SwitchDbRegs s = new SwitchDbRegs(bits);
                assertEquals(SeedJavaTable.loads(p, s), p.loadsGuestDebugRegisters(s), p + " " + s);
                for (boolean active : new boolean[] {false, true}) {
                    assertEquals(SeedJavaTable.restore(p, s, active), p.hostRestoreAfterExit(s, active),
                            p + " " + s + " active=" + active);
                }
            }
        }
    }

    @Test
    void theSeedFilesDescribeVmxAndTdxAndOnlyTheDrSwitch() {
        for (DrSwitchPolicy p : DrSwitchPolicy.values()) {
            PolicyProgram prog = p.program();
            assertEquals(p.name(), prog.name());
            assertEquals(java.util.Set.of(GuestWorld.VMX, GuestWorld.TDX), prog.worlds());
            assertEquals(java.util.Set.of(PolicyAspect.DR_SWITCH), prog.aspects());
            assertEquals(p != DrSwitchPolicy.PRE_TDX, prog.hasAutoSwitchFlag());
        }
    }
}
