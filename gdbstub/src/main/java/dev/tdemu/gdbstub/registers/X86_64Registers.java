package dev.tdemu.gdbstub.registers;

/**
 * Register numbers of the standard x86-64 layout ({@link RegisterLayout#x86_64()}).
 *
 * <p>Numbers 0..56 follow gdb's own amd64 numbering (core and SSE features) so gdb's expectations
 * and the {@code g} packet line up with any other x86-64 stub; the segment bases, control
 * registers and debug registers follow. The Linux-only {@code orig_rax} is left out: the guests
 * are bare metal.
 *
 * <pre>
 *  0..15  rax rbx rcx rdx rsi rdi rbp rsp r8..r15   64 bit   org.gnu.gdb.i386.core
 *  16     rip                                        64 bit
 *  17     eflags                                     32 bit
 *  18..23 cs ss ds es fs gs                          32 bit
 *  24..31 st0..st7                                   80 bit
 *  32..39 fctrl fstat ftag fiseg fioff foseg fooff fop 32 bit
 *  40..55 xmm0..xmm15                               128 bit   org.gnu.gdb.i386.sse
 *  56     mxcsr                                      32 bit
 *  57 58  fs_base gs_base                            64 bit   org.gnu.gdb.i386.segments
 *  59..64 cr0 cr2 cr3 cr4 cr8 efer                   64 bit   dev.tdemu.cr        (group system)
 *  65..70 dr0 dr1 dr2 dr3 dr6 dr7                    64 bit   dev.tdemu.debugregs (group system)
 *  71..74 gdtr_base gdtr_limit idtr_base idtr_limit  64/32    dev.tdemu.sys       (group system)
 *  75 76  ldtr tr (selectors)                        32 bit
 *  77..81 k_gs_base star lstar apic_base debugctl    64 bit   (the MSRs)
 * </pre>
 *
 * The {@code g} packet is 720 bytes. gdb 13's x86 port ignores the {@code group} attribute, so
 * the control and debug registers also appear in a plain {@code info registers}.
 */
public final class X86_64Registers {
    public static final int RAX = 0;
    public static final int RBX = 1;
    public static final int RCX = 2;
    public static final int RDX = 3;
    public static final int RSI = 4;
    public static final int RDI = 5;
    public static final int RBP = 6;
    public static final int RSP = 7;
    public static final int R8 = 8;
    public static final int R15 = 15;
    public static final int RIP = 16;
    public static final int EFLAGS = 17;
    public static final int CS = 18;
    public static final int SS = 19;
    public static final int DS = 20;
    public static final int ES = 21;
    public static final int FS = 22;
    public static final int GS = 23;
    public static final int ST0 = 24;
    public static final int FCTRL = 32;
    public static final int FSTAT = 33;
    public static final int FTAG = 34;
    public static final int FISEG = 35;
    public static final int FIOFF = 36;
    public static final int FOSEG = 37;
    public static final int FOOFF = 38;
    public static final int FOP = 39;
    public static final int XMM0 = 40;
    public static final int XMM15 = 55;
    public static final int MXCSR = 56;
    public static final int FS_BASE = 57;
    public static final int GS_BASE = 58;
    public static final int CR0 = 59;
    public static final int CR2 = 60;
    public static final int CR3 = 61;
    public static final int CR4 = 62;
    public static final int CR8 = 63;
    public static final int EFER = 64;
    public static final int DR0 = 65;
    public static final int DR1 = 66;
    public static final int DR2 = 67;
    public static final int DR3 = 68;
    public static final int DR6 = 69;
    public static final int DR7 = 70;
    public static final int GDTR_BASE = 71;
    public static final int GDTR_LIMIT = 72;
    public static final int IDTR_BASE = 73;
    public static final int IDTR_LIMIT = 74;
    /** LDTR's selector. */
    public static final int LDTR = 75;
    /** TR's selector. */
    public static final int TR = 76;
    /** IA32_KERNEL_GS_BASE (0xC0000102): what SWAPGS exchanges with GS's base. */
    public static final int K_GS_BASE = 77;
    /** IA32_STAR (0xC0000081): SYSCALL's and SYSRET's segment selectors. */
    public static final int STAR = 78;
    /** IA32_LSTAR (0xC0000082): SYSCALL's 64-bit entry point. */
    public static final int LSTAR = 79;
    /** IA32_APIC_BASE (0x1B). */
    public static final int APIC_BASE = 80;
    /** IA32_DEBUGCTL (0x1D9). */
    public static final int DEBUGCTL = 81;

