package dev.tdemu.emulator.unicorn;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * When the engine sees a guest store over code it has translated, with and without a memory hook
 * (docs/unicorn-binding.md, "Self-modifying code is caught only while a memory hook exists"):
 * the reason GuestEngine keeps a write hook that never fires. Raw machine code on a bare machine
 * (long mode, paging off): a function at {@link #CODE_PAGE} ({@code mov $1, %eax; ret}) is run,
 * then one run stores to it and calls it again.
 */
class StoreOverCodeTest {
    private static final HexFormat HEX = HexFormat.of();
    /** call CODE_PAGE; hlt. */
    private static final long FIRST_CALL = 0x1000;
    /** The second run: its stores, then call CODE_PAGE; hlt. */
    private static final long PATCH = 0x1100;
    private static final long CODE_PAGE = 0x2000;
    /** Data on the code's page, away from the code. */
    private static final long DATA_ON_CODE_PAGE = CODE_PAGE + 0x800;
    private static final long STACK_TOP = 0x8000;

    private BareMachine m;
    private Unicorn uc;

    @BeforeEach
    void open() {
        m = BareMachine.create();
        uc = m.engine();
        put(CODE_PAGE, "b801000000" + "c3"); // mov $1, %eax; ret
        put(FIRST_CALL, "e8" + rel32(FIRST_CALL + 5, CODE_PAGE) + "f4");
    }

    @AfterEach
    void close() {
        m.close();
    }

    /**
     * The engine's own check: a store is checked while the TLB entry it goes through is marked
     * not-dirty. After the store to data on the code page cleared that mark (no memory hook), the
     * store over the immediate is not checked and the old translation runs; flushing the TLB
     * between the translation and the stores (every entry starts not-dirty again) does not help,
     * because the first store clears the mark again. If this test fails, the engine keeps code
     * pages marked as QEMU does, and GuestEngine's write hook (with its slow path for every load
     * and store) could go.
     */
    @Test
    void withoutAMemoryHookAStoreOverCodeAfterAStoreToDataOnItsPageLeavesTheOldTranslationEvenAfterATlbFlush() {
        patchAfterDataStore();
        runFirstCall();
        uc.flushTlb();
        assertThat(runPatch()).as("EAX of the patched function (stale: 1)").isEqualTo(1);
    }

    /** The same with a write hook on an address no access reaches (GuestEngine's): the new immediate runs. */
    @Test
    void withAWriteHookAnywhereAStoreOverCodeAfterAStoreToDataOnItsPageTakesEffect() {
        uc.addMemoryHook(EnumSet.of(MemType.WRITE), -1L, -1L, (u, type, at, size, value) -> {
        }, false);
        patchAfterDataStore();
        runFirstCall();
        assertThat(runPatch()).isEqualTo(2);
    }

    /**
     * Without any hook, a store over code translated from a page the guest had already written
     * (its TLB entry dirty before the translation) is seen: the engine marks the linear page
     * not-dirty again when it translates from it. Only stores after a store that found the mark
     * set go unchecked.
     */
    @Test
    void withoutAMemoryHookTheFirstStoreOverCodeTranslatedFromAnAlreadyWrittenPageTakesEffect() {
        // First run: the guest writes the function itself (the page's entry becomes dirty), then calls it.
        put(FIRST_CALL, "c60425" + le32(CODE_PAGE + 1) + "01" // movb $1, CODE_PAGE+1
                + "48891c25" + le32(DATA_ON_CODE_PAGE) // mov %rbx, DATA_ON_CODE_PAGE
                + "e8" + rel32(FIRST_CALL + 8 + 8 + 5, CODE_PAGE) + "f4");
        put(PATCH, "c60425" + le32(CODE_PAGE + 1) + "02" // movb $2, CODE_PAGE+1
                + "e8" + rel32(PATCH + 8 + 5, CODE_PAGE) + "f4");
        runFirstCall();
        assertThat(runPatch()).isEqualTo(2);
    }

    /** Second run: mov %rbx, DATA_ON_CODE_PAGE; movb $2, CODE_PAGE+1; call CODE_PAGE; hlt. */
    private void patchAfterDataStore() {
        put(PATCH, "48891c25" + le32(DATA_ON_CODE_PAGE)
                + "c60425" + le32(CODE_PAGE + 1) + "02"
                + "e8" + rel32(PATCH + 8 + 8 + 5, CODE_PAGE) + "f4");
    }

    private void runFirstCall() {
        uc.writeReg(X86Reg.RSP, STACK_TOP);
        uc.emuStart(FIRST_CALL);
        assertThat(uc.readReg(X86Reg.RAX)).as("EAX of the first call").isEqualTo(1);
    }

    private long runPatch() {
        uc.writeReg(X86Reg.RAX, 0);
        uc.emuStart(PATCH);
        assertThat(m.ram().get(java.lang.foreign.ValueLayout.JAVA_BYTE, CODE_PAGE + 1)).as("the stored immediate")
                .isEqualTo((byte) 2);
        return uc.readReg(X86Reg.RAX);
    }

    private void put(long at, String hex) {
        byte[] bytes = HEX.parseHex(hex);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, m.ram(), at, bytes.length);
    }

    private static String rel32(long next, long target) {
        return le32(target - next);
    }

    private static String le32(long v) {
        return HEX.toHexDigits(Integer.reverseBytes((int) v));
    }
}
