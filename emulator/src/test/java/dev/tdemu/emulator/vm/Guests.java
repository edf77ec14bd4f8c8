package dev.tdemu.emulator.vm;

import dev.tdemu.proto.BreakpointKind;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.HostBreakpoint;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.VmConfig;
import java.util.List;

/** Runs built-in guests in a VM for tests. */
final class Guests {
    static final HostBreakpoint HOST_EXEC = HostBreakpoint.newBuilder().setAddress(HostWorkload.DEFAULT_FUNCTION)
            .setKind(BreakpointKind.BREAKPOINT_KIND_EXECUTE).setLength(1).build();
    static final HostBreakpoint HOST_WATCH = HostBreakpoint.newBuilder().setAddress(HostWorkload.DEFAULT_VARIABLE)
            .setKind(BreakpointKind.BREAKPOINT_KIND_WRITE).setLength(8).build();

    static VmConfig.Builder config(String guest, GuestMode mode) {
        return VmConfig.newBuilder().setGuestImage("builtin:" + guest).setMode(mode).setTimeoutMs(20_000)
                .setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM).setTdxDr(TdxDrBehaviour.TDX_DR_BEHAVIOUR_INIT_ON_EXIT);
    }

    static VmResult run(VmConfig config, Vm.ExitObserver... observers) {
        try (Vm vm = new Vm(VmSpec.from(config), new Vm.Options(null, List.of(observers)))) {
            return vm.run();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static VmResult run(String guest, GuestMode mode) {
        return run(config(guest, mode).build());
    }

    private Guests() {}
}
