package dev.tdemu.core.pc;

/** How an interrupt is signalled: an edge, or a level held until the handler's EOI (TMR bit set). */
public enum ApicTriggerMode {
    EDGE,
    LEVEL;

    public static ApicTriggerMode of(boolean level) {
        return level ? LEVEL : EDGE;
    }
}
