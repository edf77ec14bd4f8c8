package dev.tdemu.emulator.vm;

import dev.tdemu.proto.DebugRegisters;
import dev.tdemu.proto.ExitRecord;
import dev.tdemu.proto.InvariantVerdict;
import java.util.ArrayList;
import java.util.List;

/** How exits are shown to people: by `trace show`, `monitor exits` and `check`. */
public final class ExitFormat {
    private ExitFormat() {}

    public static String format(ExitRecord r) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("#%d  vCPU %d on cpu %d  %s (%d)%s  RIP 0x%x  qualification 0x%x%n", r.getSequence(), r.getVcpu(),
                r.getPhysicalCpu(), r.getReasonName(), r.getBasicReason(),
                r.getTdcallLeaf() != 0 ? String.format("  leaf 0x%x", r.getTdcallLeaf()) : "", r.getGuestRip(), r.getQualification()));
        b.append("    in guest      ").append(regs(r.getHwBeforeEntry())).append('\n');
        b.append("    at exit       ").append(regs(r.getHwAtExit())).append('\n');
        b.append("    after KVM     ").append(regs(r.getHwAfterDrSequence())).append('\n');
        b.append(String.format("    switch_db_regs %s; host breakpoints %s; host expects %s%n", flags(r.getSwitchDbRegs()),
                r.getHostBreakpointsActive() ? "active" : "none", regs(r.getHostExpected())));
        for (String w : r.getWarningsList()) {
            b.append("    WARN_ON ").append(w).append('\n');
        }
        for (InvariantVerdict v : r.getVerdictsList()) {
            if (!v.getHolds()) {
                b.append("    FAILED ").append(v.getInvariant()).append(": ").append(v.getDetail()).append('\n');
            }
        }
        return b.toString();
    }

    public static String regs(DebugRegisters d) {
        return String.format("DR0=0x%x DR1=0x%x DR2=0x%x DR3=0x%x DR6=0x%x DR7=0x%x", d.getDr0(), d.getDr1(), d.getDr2(),
                d.getDr3(), d.getDr6(), d.getDr7());
    }

    public static String flags(int bits) {
        List<String> f = new ArrayList<>();
        String[] names = {"BP_ENABLED", "WONT_EXIT", "RELOAD", "AUTO_SWITCH"};
        for (int i = 0; i < names.length; i++) {
            if ((bits & (1 << i)) != 0) {
                f.add(names[i]);
            }
        }
        return f.isEmpty() ? "0" : String.join("|", f);
    }
}