    /** Number of registers in the layout. */
    public static final int COUNT = 82;

    /** Feature name of the control registers, our own. */
    public static final String CONTROL_FEATURE = "dev.tdemu.cr";
    /** Feature name of the debug registers, our own. */
    public static final String DEBUG_FEATURE = "dev.tdemu.debugregs";
    /** Feature name of the descriptor-table registers and the MSRs a kernel developer reads, our own. */
    public static final String SYSTEM_FEATURE = "dev.tdemu.sys";

    private static final String EFLAGS_TYPE = """
            <flags id="i386_eflags" size="4">
              <field name="CF" start="0" end="0"/>
              <field name="" start="1" end="1"/>
              <field name="PF" start="2" end="2"/>
              <field name="AF" start="4" end="4"/>
              <field name="ZF" start="6" end="6"/>
              <field name="SF" start="7" end="7"/>
              <field name="TF" start="8" end="8"/>
              <field name="IF" start="9" end="9"/>
              <field name="DF" start="10" end="10"/>
              <field name="OF" start="11" end="11"/>
              <field name="NT" start="14" end="14"/>
              <field name="RF" start="16" end="16"/>
              <field name="VM" start="17" end="17"/>
              <field name="AC" start="18" end="18"/>
              <field name="VIF" start="19" end="19"/>
              <field name="VIP" start="20" end="20"/>
              <field name="ID" start="21" end="21"/>
            </flags>
            """;

    private static final String SSE_TYPES = """
            <vector id="v4f" type="ieee_single" count="4"/>
            <vector id="v2d" type="ieee_double" count="2"/>
            <vector id="v16i8" type="int8" count="16"/>
            <vector id="v8i16" type="int16" count="8"/>
            <vector id="v4i32" type="int32" count="4"/>
            <vector id="v2i64" type="int64" count="2"/>
            <union id="vec128">
              <field name="v4_float" type="v4f"/>
              <field name="v2_double" type="v2d"/>
              <field name="v16_int8" type="v16i8"/>
              <field name="v8_int16" type="v8i16"/>
              <field name="v4_int32" type="v4i32"/>
              <field name="v2_int64" type="v2i64"/>
              <field name="uint128" type="uint128"/>
            </union>
            <flags id="i386_mxcsr" size="4">
              <field name="IE" start="0" end="0"/>
              <field name="DE" start="1" end="1"/>
              <field name="ZE" start="2" end="2"/>
              <field name="OE" start="3" end="3"/>
              <field name="UE" start="4" end="4"/>
              <field name="PE" start="5" end="5"/>
              <field name="DAZ" start="6" end="6"/>
              <field name="IM" start="7" end="7"/>
              <field name="DM" start="8" end="8"/>
              <field name="ZM" start="9" end="9"/>
              <field name="OM" start="10" end="10"/>
              <field name="UM" start="11" end="11"/>
              <field name="PM" start="12" end="12"/>
              <field name="FZ" start="15" end="15"/>
            </flags>
            """;

