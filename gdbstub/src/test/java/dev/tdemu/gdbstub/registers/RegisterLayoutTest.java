package dev.tdemu.gdbstub.registers;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RegisterLayoutTest {
    private final RegisterLayout layout = RegisterLayout.x86_64();

    @Test
    void x86_64UsesGdbsAmd64NumbersThenSegmentBasesControlAndDebugRegisters() {
        assertEquals(0, layout.regnum("rax"));
        assertEquals(7, layout.regnum("rsp"));
        assertEquals(16, layout.regnum("rip"));
        assertEquals(17, layout.regnum("eflags"));
        assertEquals(18, layout.regnum("cs"));
        assertEquals(24, layout.regnum("st0"));
        assertEquals(39, layout.regnum("fop"));
        assertEquals(40, layout.regnum("xmm0"));
        assertEquals(56, layout.regnum("mxcsr"));
        assertEquals(57, layout.regnum("fs_base"));
        assertEquals(58, layout.regnum("gs_base"));
        assertEquals(List.of(59, 60, 61, 62, 63, 64), List.of(layout.regnum("cr0"), layout.regnum("cr2"),
                layout.regnum("cr3"), layout.regnum("cr4"), layout.regnum("cr8"), layout.regnum("efer")));
        assertEquals(List.of(65, 66, 67, 68, 69, 70), List.of(layout.regnum("dr0"), layout.regnum("dr1"),
                layout.regnum("dr2"), layout.regnum("dr3"), layout.regnum("dr6"), layout.regnum("dr7")));
        assertEquals(List.of(71, 72, 73, 74, 75, 76), List.of(layout.regnum("gdtr_base"), layout.regnum("gdtr_limit"),
                layout.regnum("idtr_base"), layout.regnum("idtr_limit"), layout.regnum("ldtr"), layout.regnum("tr")));
        assertEquals(List.of(77, 78, 79, 80, 81), List.of(layout.regnum("k_gs_base"), layout.regnum("star"),
                layout.regnum("lstar"), layout.regnum("apic_base"), layout.regnum("debugctl")));
        assertEquals(X86_64Registers.COUNT, layout.registerCount());
        assertEquals(X86_64Registers.RIP, layout.pcRegnum());
        assertTrue(layout.find("orig_rax").isEmpty(), "bare metal: no Linux feature");
    }

    @Test
    void gPacketHoldsEveryRegisterBackToBack() {
        int offset = 0;
        for (RegisterDef r : layout.registers()) {
            assertEquals(offset, r.offset(), r.name());
            offset += r.byteSize();
        }
        assertEquals(720, layout.gPacketSize());
        assertEquals(4, layout.register(X86_64Registers.GDTR_LIMIT).byteSize());
        assertEquals(4, layout.register(X86_64Registers.TR).byteSize());
        assertEquals(10, layout.register(X86_64Registers.ST0).byteSize());
        assertEquals(16, layout.register(X86_64Registers.XMM0).byteSize());
        assertEquals(4, layout.register(X86_64Registers.EFLAGS).byteSize());
        assertEquals(8, layout.register(X86_64Registers.DR7).byteSize());
    }

    @Test
    void targetDescriptionIsWellFormedAndDeclaresEveryRegister() throws Exception {
        Document doc = parse(layout.targetXml());
        Element root = doc.getDocumentElement();
        assertEquals("target", root.getTagName());
        assertEquals("i386:x86-64", root.getElementsByTagName("architecture").item(0).getTextContent());
        NodeList features = root.getElementsByTagName("feature");
        List<String> names = new java.util.ArrayList<>();
        for (int i = 0; i < features.getLength(); i++) {
            names.add(((Element) features.item(i)).getAttribute("name"));
        }
        assertEquals(List.of("org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments",
                "dev.tdemu.cr", "dev.tdemu.debugregs", "dev.tdemu.sys"), names);
        NodeList regs = root.getElementsByTagName("reg");
        assertEquals(layout.registerCount(), regs.getLength());
        for (int i = 0; i < regs.getLength(); i++) {
            Element reg = (Element) regs.item(i);
            RegisterDef def = layout.register(Integer.parseInt(reg.getAttribute("regnum")));
            assertEquals(def.name(), reg.getAttribute("name"));
            assertEquals(def.bitSize(), Integer.parseInt(reg.getAttribute("bitsize")));
            assertEquals(def.type(), reg.getAttribute("type"));
        }
        assertTrue(layout.targetXml().contains("<flags id=\"tdemu_dr7\" size=\"8\">"));
        assertTrue(layout.targetXml().contains("<flags id=\"tdemu_debugctl\" size=\"8\">"));
        assertFalse(layout.targetXml().contains("org.gnu.gdb.i386.linux"));
    }

    @Test
    void everyNonPredefinedTypeIsDefinedInItsFeature() throws Exception {
        List<String> predefined = List.of("int", "int8", "int16", "int32", "int64", "int128", "uint8", "uint16",
                "uint32", "uint64", "uint128", "code_ptr", "data_ptr", "i387_ext", "ieee_single", "ieee_double", "bool");
        Document doc = parse(layout.targetXml());
        NodeList features = doc.getElementsByTagName("feature");
        for (int i = 0; i < features.getLength(); i++) {
            Element feature = (Element) features.item(i);
            java.util.Set<String> defined = new java.util.HashSet<>();
            for (String tag : List.of("flags", "vector", "union", "struct")) {
                NodeList types = feature.getElementsByTagName(tag);
                for (int k = 0; k < types.getLength(); k++) {
                    defined.add(((Element) types.item(k)).getAttribute("id"));
                }
            }
            NodeList regs = feature.getElementsByTagName("reg");
            for (int k = 0; k < regs.getLength(); k++) {
                String type = ((Element) regs.item(k)).getAttribute("type");
                assertTrue(predefined.contains(type) || defined.contains(type), type + " undefined");
            }
        }
    }

    @Test
    void extendingAppendsAFeatureWithTheNextNumbers() {
        RegisterLayout extended = layout.extend()
                .feature("dev.tdemu.tdx", "")
                .register("td_attributes", 64, "uint64", "system")
                .build();
        assertEquals(82, extended.regnum("td_attributes"));
        assertEquals(720, extended.register(82).offset());
        assertEquals(728, extended.gPacketSize());
        assertTrue(extended.targetXml().contains("<feature name=\"dev.tdemu.tdx\">"));
        assertEquals(layout.targetXml().length() > 0, true);
        assertThrows(IllegalArgumentException.class, () -> layout.extend().feature("x").register("rip", 64, "int").build());
    }

    @Test
    void registerFileKeepsLittleEndianBytesAndPresence() {
        RegisterFile f = RegisterFile.empty(layout);
        assertTrue(f.bytes(X86_64Registers.RIP).isEmpty());
        f.setLong(X86_64Registers.RIP, 0x1122334455667788L);
        assertArrayEquals(new byte[] {(byte) 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}, f.bytes(X86_64Registers.RIP).orElseThrow());
        f.setLong(X86_64Registers.EFLAGS, 0xffff_ffff_0000_0202L);
        assertEquals(0x202, f.getLong(X86_64Registers.EFLAGS), "32-bit register keeps the low bytes");
        f.setLong(X86_64Registers.ST0, -1);
        assertArrayEquals(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0}, f.bytes(X86_64Registers.ST0).orElseThrow());
        assertEquals(3, f.presentCount());
        RegisterFile g = RegisterFile.empty(layout).setLong("dr7", 0x401).merge(f);
        assertEquals(4, g.presentCount());
        assertEquals(0x401, g.getLong("dr7"));
        assertThrows(IllegalStateException.class, () -> RegisterFile.empty(layout).getLong(X86_64Registers.RAX));
        assertThrows(IllegalArgumentException.class, () -> f.setBytes(X86_64Registers.RIP, new byte[4]));
    }

    private static Document parse(String xml) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }
}
