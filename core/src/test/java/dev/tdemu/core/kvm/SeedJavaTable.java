package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.DrAccess;
import dev.tdemu.core.x86.RecordingDrAccess;

/**
 * The seed's Java table and its executor as they were before the policies became files (commit
 * be94fc2, DrSwitchPolicy.LoadCondition/ExitRestore and VcpuEnterGuest.beforeEntry/afterExit),
 * kept only as the reference the policy files are proven against.
 */
final class SeedJavaTable {

    private SeedJavaTable() {
    }

    static boolean loads(DrSwitchPolicy p, SwitchDbRegs s) {
        return switch (p) {
            case PRE_TDX -> !s.isEmpty();
            case V1_SKIP_RESTORE, V5_AS_POSTED, DR7_ONLY -> !s.without(SwitchDbRegs.AUTO_SWITCH).isEmpty();
            case UPSTREAM -> !s.isEmpty() && !s.autoSwitch();
        };
    }

    static DrSwitchPolicy.HostRestore restore(DrSwitchPolicy p, SwitchDbRegs s, boolean hostActive) {
        if (!hostActive) {
            return DrSwitchPolicy.HostRestore.NONE;
        }
        return switch (p) {
            case PRE_TDX, V5_AS_POSTED, UPSTREAM -> DrSwitchPolicy.HostRestore.FULL;
            case V1_SKIP_RESTORE -> s.autoSwitch() ? DrSwitchPolicy.HostRestore.NONE : DrSwitchPolicy.HostRestore.FULL;
            case DR7_ONLY -> s.autoSwitch() ? DrSwitchPolicy.HostRestore.DR7 : DrSwitchPolicy.HostRestore.FULL;
        };
    }

    static DrSequence beforeEntry(DrSwitchPolicy p, KvmVcpu vcpu, HostCpu host, DrAccess cpu) {
        RecordingDrAccess dr = new RecordingDrAccess(cpu);
        if (loads(p, vcpu.switchDbRegs())) {
            dr.setDebugreg(7, Dr7.RESET.value());
            for (int n = 0; n < 4; n++) {
                dr.setDebugreg(n, vcpu.effDb(n));
            }
            if (vcpu.switchDbRegs().wontExit()) {
                dr.setDebugreg(6, vcpu.dr6().value());
            }
            vcpu.clearSwitchFlag(SwitchDbRegs.RELOAD);
        } else if (host.hwBreakpointActive()) {
            dr.setDebugreg(7, Dr7.RESET.value());
        }
        return new DrSequence(dr.operations());
    }

    static DrSequence afterExit(DrSwitchPolicy p, KvmVcpu vcpu, HostCpu host, DrAccess cpu) {
        RecordingDrAccess dr = new RecordingDrAccess(cpu);
        if (vcpu.switchDbRegs().wontExit()) {
            if (vcpu.guestDebug().useHwBp()) {
                vcpu.warn("vcpu_enter_guest", "vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP");
            }
            if (vcpu.switchDbRegs().autoSwitch()) {
                vcpu.warn("vcpu_enter_guest", "vcpu->arch.switch_db_regs & KVM_DEBUGREG_AUTO_SWITCH");
            }
            long[] hw = new long[4];
            for (int n = 0; n < 4; n++) {
                hw[n] = dr.getDebugreg(n);
            }
            Dr6 hwDr6 = new Dr6(dr.getDebugreg(6));
            vcpu.syncGuestView(hw, hwDr6, vcpu.guestDr7Field());
            vcpu.clearSwitchFlag(SwitchDbRegs.WONT_EXIT);
            vcpu.setMovDrExiting(true);
            vcpu.kvmUpdateDr0123();
            vcpu.kvmUpdateDr7();
        }
        switch (restore(p, vcpu.switchDbRegs(), host.hwBreakpointActive())) {
            case NONE -> {
            }
            case DR7 -> dr.setDebugreg(7, host.cpuDr7().value());
            case FULL -> host.hwBreakpointRestore(dr);
        }
        return new DrSequence(dr.operations());
    }
}
