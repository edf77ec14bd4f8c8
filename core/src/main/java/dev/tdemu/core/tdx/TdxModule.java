package dev.tdemu.core.tdx;

import dev.tdemu.core.vmx.ExceptionBitmap;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;

/**
 * The TDX module's DR handling. TDH.VP.ENTER saves the host DRs it finds and loads the TD's; a TD
 * exit saves the TD's DRs and leaves the physical DRs as {@link TdxDrBehaviour} says.
 *
 * <p>Modelling decisions: the host state is kept per TD vCPU (a vCPU runs on one CPU at a time);
 * IA32_DEBUGCTL is not switched by this model; the debug interface is whole-register reads and
 * writes of DR0–3/DR6/DR7 and of the TD's exception bitmap, refused with
 * {@link TdxStatus#TDX_OPERAND_INVALID} for a non-debug TD.
 */
public final class TdxModule {

    private volatile TdxDrBehaviour behaviour;

    public TdxModule(TdxDrBehaviour behaviour) {
        this.behaviour = behaviour;
    }

    /** Swaps the module's DR behaviour between two TD entries (a different module build). */
    public void setBehaviour(TdxDrBehaviour next) {
        behaviour = java.util.Objects.requireNonNull(next);
    }

    public TdxDrBehaviour behaviour() {
        return behaviour;
    }

    /** TDH.VP.ENTER: save the host's physical DRs, load the TD's DR0–3, DR6, DR7. */
    public void tdhVpEnter(TdVcpu vcpu, DebugRegisterFile cpu) {
        if (vcpu.running()) {
            throw new IllegalStateException("TDH.VP.ENTER on a TD vCPU that is already running");
        }
        vcpu.enter(cpu.snapshot());
        cpu.load(vcpu.savedDebugRegisters());
    }

    /**
     * TD exit (the module's side, before it returns to the host): save the TD's physical DRs into
     * its state, then leave the hardware as the behaviour says.
     */
    public void tdExit(TdVcpu vcpu, DebugRegisterFile cpu) {
        if (!vcpu.running()) {
            throw new IllegalStateException("TD exit from a TD vCPU that is not running");
        }
        DebugRegisters td = cpu.snapshot();
        vcpu.setSavedDebugRegisters(td);
        vcpu.exit();
        cpu.load(switch (behaviour) {
            case INIT_ON_EXIT -> DebugRegisters.INIT;
            case RESTORE_HOST_EXCEPT_DR7 -> vcpu.hostAtEnter();
            case LEAVE_GUEST_STATE -> td;
        });
    }

    // ---- debug interface (debug TDs only) ----

    public DebugRegisters debugReadDebugRegisters(TdVcpu vcpu) {
        requireDebug(vcpu, "read TD debug registers");
        return vcpu.savedDebugRegisters();
    }

    public void debugWriteDebugRegisters(TdVcpu vcpu, DebugRegisters value) {
        requireDebug(vcpu, "write TD debug registers");
        requireStopped(vcpu);
        vcpu.setSavedDebugRegisters(value);
    }

    /** Reads one of the TD's DR0–3, DR6, DR7. */
    public long debugReadDr(TdVcpu vcpu, int reg) {
        return debugReadDebugRegisters(vcpu).read(reg);
    }

    /** Writes one of the TD's DR0–3, DR6, DR7 (DR6/DR7 get their fixed bits). */
    public void debugWriteDr(TdVcpu vcpu, int reg, long value) {
        DebugRegisters cur = debugReadDebugRegisters(vcpu);
        debugWriteDebugRegisters(vcpu, switch (reg) {
            case 0, 1, 2, 3 -> cur.withDr(reg, value);
            case 6 -> cur.withDr6(new Dr6(value));
            case 7 -> cur.withDr7(new Dr7(value));
            default -> throw new IllegalArgumentException("the TD has no DR" + reg + " to write");
        });
    }

    public ExceptionBitmap debugReadExceptionBitmap(TdVcpu vcpu) {
        requireDebug(vcpu, "read TD exception bitmap");
        return vcpu.exceptionBitmap();
    }

    /** Sets which exceptions in the TD exit to the host (bit 1: #DB intercept). */
    public void debugWriteExceptionBitmap(TdVcpu vcpu, ExceptionBitmap value) {
        requireDebug(vcpu, "write TD exception bitmap");
        vcpu.setExceptionBitmap(value);
    }

    private static void requireDebug(TdVcpu vcpu, String what) {
        if (!vcpu.attributes().debug()) {
            throw new TdxDebugRefused(TdxStatus.TDX_OPERAND_INVALID, what + " of a non-debug TD");
        }
    }

    private static void requireStopped(TdVcpu vcpu) {
        if (vcpu.running()) {
            throw new IllegalStateException("the TD's saved DRs cannot be written while it runs");
        }
    }
}