    // Bit positions from the Intel SDM (CR0, CR4, IA32_EFER, DR6, DR7). DR6's active-low bits
    // (BLD, RTM) are left out: they read 1 when nothing happened, which a flag display would misstate.
    private static final String CONTROL_TYPES = """
            <flags id="tdemu_cr0" size="8">
              <field name="PE" start="0" end="0"/>
              <field name="MP" start="1" end="1"/>
              <field name="EM" start="2" end="2"/>
              <field name="TS" start="3" end="3"/>
              <field name="ET" start="4" end="4"/>
              <field name="NE" start="5" end="5"/>
              <field name="WP" start="16" end="16"/>
              <field name="AM" start="18" end="18"/>
              <field name="NW" start="29" end="29"/>
              <field name="CD" start="30" end="30"/>
              <field name="PG" start="31" end="31"/>
            </flags>
            <flags id="tdemu_cr4" size="8">
              <field name="VME" start="0" end="0"/>
              <field name="PVI" start="1" end="1"/>
              <field name="TSD" start="2" end="2"/>
              <field name="DE" start="3" end="3"/>
              <field name="PSE" start="4" end="4"/>
              <field name="PAE" start="5" end="5"/>
              <field name="MCE" start="6" end="6"/>
              <field name="PGE" start="7" end="7"/>
              <field name="PCE" start="8" end="8"/>
              <field name="OSFXSR" start="9" end="9"/>
              <field name="OSXMMEXCPT" start="10" end="10"/>
              <field name="UMIP" start="11" end="11"/>
              <field name="LA57" start="12" end="12"/>
              <field name="VMXE" start="13" end="13"/>
              <field name="SMXE" start="14" end="14"/>
              <field name="FSGSBASE" start="16" end="16"/>
              <field name="PCIDE" start="17" end="17"/>
              <field name="OSXSAVE" start="18" end="18"/>
              <field name="SMEP" start="20" end="20"/>
              <field name="SMAP" start="21" end="21"/>
              <field name="PKE" start="22" end="22"/>
              <field name="CET" start="23" end="23"/>
              <field name="PKS" start="24" end="24"/>
            </flags>
            <flags id="tdemu_efer" size="8">
              <field name="SCE" start="0" end="0"/>
              <field name="LME" start="8" end="8"/>
              <field name="LMA" start="10" end="10"/>
              <field name="NXE" start="11" end="11"/>
              <field name="SVME" start="12" end="12"/>
              <field name="LMSLE" start="13" end="13"/>
              <field name="FFXSR" start="14" end="14"/>
              <field name="TCE" start="15" end="15"/>
            </flags>
            """;

    private static final String DEBUG_TYPES = """
            <flags id="tdemu_dr6" size="8">
              <field name="B0" start="0" end="0"/>
              <field name="B1" start="1" end="1"/>
              <field name="B2" start="2" end="2"/>
              <field name="B3" start="3" end="3"/>
              <field name="BD" start="13" end="13"/>
              <field name="BS" start="14" end="14"/>
              <field name="BT" start="15" end="15"/>
            </flags>
            <flags id="tdemu_dr7" size="8">
              <field name="L0" start="0" end="0"/>
              <field name="G0" start="1" end="1"/>
              <field name="L1" start="2" end="2"/>
              <field name="G1" start="3" end="3"/>
              <field name="L2" start="4" end="4"/>
              <field name="G2" start="5" end="5"/>
              <field name="L3" start="6" end="6"/>
              <field name="G3" start="7" end="7"/>
              <field name="LE" start="8" end="8"/>
              <field name="GE" start="9" end="9"/>
              <field name="RTM" start="11" end="11"/>
              <field name="GD" start="13" end="13"/>
              <field name="RW0" start="16" end="17"/>
              <field name="LEN0" start="18" end="19"/>
              <field name="RW1" start="20" end="21"/>
              <field name="LEN1" start="22" end="23"/>
              <field name="RW2" start="24" end="25"/>
              <field name="LEN2" start="26" end="27"/>
              <field name="RW3" start="28" end="29"/>
              <field name="LEN3" start="30" end="31"/>
            </flags>
            """;

    // IA32_APIC_BASE and IA32_DEBUGCTL bit positions from the SDM (Vol. 3 11.4.4 and 18.4.1).
    private static final String SYSTEM_TYPES = """
            <flags id="tdemu_apic_base" size="8">
              <field name="BSP" start="8" end="8"/>
              <field name="EXTD" start="10" end="10"/>
              <field name="EN" start="11" end="11"/>
            </flags>
            <flags id="tdemu_debugctl" size="8">
              <field name="LBR" start="0" end="0"/>
              <field name="BTF" start="1" end="1"/>
              <field name="BLD" start="2" end="2"/>
              <field name="TR" start="6" end="6"/>
              <field name="BTS" start="7" end="7"/>
              <field name="BTINT" start="8" end="8"/>
              <field name="BTS_OFF_OS" start="9" end="9"/>
              <field name="BTS_OFF_USR" start="10" end="10"/>
              <field name="FREEZE_LBRS_ON_PMI" start="11" end="11"/>
              <field name="FREEZE_PERFMON_ON_PMI" start="12" end="12"/>
              <field name="ENABLE_UNCORE_PMI" start="13" end="13"/>
              <field name="FREEZE_WHILE_SMM" start="14" end="14"/>
              <field name="RTM_DEBUG" start="15" end="15"/>
            </flags>
            """;

