package dev.tdemu.gdbstub.command;

import dev.tdemu.gdbstub.target.Breakpoint;
import dev.tdemu.gdbstub.target.WatchKind;
import dev.tdemu.gdbstub.command.Command.VContAction;
import dev.tdemu.gdbstub.command.Command.VContKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CommandParserTest {
    private final CommandParser parser = new CommandParser();

    private Command parse(String s) {
        return parser.parse(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void qSupportedListsGdbFeatures() {
        var q = assertInstanceOf(Command.QuerySupported.class,
                parse("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386;fork-events-"));
        assertTrue(q.gdbSupports("multiprocess"));
        assertTrue(q.gdbSupports("hwbreak"));
        assertFalse(q.gdbSupports("fork-events"));
        assertEquals(List.of(), assertInstanceOf(Command.QuerySupported.class, parse("qSupported")).gdbFeatures());
    }

    @Test
    void simplePacketsParse() {
        assertEquals(new Command.HaltReason(), parse("?"));
        assertEquals(new Command.ReadRegisters(), parse("g"));
        assertEquals(new Command.VContQuery(), parse("vCont?"));
        assertEquals(new Command.ThreadListFirst(), parse("qfThreadInfo"));
        assertEquals(new Command.ThreadListNext(), parse("qsThreadInfo"));
        assertEquals(new Command.CurrentThread(), parse("qC"));
        assertEquals(new Command.Offsets(), parse("qOffsets"));
        assertEquals(new Command.WatchpointSupportInfo(), parse("qWatchpointSupportInfo:"));
        assertEquals(new Command.WatchpointSupportInfo(), parse("qWatchpointSupportInfo"));
        assertEquals(new Command.SymbolLookup(), parse("qSymbol::"));
        assertEquals(new Command.StartNoAckMode(), parse("QStartNoAckMode"));
        assertEquals(new Command.ThreadEvents(true), parse("QThreadEvents:1"));
        assertEquals(new Command.ThreadEvents(false), parse("QThreadEvents:0"));
        assertEquals(new Command.Kill(), parse("k"));
        assertEquals(new Command.CtrlC(), parse("vCtrlC"));
    }

    @Test
    void registerPackets() {
        assertEquals(new Command.ReadRegister(0x46), parse("p46"));
        assertEquals(new Command.WriteRegister(0x10, new byte[] {0x34, 0x12, 0, 0, 0, 0, 0, 0}),
                parse("P10=3412000000000000"));
        assertArrayEquals(new byte[] {1, 2, (byte) 0xab},
                assertInstanceOf(Command.WriteRegisters.class, parse("G0102AB")).data());
    }

    @Test
    void memoryPackets() {
        assertEquals(new Command.ReadMemory(0xffffffff81000000L, 0x40), parse("mffffffff81000000,40"));
        assertEquals(new Command.WriteMemory(0x408000, new byte[] {0x34, 0x12}), parse("M408000,2:3412"));
        assertEquals(new Command.WriteMemory(0x408000, new byte[0]), parse("X408000,0:"));
        byte[] binary = {'X', '1', '0', ',', '3', ':', '#', 0, (byte) 0xff};
        assertEquals(new Command.WriteMemory(0x10, new byte[] {'#', 0, (byte) 0xff}), parser.parse(binary));
    }

    @Test
    void legacyResumePackets() {
        assertEquals(new Command.Continue(0, OptionalLong.empty()), parse("c"));
        assertEquals(new Command.Continue(0, OptionalLong.of(0x401000)), parse("c401000"));
        assertEquals(new Command.Continue(0x0b, OptionalLong.empty()), parse("C0b"));
        assertEquals(new Command.Continue(0x05, OptionalLong.of(0x1234)), parse("C05;1234"));
        assertEquals(new Command.Step(0, OptionalLong.empty()), parse("s"));
        assertEquals(new Command.Step(0x02, OptionalLong.of(0x10)), parse("S02;10"));
    }

    @Test
    void vContActionsKeepTheirOrderAndThreads() {
        var v = assertInstanceOf(Command.VCont.class, parse("vCont;s:p1.2;C0b:3;S05;t:-1;c"));
        assertEquals(List.of(
                new VContAction(VContKind.STEP, 0, new ThreadId(1, 2)),
                new VContAction(VContKind.CONTINUE, 0x0b, ThreadId.of(3)),
                new VContAction(VContKind.STEP, 5, null),
                new VContAction(VContKind.STOP, 0, ThreadId.ALL_THREADS),
                new VContAction(VContKind.CONTINUE, 0, null)), v.actions());
    }

    @Test
    void breakpointPacketsOfAllFiveKinds() {
        assertEquals(new Command.InsertBreakpoint(new Breakpoint.Software(0x401000, 1)), parse("Z0,401000,1"));
        assertEquals(new Command.InsertBreakpoint(new Breakpoint.Hardware(0x401000, 1)), parse("Z1,401000,1"));
        assertEquals(new Command.InsertBreakpoint(new Breakpoint.Watchpoint(WatchKind.WRITE, 0x408010, 8)), parse("Z2,408010,8"));
        assertEquals(new Command.RemoveBreakpoint(new Breakpoint.Watchpoint(WatchKind.READ, 0x408010, 4)), parse("z3,408010,4"));
        assertEquals(new Command.RemoveBreakpoint(new Breakpoint.Watchpoint(WatchKind.ACCESS, 0x408010, 2)), parse("z4,408010,2"));
        // Target-side conditions are not advertised; if present they are ignored.
        assertEquals(new Command.InsertBreakpoint(new Breakpoint.Software(0x10, 1)), parse("Z0,10,1;X3,220027"));
        assertInstanceOf(Command.Unsupported.class, parse("Z5,10,1"));
    }

    @Test
    void threadPackets() {
        assertEquals(new Command.SetThread('g', new ThreadId(0, 0)), parse("Hgp0.0"));
        assertEquals(new Command.SetThread('c', ThreadId.ALL_THREADS), parse("Hc-1"));
        assertEquals(new Command.SetThread('g', ThreadId.of(2)), parse("Hg2"));
        assertEquals(new Command.ThreadAlive(new ThreadId(1, 0x1f)), parse("Tp1.1f"));
        assertEquals(new Command.ThreadExtraInfo(new ThreadId(1, 2)), parse("qThreadExtraInfo,p1.2"));
        assertEquals(new ThreadId(1, ThreadId.ALL), ThreadId.parse("p1"));
        assertEquals(new ThreadId(ThreadId.ALL, ThreadId.ALL), ThreadId.parse("p-1.-1"));
    }

    @Test
    void processPackets() {
        assertEquals(new Command.Attached(OptionalInt.empty()), parse("qAttached"));
        assertEquals(new Command.Attached(OptionalInt.of(1)), parse("qAttached:1"));
        assertEquals(new Command.Detach(OptionalInt.empty()), parse("D"));
        assertEquals(new Command.Detach(OptionalInt.of(1)), parse("D;1"));
        assertEquals(new Command.VKill(1), parse("vKill;1"));
    }

    @Test
    void monitorCommandIsHexDecodedText() {
        assertEquals(new Command.Monitor("dr show"), parse("qRcmd,64722073686f77"));
    }

    @Test
    void vContRangeSteppingCarriesItsRange() {
        Command.VCont v = (Command.VCont) parse("vCont;r401000,401010:p1.1;c");
        assertEquals(List.of(new VContAction(VContKind.RANGE, 0, new ThreadId(1, 1), 0x401000, 0x401010),
                new VContAction(VContKind.CONTINUE, 0, null)), v.actions());
        assertInstanceOf(Command.Malformed.class, parse("vCont;r401000:p1.1"));
        assertInstanceOf(Command.Malformed.class, parse("vCont;r2000,1000:p1.1"));
    }

    @Test
    void qemusPhysicalMemoryModePackets() {
        assertEquals(new Command.PhysicalMemoryMode(true), parse("Qqemu.PhyMemMode:1"));
        assertEquals(new Command.PhysicalMemoryMode(false), parse("Qqemu.PhyMemMode:0"));
        assertEquals(new Command.PhysicalMemoryModeQuery(), parse("qqemu.PhyMemMode"));
        assertInstanceOf(Command.Malformed.class, parse("Qqemu.PhyMemMode:2"));
    }

    @Test
    void xferReadCarriesObjectAnnexOffsetAndLength() {
        assertEquals(new Command.XferRead("features", "target.xml", 0, 0xffb), parse("qXfer:features:read:target.xml:0,ffb"));
        assertEquals(new Command.XferRead("threads", "", 0x1000, 0x1000), parse("qXfer:threads:read::1000,1000"));
        assertInstanceOf(Command.Unsupported.class, parse("qXfer:siginfo:write::0:abcd"));
    }

    @Test
    void nonStopModeAndItsAcknowledgementParse() {
        assertEquals(new Command.NonStopMode(true), parse("QNonStop:1"));
        assertEquals(new Command.NonStopMode(false), parse("QNonStop:0"));
        assertEquals(new Command.StopAcknowledged(), parse("vStopped"));
        assertInstanceOf(Command.Malformed.class, parse("QNonStop:2"));
        assertInstanceOf(Command.Malformed.class, parse("QNonStop:"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"vMustReplyEmpty", "qTStatus", "qTfV", "vFile:open:6a,0,0", "!", "R00",
        "bc", "i", "qGetTLSAddr:1,2,3", "QPassSignals:e", "vRun;", "Hs1", "x", "vCont;q"})
    void packetsWithoutSupportAreUnsupportedOrMalformedButNeverThrow(String packet) {
        Command c = parse(packet);
        assertTrue(c instanceof Command.Unsupported || c instanceof Command.Malformed, packet + " -> " + c);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "gX", "?x", "kk", "G0", "G0g", "p", "pzz", "P10", "P10=", "P10=123", "Pq=00",
        "m", "m10", "m10,", "m,10", "mzz,1", "m10,zz", "m10000000000000000,1", "m10,100000000",
        "M10,2:00", "M10,1:0g", "M10:00", "X10,2:a", "X10:ab",
        "Cxx", "C", "C05;zz", "S123", "czz", "s1;2",
        "vCont", "vCont;", "vCont;c;", "vCont;x", "vCont;cc", "vCont;C", "vCont;s:", "vCont;c:pz",
        "Z1", "Z1,10", "Z1,zz,1", "Z1,10,zz", "Z,10,1", "z2,10,1,5",
        "H", "Hg", "Hgzz", "T", "Tzz", "qThreadExtraInfo,zz",
        "qAttached:zz", "qRcmd,6", "qRcmd,zz", "qXfer:features:read:target.xml", "qXfer:features:read:target.xml:0",
        "qXfer:features:read:target.xml:zz,1", "QThreadEvents:2", "D;zz", "Dx", "vKill;zz",
    })
    void malformedPacketsBecomeMalformedCommands(String packet) {
        assertInstanceOf(Command.Malformed.class, parse(packet), packet);
    }

    @Test
    void emptyPayloadIsUnsupported() {
        assertInstanceOf(Command.Unsupported.class, parse(""));
    }
}
