package dev.tdemu.gdbstub.registers;

/** Renders a {@link RegisterLayout} as a gdb target description ({@code target.xml}). */
final class TargetDescriptionXml {
    private TargetDescriptionXml() {
    }

    static String render(RegisterLayout layout) {
        StringBuilder sb = new StringBuilder(16 * 1024);
        sb.append("<?xml version=\"1.0\"?>\n");
        sb.append("<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n");
        sb.append("<target version=\"1.0\">\n");
        sb.append("  <architecture>").append(escape(layout.architecture())).append("</architecture>\n");
        for (RegisterLayout.Feature f : layout.features()) {
            sb.append("  <feature name=\"").append(escape(f.name())).append("\">\n");
            String types = f.typeDefinitionsXml().strip();
            if (!types.isEmpty()) {
                for (String line : types.split("\n")) {
                    sb.append("    ").append(line.strip()).append('\n');
                }
            }
            for (RegisterDef r : f.registers()) {
                sb.append("    <reg name=\"").append(escape(r.name()))
                        .append("\" bitsize=\"").append(r.bitSize())
                        .append("\" type=\"").append(escape(r.type()))
                        .append("\" regnum=\"").append(r.regnum()).append('"');
                if (r.group() != null) {
                    sb.append(" group=\"").append(escape(r.group())).append('"');
                }
                sb.append("/>\n");
            }
            sb.append("  </feature>\n");
        }
        sb.append("</target>\n");
        return sb.toString();
    }

    /** Escapes text for XML attribute values and character data. */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&apos;");
                default -> sb.append(c < 0x20 && c != '\t' && c != '\n' ? ' ' : c);
            }
        }
        return sb.toString();
    }
}
