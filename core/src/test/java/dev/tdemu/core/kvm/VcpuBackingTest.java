package dev.tdemu.core.kvm;

import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.vmx.MovDrDirection;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.ExceptionVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the emulator asks the backing when the guest raises an exception or executes MOV DR. */
class VcpuBackingTest {

    @Test
    void vmxGuestMovDrExitsWhileKvmInterceptsItAndNotAfterTheLazySwitch() {
        KvmVcpu v = KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM);
        assertTrue(v.backing().movDrExit(CpuMode.KERNEL_64, 7, MovDrDirection.TO_DR, 0).isPresent());
        v.handleDr(new dev.tdemu.core.vmx.MovDrQualification(7, MovDrDirection.TO_DR, 0), CpuMode.KERNEL_64, 0, 0);
        assertFalse(v.backing().movDrExit(CpuMode.KERNEL_64, 7, MovDrDirection.TO_DR, 0).isPresent());
    }

    @Test
    void vmxGuestDebugExceptionExitsBecauseKvmInterceptsIt() {
        assertTrue(KvmVcpu.vmx(DrSwitchPolicy.UPSTREAM).backing().exceptionExits(ExceptionVector.DB));
    }

    @Test
    void tdMovDrNeverExits() {
        KvmVcpu td = KvmVcpu.td(DrSwitchPolicy.UPSTREAM, new TdxModule(TdxDrBehaviour.INIT_ON_EXIT),
                new TdVcpu(TdAttributes.DEBUG_TD));
        assertFalse(td.backing().movDrExit(CpuMode.KERNEL_64, 0, MovDrDirection.TO_DR, 0).isPresent());
    }

    @Test
    void tdDebugExceptionExitsOnlyWhenTheDebugTdInterceptIsSet() {
        KvmVcpu td = KvmVcpu.td(DrSwitchPolicy.UPSTREAM, new TdxModule(TdxDrBehaviour.INIT_ON_EXIT),
                new TdVcpu(TdAttributes.DEBUG_TD));
        assertFalse(td.backing().exceptionExits(ExceptionVector.DB));
        td.setGuestDebug(GuestDebugRequest.flags(GuestDebug.ENABLE, GuestDebug.SINGLESTEP));
        assertTrue(td.backing().exceptionExits(ExceptionVector.DB));
    }
}
