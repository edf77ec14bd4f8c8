package dev.tdemu.emulator.unicorn;

import static dev.tdemu.emulator.unicorn.BindingGuests.DATA;
import static dev.tdemu.emulator.unicorn.BindingGuests.MEMORY;
import static dev.tdemu.emulator.unicorn.BindingGuests.machine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class MemoryTest {
    @Test
    void guestStoresAppearInJavaOwnedRamAndJavaStoresAppearToTheGuest() {
        try (BareMachine m = machine("binding-hooks")) {
            MemorySegment ram = m.ram();
            ram.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA + 8, 0x0badc0ffee0ddf00L); // the guest loads this into RDX
            m.engine().emuStart(MEMORY);
            assertThat(ram.get(ValueLayout.JAVA_LONG_UNALIGNED, DATA)).isEqualTo(0x1122334455667788L);
            assertThat(ram.get(ValueLayout.JAVA_BYTE, DATA + 0x10)).isEqualTo((byte) 0x5a);
            assertThat(m.engine().readReg(X86Reg.RDX)).isEqualTo(0x0badc0ffee0ddf00L);
        }
    }

    @Test
    void readAndWriteGoThroughTheEngine() {
        try (BareMachine m = machine("binding-hooks")) {
            Unicorn uc = m.engine();
            uc.write(DATA + 8, le(0x42));
            uc.emuStart(MEMORY);
            assertThat(ByteBuffer.wrap(uc.read(DATA, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong())
                    .isEqualTo(0x1122334455667788L);
            assertThat(uc.readReg(X86Reg.RDX)).isEqualTo(0x42);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment dst = a.allocate(16);
                uc.read(DATA, dst);
                assertThat(dst.get(ValueLayout.JAVA_LONG, 0)).isEqualTo(0x1122334455667788L);
                assertThat(dst.get(ValueLayout.JAVA_LONG, 8)).isEqualTo(0x42);
            }
        }
    }

    @Test
    void engineOwnedMappingsHoldCodeAndData() {
        try (Unicorn uc = Unicorn.open()) {
            uc.map(0x10000, 0x2000, Protection.RWX);
            // mov qword [0x11000], rdi ; hlt
            uc.write(0x10000, new byte[] {0x48, (byte) 0x89, 0x3c, 0x25, 0x00, 0x10, 0x01, 0x00, (byte) 0xf4});
            uc.writeReg(X86Reg.RDI, 0x5555);
            uc.emuStart(0x10000);
            assertThat(uc.read(0x11000, 8)).isEqualTo(le(0x5555));
        }
    }

    @Test
    void accessToUnmappedMemoryFailsWithTheEnginesError() {
        try (Unicorn uc = Unicorn.open()) {
            uc.map(0x10000, 0x1000, Protection.RWX);
            assertThatThrownBy(() -> uc.read(0x20000, 4))
                    .isInstanceOf(UnicornException.class)
                    .satisfies(e -> {
                        UnicornException ue = (UnicornException) e;
                        assertThat(ue.error()).isEqualTo(UcError.READ_UNMAPPED);
                        assertThat(ue.code()).isEqualTo(6);
                        assertThat(ue.description()).isEqualTo("Invalid memory read (UC_ERR_READ_UNMAPPED)");
                    })
                    .hasMessageContaining("uc_mem_read(0x20000, 0x4)")
                    .hasMessageContaining("UC_ERR_READ_UNMAPPED (6)");
            assertThatThrownBy(() -> uc.write(0x20000, new byte[1]))
                    .isInstanceOf(UnicornException.class)
                    .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.WRITE_UNMAPPED));
        }
    }

    @Test
    void guestAccessToUnmappedMemoryEndsTheRunWithAnError() {
        try (BareMachine m = machine("binding-hooks")) {
            assertThatThrownBy(() -> m.engine().emuStart(BindingGuests.UNMAPPED))
                    .isInstanceOf(UnicornException.class)
                    .hasMessageContaining("UC_ERR_READ_UNMAPPED")
                    .hasMessageContaining("ended at RIP 0x1007") // the start of the block: the engine's RIP is imprecise here
                    .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.READ_UNMAPPED));
        }
    }

    @Test
    void overlappingOrMisalignedMappingsAreRefused() {
        try (Unicorn uc = Unicorn.open()) {
            uc.map(0x10000, 0x1000, Protection.RWX);
            assertThatThrownBy(() -> uc.map(0x10000, 0x1000, Protection.RWX))
                    .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.MAP));
            assertThatThrownBy(() -> uc.map(0x20001, 0x1000, Protection.RWX))
                    .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.ARG));
        }
    }

    @Test
    void unmappedMemoryIsGoneAndCanBeMappedAgain() {
        try (Unicorn uc = Unicorn.open(); Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(0x2000, 4096);
            uc.mapPtr(0x40000, host, Protection.RW);
            uc.write(0x40000, new byte[] {1, 2, 3});
            assertThat(host.get(ValueLayout.JAVA_BYTE, 2)).isEqualTo((byte) 3);
            uc.unmap(0x40000, 0x2000);
            assertThatThrownBy(() -> uc.read(0x40000, 1)).isInstanceOf(UnicornException.class);
            uc.map(0x40000, 0x1000, Protection.R);
            assertThat(uc.read(0x40000, 1)).containsExactly(0);
        }
    }

    @Test
    void protectionIsEnforcedOnTheGuestButNotOnHostWrites() {
        try (BareMachine m = machine("binding-hooks")) {
            Unicorn uc = m.engine();
            uc.protect(BindingGuests.PROTECTED_PAGE, 0x1000, Protection.R);
            uc.write(BindingGuests.PROTECTED_PAGE, new byte[] {9}); // the host may write anyway
            assertThat(uc.read(BindingGuests.PROTECTED_PAGE, 1)).containsExactly(9);
            assertThatThrownBy(() -> uc.emuStart(BindingGuests.WRITE_READ_ONLY))
                    .satisfies(e -> assertThat(((UnicornException) e).error()).isEqualTo(UcError.WRITE_PROT));
            uc.protect(BindingGuests.PROTECTED_PAGE, 0x1000, Protection.RW);
            uc.emuStart(BindingGuests.WRITE_READ_ONLY);
            assertThat(uc.read(BindingGuests.PROTECTED_PAGE, 8)).isEqualTo(le(1));
        }
    }

    @Test
    void mapPtrRefusesHeapMemory() {
        try (Unicorn uc = Unicorn.open()) {
            assertThatThrownBy(() -> uc.mapPtr(0, MemorySegment.ofArray(new byte[4096]), Protection.RW))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    private static byte[] le(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }
}
