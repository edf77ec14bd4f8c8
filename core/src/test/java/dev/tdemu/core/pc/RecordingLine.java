package dev.tdemu.core.pc;

import dev.tdemu.core.platform.InterruptLine;

/** An interrupt line that remembers its level and counts its edges. */
final class RecordingLine implements InterruptLine {
    boolean high;
    int rises;
    int falls;

    @Override
    public void raise() {
        if (!high) {
            rises++;
        }
        high = true;
    }

    @Override
    public void lower() {
        if (high) {
            falls++;
        }
        high = false;
    }
}
