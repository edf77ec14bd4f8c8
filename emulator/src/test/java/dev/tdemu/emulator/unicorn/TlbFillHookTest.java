package dev.tdemu.emulator.unicorn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The engine's virtual-TLB mode: a Java hook translates every page and can refuse one precisely. */
class TlbFillHookTest {
    static final long CODE = 0x10000, DATA = 0x12008, STORE = CODE + 14;
    static final byte[] PROGRAM = {
        0x48, (byte) 0xc7, (byte) 0xc0, 0x01, 0x00, 0x00, 0x00, // mov rax, 1
        0x48, (byte) 0xc7, (byte) 0xc3, 0x08, 0x20, 0x01, 0x00, // mov rbx, 0x12008
        0x48, (byte) 0x89, 0x03,                                // mov [rbx], rax      (STORE)
        0x48, (byte) 0xc7, (byte) 0xc1, 0x03, 0x00, 0x00, 0x00, // mov rcx, 3
        (byte) 0xf4,                                            // hlt
    };

    record Fill(long page, MemType type) {}

    static Unicorn engine() {
        Unicorn uc = Unicorn.open();
        uc.map(CODE, 0x4000, Protection.RWX);
        uc.write(CODE, PROGRAM);
        return uc;
    }

    @Test
    void aRefusedFillEndsTheRunExactlyAtTheAccessingInstructionAndTheRunCanResumeThere() {
        try (Unicorn uc = engine()) {
            List<Fill> fills = new ArrayList<>();
            boolean[] refuse = {true};
            uc.addTlbFillHook((u, page, type) -> {
                fills.add(new Fill(page, type));
                return refuse[0] && page == (DATA & ~0xFFFL) ? TlbFillHook.REFUSE : TlbFillHook.entry(page, Protection.RWX);
            });
            uc.useVirtualTlb(true);
            assertThatThrownBy(() -> uc.emuStart(CODE)).isInstanceOf(UnicornException.class)
                    .extracting(e -> ((UnicornException) e).error()).isEqualTo(UcError.EXCEPTION);
            assertThat(uc.readReg(X86Reg.RIP)).as("RIP at the store, in the middle of its block").isEqualTo(STORE);
            assertThat(uc.readReg(X86Reg.RBX)).as("the instruction before ran").isEqualTo(DATA);
            assertThat(uc.readReg(X86Reg.RCX)).as("the instruction after did not").isZero();
            assertThat(uc.read(DATA, 8)).as("the store did not happen").containsOnly(0);
            assertThat(fills).contains(new Fill(CODE, MemType.FETCH), new Fill(DATA & ~0xFFFL, MemType.WRITE));

            refuse[0] = false;
            uc.flushTlb();
            uc.emuStart(STORE);
            assertThat(uc.readReg(X86Reg.RCX)).isEqualTo(3);
            assertThat(uc.read(DATA, 1)[0]).isEqualTo((byte) 1);
        }
    }

    @Test
    void theHookTranslatesAndTheEnginesOwnModeIgnoresIt() {
        try (Unicorn uc = engine()) {
            uc.map(0x40000, 0x1000, Protection.RWX);
            List<Fill> fills = new ArrayList<>();
            uc.addTlbFillHook((u, page, type) -> {
                fills.add(new Fill(page, type));
                // the data page is backed by another physical page
                return TlbFillHook.entry(page == (DATA & ~0xFFFL) ? 0x40000 : page, Protection.RWX);
            });
            uc.emuStart(CODE);
            assertThat(fills).as("default mode: the CPU's own translation").isEmpty();
            assertThat(uc.read(DATA, 1)[0]).isEqualTo((byte) 1);

            uc.write(DATA, new byte[8]);
            uc.useVirtualTlb(true);
            uc.writeReg(X86Reg.RAX, 0);
            uc.emuStart(CODE);
            assertThat(fills).isNotEmpty();
            assertThat(uc.read(0x40008, 1)[0]).as("the store went where the hook said").isEqualTo((byte) 1);
            assertThat(uc.read(DATA, 1)[0]).isZero();
        }
    }

    @Test
    void entriesMustBePageAligned() {
        assertThatThrownBy(() -> TlbFillHook.entry(0x1234, Protection.RWX)).isInstanceOf(IllegalArgumentException.class);
        assertThat(TlbFillHook.entry(0x5000, new Protection(true, false, true))).isEqualTo(0x5005);
    }
}