    static final RegisterLayout LAYOUT = buildLayout();

    private X86_64Registers() {
    }

    private static RegisterLayout buildLayout() {
        RegisterLayout.Builder b = RegisterLayout.builder("i386:x86-64");
        b.feature("org.gnu.gdb.i386.core", EFLAGS_TYPE);
        String[] gprs = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
        for (String gpr : gprs) {
            String type = switch (gpr) {
                case "rbp", "rsp" -> "data_ptr";
                default -> "int64";
            };
            b.register(gpr, 64, type);
        }
        b.register("rip", 64, "code_ptr");
        b.register("eflags", 32, "i386_eflags");
        for (String seg : new String[] {"cs", "ss", "ds", "es", "fs", "gs"}) {
            b.register(seg, 32, "int32");
        }
        for (int i = 0; i < 8; i++) {
            b.register("st" + i, 80, "i387_ext");
        }
        for (String x87 : new String[] {"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"}) {
            b.register(x87, 32, "int", "float");
        }

        b.feature("org.gnu.gdb.i386.sse", SSE_TYPES);
        for (int i = 0; i < 16; i++) {
            b.register("xmm" + i, 128, "vec128");
        }
        b.register("mxcsr", 32, "i386_mxcsr", "vector");

        b.feature("org.gnu.gdb.i386.segments");
        b.register("fs_base", 64, "int");
        b.register("gs_base", 64, "int");

        b.feature(CONTROL_FEATURE, CONTROL_TYPES);
        b.register("cr0", 64, "tdemu_cr0", "system");
        b.register("cr2", 64, "data_ptr", "system");
        b.register("cr3", 64, "uint64", "system");
        b.register("cr4", 64, "tdemu_cr4", "system");
        b.register("cr8", 64, "uint64", "system");
        b.register("efer", 64, "tdemu_efer", "system");

        b.feature(DEBUG_FEATURE, DEBUG_TYPES);
        b.register("dr0", 64, "data_ptr", "system");
        b.register("dr1", 64, "data_ptr", "system");
        b.register("dr2", 64, "data_ptr", "system");
        b.register("dr3", 64, "data_ptr", "system");
        b.register("dr6", 64, "tdemu_dr6", "system");
        b.register("dr7", 64, "tdemu_dr7", "system");

        b.feature(SYSTEM_FEATURE, SYSTEM_TYPES);
        b.register("gdtr_base", 64, "data_ptr", "system");
        b.register("gdtr_limit", 32, "uint32", "system");
        b.register("idtr_base", 64, "data_ptr", "system");
        b.register("idtr_limit", 32, "uint32", "system");
        b.register("ldtr", 32, "uint32", "system");
        b.register("tr", 32, "uint32", "system");
        b.register("k_gs_base", 64, "data_ptr", "system");
        b.register("star", 64, "uint64", "system");
        b.register("lstar", 64, "code_ptr", "system");
        b.register("apic_base", 64, "tdemu_apic_base", "system");
        b.register("debugctl", 64, "tdemu_debugctl", "system");

        b.programCounter("rip");
        // What gdb's amd64 frame code needs after a stop, so that a stepi costs no `g` (gdbserver expedites the same).
        b.expedite("rbp", "rsp", "rip");
        RegisterLayout layout = b.build();
        if (layout.registerCount() != COUNT || layout.regnum("rip") != RIP || layout.regnum("dr7") != DR7
                || layout.regnum("mxcsr") != MXCSR || layout.regnum("cr0") != CR0
                || layout.regnum("gdtr_base") != GDTR_BASE || layout.regnum("debugctl") != DEBUGCTL) {
            throw new IllegalStateException("x86-64 layout constants out of sync with " + layout);
        }
        return layout;
    }
}
