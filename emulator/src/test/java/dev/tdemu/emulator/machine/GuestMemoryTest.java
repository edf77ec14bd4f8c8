package dev.tdemu.emulator.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GuestMemoryTest {
    /** The locked update paging-entry flags need: it only happens when the entry still holds what the walk read. */
    @Test
    void compareAndSetUpdatesOnlyAnUnchangedAlignedQuadword() {
        try (GuestMemory mem = new GuestMemory(2L << 20)) {
            mem.write64(0x1000, 0x1007);
            assertThat(mem.compareAndSet64(0x1000, 0x1003, 0x1027)).isFalse();
            assertThat(mem.read64(0x1000)).isEqualTo(0x1007);
            assertThat(mem.compareAndSet64(0x1000, 0x1007, 0x1027)).isTrue();
            assertThat(mem.read64(0x1000)).isEqualTo(0x1027);
            assertThatThrownBy(() -> mem.compareAndSet64(0x1004, 0, 1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> mem.compareAndSet64(2L << 20, 0, 1)).isInstanceOf(GuestMemoryException.class);
        }
    }
}
