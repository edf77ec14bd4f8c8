package dev.tdemu.emulator.gdb;

import static dev.tdemu.gdbstub.registers.X86_64Registers.*;

import dev.tdemu.core.x86.Sreg;
import dev.tdemu.emulator.machine.PageWalker;
import dev.tdemu.emulator.machine.PagingState;
import dev.tdemu.emulator.vm.DebugEvent;
import dev.tdemu.emulator.vm.DebugSession;
import dev.tdemu.gdbstub.registers.RegisterFile;
import dev.tdemu.gdbstub.target.MonitorReply;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * gdb's {@code monitor} in a VM: the VM's own commands ({@code dr}, {@code exits}, {@code policy},
 * {@code check}, {@code phys}) and QEMU's monitor commands a kernel developer reaches for —
 * {@code info registers}, {@code info tlb}, {@code info mem}, {@code xp}, {@code gva2gpa} — which
 * read the guest's state through its page tables and guest-physical memory. Every answer, a
 * refusal included, is text for gdb's console; a command gdb should not treat as failed (gdb 13
 * prints only "Protocol error with Rcmd" for a failure) is answered with one line.
 */
final class VmMonitor {
    /** {@code info tlb} lists at most this many pages ({@code info mem} merges them into ranges). */
    static final int MAX_PAGES = 4096;
    private static final Pattern XP = Pattern.compile("xp(?:\\s*/(\\d*)([xdu]?)([bhwg]?))?\\s+(\\S+)");

    private final DebugSession session;
    private final VcpuRegisters registers;

    VmMonitor(DebugSession session, VcpuRegisters registers) {
        this.session = session;
        this.registers = registers;
    }

    static final String HELP = """
            QEMU-style inspection (vCPU N: 0 by default; all with info registers):
              info registers [N]      the vCPU's registers, segments with their GDT descriptors, tables, MSRs
              info tlb [N]            every mapped page of the vCPU's page tables: linear -> physical, size, w u x g a d
              info mem [N]            the same merged into ranges with equal rights
              xp /NFU ADDR            guest-physical memory: N units of U (b h w g), as F (x d u); e.g. xp /4xg 0x1000
              gva2gpa ADDR [N]        the guest-physical address of a linear one through the vCPU's page tables
            """;

    MonitorReply run(String line) {
        String command = line.trim().replaceAll("\\s+", " ");
        try {
            String[] w = command.isEmpty() ? new String[] {"help"} : command.split(" ");
            return switch (w[0]) {
                case "info" -> MonitorReply.ok(info(w));
                case "xp" -> MonitorReply.ok(xp(command));
                case "gva2gpa" -> MonitorReply.ok(gva2gpa(w));
                case "dr" -> MonitorReply.ok(dr(session.monitor(command)));
                case "help" -> MonitorReply.ok(session.monitor("help") + HELP);
                default -> MonitorReply.ok(session.monitor(command));
            };
        } catch (RuntimeException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            if (why.startsWith("unknown command")) {
                return MonitorReply.ok("unknown monitor command '" + command.split(" ")[0] + "' ('monitor help' lists them)\n");
            }
            return MonitorReply.ok("monitor " + command + ": " + why.lines().findFirst().orElse(why) + "\n");
        }
    }

