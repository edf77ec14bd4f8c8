package dev.tdemu.emulator.vm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The last {@link #SIZE} exits of one vCPU, for {@code monitor exits}. Written at every exit by
 * the thread running the vCPU (its own, or a debugger's borrowing it: one at a time), read from any
 * thread; no lock, as a lock taken at every exit costs more than the rest of the exit record.
 */
final class RecentExits {
    static final int SIZE = 64;

    private final AtomicReferenceArray<ExitEvent> slots = new AtomicReferenceArray<>(SIZE);
    /** Exits written so far; only the writer reads it. */
    private long written;

    void add(ExitEvent event) {
        slots.setRelease((int) (written++ % SIZE), event);
    }

    /** The exits held now, in no particular order (a racing writer may replace one by a newer). */
    List<ExitEvent> snapshot() {
        List<ExitEvent> held = new ArrayList<>(SIZE);
        for (int i = 0; i < SIZE; i++) {
            ExitEvent e = slots.getAcquire(i);
            if (e != null) {
                held.add(e);
            }
        }
        return held;
    }
}
