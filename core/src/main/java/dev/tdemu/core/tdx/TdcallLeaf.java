package dev.tdemu.core.tdx;

import java.util.Optional;

/**
 * TDCALL leaf numbers (RAX bits 15:0) of the TDX module ABI. tdemu's module answers VP.VMCALL,
 * VP.INFO, VP.VEINFO.GET, VP.CPUIDVE.SET, MEM.PAGE.ACCEPT, VM.RD/WR and VP.RD/WR; the other known
 * leaves are validated and then reported as not modelled.
 */
public enum TdcallLeaf {
    TDG_VP_VMCALL(0, "TDG.VP.VMCALL"),
    TDG_VP_INFO(1, "TDG.VP.INFO"),
    TDG_MR_RTMR_EXTEND(2, "TDG.MR.RTMR.EXTEND"),
    TDG_VP_VEINFO_GET(3, "TDG.VP.VEINFO.GET"),
    TDG_MR_REPORT(4, "TDG.MR.REPORT"),
    TDG_VP_CPUIDVE_SET(5, "TDG.VP.CPUIDVE.SET"),
    TDG_MEM_PAGE_ACCEPT(6, "TDG.MEM.PAGE.ACCEPT"),
    TDG_VM_RD(7, "TDG.VM.RD"),
    TDG_VM_WR(8, "TDG.VM.WR"),
    TDG_VP_RD(9, "TDG.VP.RD"),
    TDG_VP_WR(10, "TDG.VP.WR"),
    TDG_SYS_RD(11, "TDG.SYS.RD"),
    TDG_SYS_RDALL(12, "TDG.SYS.RDALL"),
    TDG_SERVTD_RD(18, "TDG.SERVTD.RD"),
    TDG_SERVTD_WR(20, "TDG.SERVTD.WR"),
    TDG_MR_VERIFYREPORT(22, "TDG.MR.VERIFYREPORT"),
    TDG_MEM_PAGE_ATTR_RD(23, "TDG.MEM.PAGE.ATTR.RD"),
    TDG_MEM_PAGE_ATTR_WR(24, "TDG.MEM.PAGE.ATTR.WR"),
    TDG_VP_ENTER(25, "TDG.VP.ENTER"),
    TDG_VP_INVEPT(26, "TDG.VP.INVEPT"),
    TDG_VP_INVVPID(27, "TDG.VP.INVVPID");

    private final int number;
    private final String spelling;

    TdcallLeaf(int number, String spelling) {
        this.number = number;
        this.spelling = spelling;
    }

    public int number() {
        return number;
    }

    /** The ABI's name, e.g. "TDG.VP.INFO". */
    public String spelling() {
        return spelling;
    }

    public static Optional<TdcallLeaf> of(int number) {
        for (TdcallLeaf l : values()) {
            if (l.number == number) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return spelling;
    }
}
