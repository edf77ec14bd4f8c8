package dev.tdemu.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.core.tdx.TdxModule;
import org.junit.jupiter.api.Test;

class PolicySwitchTest {
    @Test
    void aTdVcpuLosesAutoSwitchWhenSwitchedToAPreTdxKernelAndRegainsIt() {
        KvmVcpu v = KvmVcpu.td(DrSwitchPolicy.UPSTREAM, new TdxModule(TdxDrBehaviour.INIT_ON_EXIT), new TdVcpu(TdAttributes.NON_DEBUG));
        assertTrue(v.switchDbRegs().has(SwitchDbRegs.AUTO_SWITCH));
        v.setPolicy(DrSwitchPolicy.PRE_TDX);
        assertEquals(DrSwitchPolicy.PRE_TDX, v.policy());
        assertFalse(v.switchDbRegs().has(SwitchDbRegs.AUTO_SWITCH));
        v.setPolicy(DrSwitchPolicy.DR7_ONLY);
        assertTrue(v.switchDbRegs().has(SwitchDbRegs.AUTO_SWITCH));
    }

    @Test
    void aVmxVcpuKeepsItsFlagsAcrossPolicySwitches() {
        KvmVcpu v = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM);
        v.setPolicy(DrSwitchPolicy.V1_SKIP_RESTORE);
        assertEquals(0, v.switchDbRegs().bits());
    }

    @Test
    void theModuleBehaviourCanBeSwappedBetweenEntries() {
        TdxModule m = new TdxModule(TdxDrBehaviour.INIT_ON_EXIT);
        m.setBehaviour(TdxDrBehaviour.RESTORE_HOST_EXCEPT_DR7);
        assertEquals(TdxDrBehaviour.RESTORE_HOST_EXCEPT_DR7, m.behaviour());
    }
}
