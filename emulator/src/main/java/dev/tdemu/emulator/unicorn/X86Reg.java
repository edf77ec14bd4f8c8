package dev.tdemu.emulator.unicorn;

/**
 * The x86 registers tdemu reads and writes, with Unicorn's {@code uc_x86_reg} ids (x86.h, 2.1)
 * and the size in bytes of the value the engine exchanges for each.
 *
 * <p>Values up to 8 bytes go through {@link Unicorn#readReg}/{@link Unicorn#writeReg}; XMM and x87
 * registers through {@link Unicorn#readRegBytes}/{@link Unicorn#writeRegBytes}; GDTR, IDTR, LDTR
 * and TR through {@link Unicorn#readMmr}/{@link Unicorn#writeMmr}; MSRs (EFER and the rest)
 * through {@link Unicorn#readMsr}/{@link Unicorn#writeMsr}.
 *
 * <p>In 64-bit mode a write to CS, DS, ES or SS only replaces the selector (no descriptor load);
 * FS and GS writes load the descriptor. DR values are stored but never armed by the engine.
 * CR8 (id 58) is absent: Unicorn 2.1.1 answers UC_ERR_ARG for it in both directions.
 */
public enum X86Reg {
    RAX(35, 8, Kind.GPR),
    RBP(36, 8, Kind.GPR),
    RBX(37, 8, Kind.GPR),
    RCX(38, 8, Kind.GPR),
    RDI(39, 8, Kind.GPR),
    RDX(40, 8, Kind.GPR),
    RIP(41, 8, Kind.GPR),
    RSI(43, 8, Kind.GPR),
    RSP(44, 8, Kind.GPR),
    R8(106, 8, Kind.GPR),
    R9(107, 8, Kind.GPR),
    R10(108, 8, Kind.GPR),
    R11(109, 8, Kind.GPR),
    R12(110, 8, Kind.GPR),
    R13(111, 8, Kind.GPR),
    R14(112, 8, Kind.GPR),
    R15(113, 8, Kind.GPR),
    EAX(19, 4, Kind.GPR),
    EBP(20, 4, Kind.GPR),
    EBX(21, 4, Kind.GPR),
    ECX(22, 4, Kind.GPR),
    EDI(23, 4, Kind.GPR),
    EDX(24, 4, Kind.GPR),
    EIP(26, 4, Kind.GPR),
    ESI(29, 4, Kind.GPR),
    ESP(30, 4, Kind.GPR),
    R8D(226, 4, Kind.GPR),
    R9D(227, 4, Kind.GPR),
    R10D(228, 4, Kind.GPR),
    R11D(229, 4, Kind.GPR),
    R12D(230, 4, Kind.GPR),
    R13D(231, 4, Kind.GPR),
    R14D(232, 4, Kind.GPR),
    R15D(233, 4, Kind.GPR),
    AX(3, 2, Kind.GPR),
    BP(6, 2, Kind.GPR),
    BX(8, 2, Kind.GPR),
    CX(12, 2, Kind.GPR),
    DI(14, 2, Kind.GPR),
    DX(18, 2, Kind.GPR),
    SI(45, 2, Kind.GPR),
    SP(47, 2, Kind.GPR),
    IP(34, 2, Kind.GPR),
    R8W(234, 2, Kind.GPR),
    R9W(235, 2, Kind.GPR),
    R10W(236, 2, Kind.GPR),
    R11W(237, 2, Kind.GPR),
    R12W(238, 2, Kind.GPR),
    R13W(239, 2, Kind.GPR),
    R14W(240, 2, Kind.GPR),
    R15W(241, 2, Kind.GPR),
    AH(1, 1, Kind.GPR),
    AL(2, 1, Kind.GPR),
    BH(4, 1, Kind.GPR),
    BL(5, 1, Kind.GPR),
    BPL(7, 1, Kind.GPR),
    CH(9, 1, Kind.GPR),
    CL(10, 1, Kind.GPR),
    DH(13, 1, Kind.GPR),
    DIL(15, 1, Kind.GPR),
    DL(16, 1, Kind.GPR),
    SIL(46, 1, Kind.GPR),
    SPL(48, 1, Kind.GPR),
    R8B(218, 1, Kind.GPR),
    R9B(219, 1, Kind.GPR),
    R10B(220, 1, Kind.GPR),
    R11B(221, 1, Kind.GPR),
    R12B(222, 1, Kind.GPR),
    R13B(223, 1, Kind.GPR),
    R14B(224, 1, Kind.GPR),
    R15B(225, 1, Kind.GPR),
    RFLAGS(253, 8, Kind.FLAGS),
    EFLAGS(25, 4, Kind.FLAGS),
    FLAGS(252, 2, Kind.FLAGS),
    CS(11, 2, Kind.SEGMENT),
    DS(17, 2, Kind.SEGMENT),
    ES(28, 2, Kind.SEGMENT),
    FS(32, 2, Kind.SEGMENT),
    GS(33, 2, Kind.SEGMENT),
    SS(49, 2, Kind.SEGMENT),
    FS_BASE(250, 8, Kind.SEGMENT_BASE),
    GS_BASE(251, 8, Kind.SEGMENT_BASE),
    CR0(50, 8, Kind.CONTROL),
    CR2(52, 8, Kind.CONTROL),
    CR3(53, 8, Kind.CONTROL),
    CR4(54, 8, Kind.CONTROL),
    DR0(66, 8, Kind.DEBUG),
    DR1(67, 8, Kind.DEBUG),
    DR2(68, 8, Kind.DEBUG),
    DR3(69, 8, Kind.DEBUG),
    DR4(70, 8, Kind.DEBUG),
    DR5(71, 8, Kind.DEBUG),
    DR6(72, 8, Kind.DEBUG),
    DR7(73, 8, Kind.DEBUG),
    IDTR(242, 24, Kind.MMR),
    GDTR(243, 24, Kind.MMR),
    LDTR(244, 24, Kind.MMR),
    TR(245, 24, Kind.MMR),
    XMM0(122, 16, Kind.VECTOR),
    XMM1(123, 16, Kind.VECTOR),
    XMM2(124, 16, Kind.VECTOR),
    XMM3(125, 16, Kind.VECTOR),
    XMM4(126, 16, Kind.VECTOR),
    XMM5(127, 16, Kind.VECTOR),
    XMM6(128, 16, Kind.VECTOR),
    XMM7(129, 16, Kind.VECTOR),
    XMM8(130, 16, Kind.VECTOR),
    XMM9(131, 16, Kind.VECTOR),
    XMM10(132, 16, Kind.VECTOR),
    XMM11(133, 16, Kind.VECTOR),
    XMM12(134, 16, Kind.VECTOR),
    XMM13(135, 16, Kind.VECTOR),
    XMM14(136, 16, Kind.VECTOR),
    XMM15(137, 16, Kind.VECTOR),
    MXCSR(249, 4, Kind.VECTOR_CONTROL),
    /** x87 stack registers relative to TOP (ST(i)): 64-bit mantissa then 16-bit sign/exponent. */
    ST0(114, 10, Kind.FP),
    ST1(115, 10, Kind.FP),
    ST2(116, 10, Kind.FP),
    ST3(117, 10, Kind.FP),
    ST4(118, 10, Kind.FP),
    ST5(119, 10, Kind.FP),
    ST6(120, 10, Kind.FP),
    ST7(121, 10, Kind.FP),
    /** x87 physical registers R0-R7 (not relative to TOP), same 10-byte layout as ST. */
    FP0(82, 10, Kind.FP),
    FP1(83, 10, Kind.FP),
    FP2(84, 10, Kind.FP),
    FP3(85, 10, Kind.FP),
    FP4(86, 10, Kind.FP),
    FP5(87, 10, Kind.FP),
    FP6(88, 10, Kind.FP),
    FP7(89, 10, Kind.FP),
    FPCW(246, 2, Kind.FP_CONTROL),
    FPSW(31, 2, Kind.FP_CONTROL),
    /** The full x87 tag word (two bits per physical register, 11 = empty), as FSTENV stores it. */
    FPTAG(247, 2, Kind.FP_CONTROL),
    /** The last x87 instruction's address (offset), its code segment, its operand's address and segment, its opcode. */
    FIP(254, 8, Kind.FP_CONTROL),
    FCS(255, 2, Kind.FP_CONTROL),
    FDP(256, 8, Kind.FP_CONTROL),
    FDS(257, 2, Kind.FP_CONTROL),
    FOP(258, 2, Kind.FP_CONTROL);

    /** What sort of register this is; decides which accessor exchanges its value. */
    public enum Kind {
        GPR, FLAGS, SEGMENT, SEGMENT_BASE, CONTROL, DEBUG, MMR, VECTOR, VECTOR_CONTROL, FP, FP_CONTROL
    }

    private final int id;
    private final int bytes;
    private final Kind kind;
    private final long mask;

    X86Reg(int id, int bytes, Kind kind) {
        this.id = id;
        this.bytes = bytes;
        this.kind = kind;
        this.mask = bytes >= 8 ? -1L : (1L << (8 * bytes)) - 1;
    }

    /** Unicorn's {@code UC_X86_REG_*} id. */
    public int ucId() {
        return id;
    }

    /** Size of the value the engine exchanges, in bytes. */
    public int bytes() {
        return bytes;
    }

    public Kind kind() {
        return kind;
    }

    /** Whether the value fits a long (read with {@link Unicorn#readReg}). */
    public boolean isScalar() {
        return bytes <= 8 && kind != Kind.MMR;
    }

    /** The bits a scalar value of this register occupies. */
    long mask() {
        return mask;
    }
}