    private String info(String[] w) {
        if (w.length < 2) {
            throw new IllegalArgumentException("usage: info registers|tlb|mem [N]");
        }
        return switch (w[1]) {
            case "registers" -> {
                if (w.length > 2) {
                    yield infoRegisters(vcpu(w, 2));
                }
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < session.vcpuCount(); i++) {
                    b.append(infoRegisters(i));
                }
                yield b.toString();
            }
            case "tlb" -> infoTlb(vcpu(w, 2), false);
            case "mem" -> infoTlb(vcpu(w, 2), true);
            default -> throw new IllegalArgumentException("unknown info '" + w[1] + "'; one of: registers tlb mem");
        };
    }

    private int vcpu(String[] w, int at) {
        if (w.length <= at) {
            return 0;
        }
        if (w.length > at + 1) {
            throw new IllegalArgumentException("unexpected '" + w[at + 1] + "'");
        }
        int n;
        try {
            n = Integer.parseInt(w[at]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + w[at] + "' is not a vCPU number");
        }
        if (n < 0 || n >= session.vcpuCount()) {
            throw new IllegalArgumentException("no vCPU " + n + " (there are " + session.vcpuCount() + ")");
        }
        return n;
    }

    // ---- info registers

    private String infoRegisters(int vcpu) {
        RegisterFile r = registers.read(vcpu);
        StringBuilder b = new StringBuilder();
        b.append("vCPU ").append(vcpu).append('\n');
        String[] gpr = {"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP", "R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15"};
        for (int i = 0; i < 16; i++) {
            b.append(gpr[i]).append('=').append(hex16(r.getLong(i))).append(i % 4 == 3 ? "\n" : " ");
        }
        long rflags = r.getLong(EFLAGS);
        b.append(String.format("RIP=%s RFL=%08x [%s] CPL=%d%n", hex16(r.getLong(RIP)), rflags, flags(rflags), r.getLong(CS) & 3));
        SegmentLoad.Tables tables = registers.tables(vcpu);
        Sreg[] order = {Sreg.ES, Sreg.CS, Sreg.SS, Sreg.DS, Sreg.FS, Sreg.GS};
        for (Sreg s : order) {
            int sel = (int) r.getLong(CS + List.of(Sreg.CS, Sreg.SS, Sreg.DS, Sreg.ES, Sreg.FS, Sreg.GS).indexOf(s));
            b.append(String.format("%-3s=%04x %s%n", s.name(), sel, descriptor(sel, tables)));
        }
        b.append(String.format("FS_BASE=%s GS_BASE=%s%n", hex16(r.getLong(FS_BASE)), hex16(r.getLong(GS_BASE))));
        b.append(String.format("LDT=%04x %s%n", r.getLong(LDTR), descriptor((int) r.getLong(LDTR), tables)));
        b.append(String.format("TR =%04x %s%n", r.getLong(TR), descriptor((int) r.getLong(TR), tables)));
        b.append(String.format("GDT=     %s %08x%n", hex16(r.getLong(GDTR_BASE)), r.getLong(GDTR_LIMIT)));
        b.append(String.format("IDT=     %s %08x%n", hex16(r.getLong(IDTR_BASE)), r.getLong(IDTR_LIMIT)));
        b.append(String.format("CR0=%08x CR2=%s CR3=%s CR4=%08x CR8=%x%n", r.getLong(CR0), hex16(r.getLong(CR2)),
                hex16(r.getLong(CR3)), r.getLong(CR4), r.getLong(CR8)));
        b.append(String.format("DR0=%s DR1=%s DR2=%s DR3=%s%n", hex16(r.getLong(DR0)), hex16(r.getLong(DR1)), hex16(r.getLong(DR2)),
                hex16(r.getLong(DR3))));
        b.append(String.format("DR6=%s DR7=%s (the guest's own)%n", hex16(r.getLong(DR6)), hex16(r.getLong(DR7))));
        b.append(String.format("EFER=%s STAR=%s LSTAR=%s%n", hex16(r.getLong(EFER)), hex16(r.getLong(STAR)), hex16(r.getLong(LSTAR))));
        b.append(String.format("APIC_BASE=%s DEBUGCTL=%s%n", hex16(r.getLong(APIC_BASE)), hex16(r.getLong(DEBUGCTL))));
        b.append(String.format("FCW=%04x FSW=%04x FTW=%04x MXCSR=%08x%n", r.getLong(FCTRL), r.getLong(FSTAT), r.getLong(FTAG),
                r.getLong(MXCSR)));
        return b.toString();
    }

    /** A selector's descriptor as the GDT/LDT holds it now (the engine's caches are not readable). */
    private static String descriptor(int selector, SegmentLoad.Tables tables) {
        if ((selector & ~3) == 0) {
            return "(null)";
        }
        boolean ldt = (selector & 4) != 0;
        long base = ldt ? tables.ldtBase() : tables.gdtBase();
        int limit = ldt ? tables.ldtLimit() : tables.gdtLimit();
        long offset = selector & ~7L;
        if (offset + 7 > limit) {
            return String.format("(beyond the %s's limit 0x%x)", ldt ? "LDT" : "GDT", limit);
        }
        try {
            long raw = tables.read64(base + offset);
            dev.tdemu.core.x86.Segment s = dev.tdemu.core.x86.Segment.fromDescriptor(selector, raw);
            String kind = s.system() ? "system type " + s.type() : s.code() ? (s.longMode() ? "CS64" : s.defaultBig() ? "CS32" : "CS16")
                    : "DS";
            return String.format("%s %08x %08x DPL=%d %s%s", hex16(s.base()), s.limit(), raw >>> 40 & 0xF0FF, s.dpl(), kind,
                    s.present() ? "" : " not-present");
        } catch (IllegalArgumentException e) {
            return "(descriptor not readable: " + e.getMessage() + ")";
        }
    }

    private static String flags(long rflags) {
        String[] names = {"C", "", "P", "", "A", "", "Z", "S", "T", "I", "D", "O"};
        StringBuilder b = new StringBuilder();
        for (int bit = 11; bit >= 0; bit--) {
            if (!names[bit].isEmpty()) {
                b.append((rflags & (1L << bit)) != 0 ? names[bit] : "-");
            }
        }
        return b.toString();
    }

    // ---- info tlb, info mem, gva2gpa, xp

    private String infoTlb(int vcpu, boolean ranges) {
        PagingState state = session.pagingState(vcpu);
        if (state.mode() != PagingState.Mode.LEVEL_4) {
            throw new IllegalArgumentException("the vCPU's paging is " + state.mode() + "; info tlb walks 4-level paging only");
        }
        PageTableDump.Dump dump = PageTableDump.of(state.cr3(), pa -> le64(session.readPhysical(pa, 8)), state.maxPhysAddr(),
                state.nxe(), MAX_PAGES);
        StringBuilder b = new StringBuilder();
        if (ranges) {
            PageTableDump.Page first = null;
            long end = 0;
            for (PageTableDump.Page p : dump.pages()) {
                if (first != null && (p.linear() != end || p.writable() != first.writable() || p.user() != first.user()
                        || p.executable() != first.executable())) {
                    range(b, first, end);
                    first = null;
                }
                if (first == null) {
                    first = p;
                }
                end = p.linear() + p.size();
            }
            if (first != null) {
                range(b, first, end);
            }
        } else {
            for (PageTableDump.Page p : dump.pages()) {
                b.append(String.format("%s: %s %4s %s%n", hex16(p.linear()), hex16(p.physical()), size(p.size()), p.flags()));
            }
        }
        if (dump.pages().isEmpty()) {
            b.append("no pages mapped\n");
        }
        if (dump.truncated()) {
            b.append("(stopped after ").append(MAX_PAGES).append(" pages)\n");
        }
        if (dump.reserved() > 0) {
            b.append(dump.reserved()).append(" entries with reserved bits skipped (an access through them is #PF)\n");
        }
        return b.toString();
    }

    private static void range(StringBuilder b, PageTableDump.Page first, long end) {
        b.append(String.format("%s-%s %s %s%s%s%n", hex16(first.linear()), hex16(end), hex16(end - first.linear()),
                first.user() ? "u" : "-", first.writable() ? "rw" : "r-", first.executable() ? "x" : "-"));
    }

    private static String size(long bytes) {
        return bytes >= 1L << 30 ? (bytes >> 30) + "G" : bytes >= 1L << 20 ? (bytes >> 20) + "M" : (bytes >> 10) + "K";
    }

    private String gva2gpa(String[] w) {
        if (w.length < 2 || w.length > 3) {
            throw new IllegalArgumentException("usage: gva2gpa ADDR [N]");
        }
        long linear = number(w[1]);
        int vcpu = vcpu(w, 2);
        return switch (session.translate(vcpu, linear)) {
            case PageWalker.Mapped m -> String.format("gpa: 0x%x (in a %s page, %s%s%s)%n", m.physical(), size(m.pageSize()),
                    m.writable() ? "writable" : "read-only", m.user() ? ", user" : ", supervisor", m.executable() ? "" : ", XD");
            case PageWalker.PageFault f -> String.format("0x%x is not mapped: %s%n", linear, f.reason());
            case PageWalker.Unwalkable u -> String.format("0x%x: %s%n", linear, u.reason());
        };
    }

    private String xp(String command) {
        Matcher m = XP.matcher(command);
        if (!m.matches()) {
            throw new IllegalArgumentException("usage: xp /NFU ADDR, e.g. xp /4xg 0x1000");
        }
        int count = m.group(1) == null || m.group(1).isEmpty() ? 1 : Integer.parseInt(m.group(1));
        char format = m.group(2) == null || m.group(2).isEmpty() ? 'x' : m.group(2).charAt(0);
        int unit = switch (m.group(3) == null || m.group(3).isEmpty() ? "w" : m.group(3)) {
            case "b" -> 1;
            case "h" -> 2;
            case "g" -> 8;
            default -> 4;
        };
        long address = number(m.group(4));
        if (count < 1 || count > 4096) {
            throw new IllegalArgumentException("count is 1 to 4096, not " + count);
        }
        byte[] bytes = session.readPhysical(address, count * unit);
        StringBuilder b = new StringBuilder();
        int perLine = Math.max(1, 16 / unit);
        for (int i = 0; i < count; i++) {
            if (i % perLine == 0) {
                b.append(i == 0 ? "" : "\n").append(hex16(address + (long) i * unit)).append(':');
            }
            long v = 0;
            for (int k = unit - 1; k >= 0; k--) {
                v = (v << 8) | (bytes[i * unit + k] & 0xFFL);
            }
            b.append(' ').append(switch (format) {
                case 'd' -> Long.toString(unit == 8 ? v : (v << (64 - 8 * unit)) >> (64 - 8 * unit));
                case 'u' -> Long.toUnsignedString(v);
                default -> String.format("0x%0" + (2 * unit) + "x", v);
            });
        }
        return b.append('\n').toString();
    }

    // ---- dr

    /**
     * The VM's {@code dr} report, with the debugger's own slots. In a debug TD the TDX module loads
     * the debugger's breakpoints into the TD's debug registers, which the VM's report would call
     * the TD's own.
     */
    private String dr(String report) {
        List<DebugSession.DebuggerSlot> slots = session.debuggerSlots();
        String mine = slots.isEmpty() ? "none" : String.join(", ", slots.stream().map(VmMonitor::slot).toList());
        String out = report;
        if (session.isDebugTd()) {
            StringBuilder b = new StringBuilder();
            for (String l : report.split("\n", -1)) {
                if (l.startsWith("  TD's own     ")) {
                    // Not the TD's own: while KVM_SET_GUEST_DEBUG has USE_HW_BP, the TDX module holds the
                    // debugger's breakpoints there (as loaded at the last entry).
                    l = "  TD's DRs     " + l.substring("  TD's own     ".length())
                            + " (the TD's debug registers: with USE_HW_BP in guest_debug they hold the debugger's breakpoints,"
                            + " as of the last entry)";
                }
                b.append(l).append('\n');
            }
            out = b.substring(0, b.length() - 1);
        }
        return out + "debugger's slots (global, of 4): " + mine + "\n";
    }

    private static String slot(DebugSession.DebuggerSlot s) {
        String what = switch (s.kind()) {
            case HARDWARE_BREAKPOINT -> "hbreak";
            case WATCH_WRITE -> "watch";
            case WATCH_READ -> "rwatch";
            case WATCH_ACCESS -> "awatch";
            default -> s.kind().name().toLowerCase(Locale.ROOT);
        };
        String piece = s.kind() == DebugEvent.Kind.HARDWARE_BREAKPOINT ? String.format("0x%x", s.address())
                : String.format("0x%x len %d", s.address(), s.length());
        String of = s.requested() == s.address() && s.requestedLength() == s.length() || s.kind() == DebugEvent.Kind.HARDWARE_BREAKPOINT
                ? "" : String.format(" (part of %d bytes at 0x%x)", s.requestedLength(), s.requested());
        return "DR" + s.slot() + " " + what + " " + piece + of;
    }

    // ---- numbers

    private static long number(String s) {
        try {
            if (s.startsWith("0x") || s.startsWith("0X")) {
                return Long.parseUnsignedLong(s.substring(2), 16);
            }
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "' is not an address (decimal, or hex with 0x)");
        }
    }

    private static long le64(byte[] b) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xFFL);
        }
        return v;
    }

    private static String hex16(long v) {
        return String.format("%016x", v);
    }

}
