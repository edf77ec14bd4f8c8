package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.gdbstub.StubFixture;
import dev.tdemu.gdbstub.registers.RegisterLayout;
import dev.tdemu.gdbstub.target.BreakpointSupport;
import dev.tdemu.gdbstub.target.WatchKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link QueryHandler}: qSupported both ways, qXfer objects in pieces, the fixed answers. */
@Timeout(30)
class QueryHandlerTest extends SessionTestBase {
    @Test
    void qSupportedAdvertisesPacketSizeAndFeatures() throws Exception {
        try (RspClient c = stub.connect()) {
            String reply = c.request(PLAIN);
            List<String> features = List.of(reply.split(";"));
            assertTrue(features.contains("PacketSize=20000"), reply);
            for (String f : List.of("qXfer:features:read+", "qXfer:threads:read+", "swbreak+", "hwbreak+",
                    "vContSupported+", "QStartNoAckMode+")) {
                assertTrue(features.contains(f), f + " in " + reply);
            }
            assertFalse(features.contains("multiprocess+"), "multiprocess only when gdb offers it");
        }
    }

    @Test
    void multiprocessIsAcceptedWhenGdbOffersIt() throws Exception {
        try (RspClient c = stub.connect()) {
            assertTrue(c.request(StubFixture.GDB_FEATURES).contains("multiprocess+"));
            assertEquals("T05thread:p1.1;6:00f0400000000000;7:00f0400000000000;" + PC_1000, c.request("?"));
            assertEquals("QCp1.1", c.request("qC"));
            assertEquals("mp1.1,p1.2", c.request("qfThreadInfo"));
            assertEquals("OK", c.request("Hgp1.2"));
            assertEquals(le64(0x402000), c.request("p10"));
            assertEquals("E03", c.request("Hgp2.1"), "another process");
        }
    }

    @Test
    void miscellaneousQueriesGetTheirFixedAnswers() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("1", c.request("qAttached"));
            assertEquals("Text=0;Data=0;Bss=0", c.request("qOffsets"));
            assertEquals("OK", c.request("qSymbol::"));
            assertEquals("", c.request("qTStatus"));
            assertEquals("", c.request("vMustReplyEmpty"));
            assertEquals("OK", c.request("QThreadEvents:1"));
            assertEquals("vCont;c;C;s;S;t;r", c.request("vCont?"));
            assertEquals("", c.request("qXfer:auxv:read::0,100"));
        }
    }

    @Test
    void targetDescriptionIsServedInChunks() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            StringBuilder xml = new StringBuilder();
            String reply;
            do {
                reply = c.request("qXfer:features:read:target.xml:" + Integer.toHexString(xml.length()) + ",200");
                assertTrue(reply.length() <= 0x201);
                xml.append(reply.substring(1));
            } while (reply.charAt(0) == 'm');
            assertEquals('l', reply.charAt(0));
            assertEquals(RegisterLayout.x86_64().targetXml(), xml.toString());
            assertEquals("l", c.request("qXfer:features:read:target.xml:" + Integer.toHexString(xml.length()) + ",200"),
                    "at the end: nothing more");
            assertEquals("E16", c.request("qXfer:features:read:other.xml:0,200"));
        }
    }

    /** An offset past the document's end, 64-bit ones included, is an error reply, never a Java exception's text. */
    @Test
    void anXferOffsetPastTheEndIsAnError() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("E16", c.request("qXfer:features:read:target.xml:ffffffffffffffff,10"));
            assertEquals("E16", c.request("qXfer:features:read:target.xml:100000,200"));
            assertEquals("E16", c.request("qXfer:threads:read::8000000000000000,10"));
            assertTrue(c.request("qXfer:features:read:target.xml:0,10").startsWith("m<?xml"), "the session goes on");
        }
        try (RspClient c = attach("qSupported:error-message+")) {
            int length = RegisterLayout.x86_64().targetXml().length();
            assertEquals("E.offset 0xffffffffffffffff is past the end of features target.xml (" + length + " bytes)",
                    c.request("qXfer:features:read:target.xml:ffffffffffffffff,10"));
        }
    }

    @Test
    void threadListXmlCarriesTheNames() throws Exception {
        try (RspClient c = attach(StubFixture.GDB_FEATURES)) {
            String xml = c.request("qXfer:threads:read::0,1000");
            assertTrue(xml.startsWith("l<?xml"));
            assertTrue(xml.contains("<thread id=\"p1.1\" name=\"vcpu0\"/>"), xml);
            assertTrue(xml.contains("<thread id=\"p1.2\" name=\"vcpu1\"/>"), xml);
        }
    }

    @Test
    void theExecutableIsOfferedOnlyWhenTheTargetHasOne() throws Exception {
        try (RspClient c = stub.connect()) {
            assertFalse(c.request(PLAIN).contains("exec-file"), "no executable, no offer");
            assertEquals("", c.request("qXfer:exec-file:read::0,1000"));
        }
        target.executable = java.util.Optional.of("/opt/guests/kernel.elf");
        try (RspClient c = attach("qSupported:multiprocess+;swbreak+;hwbreak+")) {
            assertTrue(List.of(c.request("qSupported:multiprocess+").split(";")).contains("qXfer:exec-file:read+"));
            assertEquals("l/opt/guests/kernel.elf", c.request("qXfer:exec-file:read:1:0,1000"));
            assertEquals("l/opt/guests/kernel.elf", c.request("qXfer:exec-file:read::0,1000"));
            assertEquals("m/opt/", c.request("qXfer:exec-file:read:1:0,5"), "in pieces");
            assertEquals("lguests/kernel.elf", c.request("qXfer:exec-file:read:1:5,1000"));
            assertEquals("E03", c.request("qXfer:exec-file:read:2:0,1000"), "no process 2");
        }
    }

    /** swbreak+ and hwbreak+ follow the breakpoints the target declares. */
    @Test
    void qSupportedOffersBreakpointReasonsOnlyForTheKindsTheTargetTakes() throws Exception {
        target.support = new BreakpointSupport(false, true, Set.of(WatchKind.WRITE), 4);
        try (RspClient c = stub.connect()) {
            List<String> features = List.of(c.request(PLAIN).split(";"));
            assertTrue(features.contains("hwbreak+"), features.toString());
            assertFalse(features.contains("swbreak+"), features.toString());
        }
    }

    /** lldb asks how many hardware watchpoints there are before its first one, and keeps within them. */
    @Test
    void lldbIsToldTheNumberOfDebugRegisters() throws Exception {
        try (RspClient c = attach(PLAIN)) {
            assertEquals("num:4;", c.request("qWatchpointSupportInfo:"));
            assertEquals("num:4;", c.request("qWatchpointSupportInfo"));
        }
        target.support = new BreakpointSupport(true, false, Set.of(), 0);
        try (RspClient c = attach(PLAIN)) {
            assertEquals("", c.request("qWatchpointSupportInfo:"), "no fixed number: not answered");
        }
    }
}
