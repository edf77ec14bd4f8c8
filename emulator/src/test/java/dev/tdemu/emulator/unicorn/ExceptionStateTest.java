package dev.tdemu.emulator.unicorn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The two engine-state helpers exception delivery needs, calibrated at engine load: the error code
 * of the exception being raised, and clearing the exception in flight so a second #DE stays #DE.
 */
class ExceptionStateTest {
    @Test
    void calibrationFoundTwoDistinctFieldsInsideTheSavedContext() {
        ContextLayout layout = ContextLayout.get();
        try (Unicorn uc = Unicorn.open()) {
            assertThat(layout.errorCodeOffset()).isNotEqualTo(layout.oldExceptionOffset());
            assertThat(layout.errorCodeOffset()).isBetween(0L, uc.contextSize() - 4);
            assertThat(layout.oldExceptionOffset()).isBetween(0L, uc.contextSize() - 4);
            assertThat(layout.errorCodeOffset() % 4).isZero();
        }
    }

    @Test
    void theErrorCodeOfAGeneralProtectionFaultIsTheFaultingSelector() {
        try (BareMachine m = BindingGuests.machine("binding-hooks")) {
            Unicorn uc = m.engine();
            List<String> seen = new ArrayList<>();
            uc.addInterruptHook((u, vector) -> {
                seen.add(vector + ":" + Integer.toHexString(u.exceptionErrorCode()));
                u.emuStop();
            });
            uc.emuStart(BindingGuests.GP);
            assertThat(seen).containsExactly("13:1234");
        }
    }

    /** Delivers #DE by hand (RIP to a "handler") the way tdemu's exception delivery does. */
    private static List<Integer> divideTwice(boolean clearAfterDelivery) {
        try (BareMachine m = BindingGuests.machine("binding-hooks")) {
            Unicorn uc = m.engine();
            List<Integer> vectors = new ArrayList<>();
            uc.addInterruptHook((u, vector) -> {
                vectors.add(vector);
                // the first fault's handler is the second division; after that, finish
                u.writeReg(X86Reg.RIP, vectors.size() == 1 ? BindingGuests.DIVIDE_AGAIN : BindingGuests.DIVIDE_DONE);
                if (clearAfterDelivery) {
                    u.clearExceptionInFlight();
                }
            });
            uc.emuStart(BindingGuests.DIVIDE);
            assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(BindingGuests.DIVIDE_DONE + 1);
            return vectors;
        }
    }

    @Test
    void aSecondDivideErrorArrivesAsVector0WhenTheFirstWasClearedAfterDelivery() {
        assertThat(divideTwice(true)).containsExactly(0, 0);
    }

    @Test
    void withoutClearingTheEngineEscalatesTheSecondDivideErrorToDoubleFault() {
        assertThat(divideTwice(false)).containsExactly(0, 8);
    }

    @Test
    void clearingAlsoWorksBetweenRuns() {
        try (BareMachine m = BindingGuests.machine("binding-hooks")) {
            Unicorn uc = m.engine();
            List<Integer> vectors = new ArrayList<>();
            uc.addInterruptHook((u, vector) -> {
                vectors.add(vector);
                u.emuStop();
            });
            uc.emuStart(BindingGuests.DIVIDE);
            uc.clearExceptionInFlight();
            uc.emuStart(BindingGuests.DIVIDE);
            uc.emuStart(BindingGuests.DIVIDE);
            assertThat(vectors).containsExactly(0, 0, 8);
        }
    }

    /**
     * {@link Unicorn#loadSegments} sets what the register API cannot (in 64-bit mode it writes
     * selectors only): the hidden bases, so an engine that leaves long mode runs 16-bit real-mode
     * code at a CS base that is not selector × 16 of anything the API could load, with DS's base
     * in effect for data.
     */
    @Test
    void segmentCachesLoadedDirectlyTakeTheEngineIntoRealModeAtTheirBases() {
        try (Unicorn uc = Unicorn.open()) {
            uc.map(0, 0x20000, Protection.RWX);
            uc.write(0x12340, new byte[] {(byte) 0x8C, (byte) 0xC8, (byte) 0x8B, 0x1E, 0x10, 0x00}); // mov ax,cs; mov bx,[0x10]
            uc.write(0x5010, new byte[] {0x78, 0x56});
            uc.writeReg(X86Reg.CR0, 0x8000_0011L);
            uc.writeReg(X86Reg.CR0, 0x6000_0010L); // paging and protection off: out of long mode
            uc.writeMsr(0xC000_0080, 0);
            X86Mmr data = new X86Mmr(0x0500, 0x5000, 0xFFFF, 0x9300);
            uc.loadSegments(List.of(data, new X86Mmr(0x1234, 0x12340, 0xFFFF, 0x9B00), new X86Mmr(0, 0, 0xFFFF, 0x9300), data,
                    data, data));
            int hflags = uc.hflags();
            assertThat(hflags & ((1 << 4) | (1 << 7) | (1 << 14) | (1 << 15))).as("CS32, PE, LMA, CS64 clear: 0x%x", hflags).isZero();
            assertThat(hflags & 3).as("CPL").isZero();
            uc.emuStart(0, 0, 2);
            assertThat(uc.readReg(X86Reg.RAX) & 0xFFFF).isEqualTo(0x1234);
            assertThat(uc.readReg(X86Reg.RBX) & 0xFFFF).as("read through DS's base 0x5000").isEqualTo(0x5678);
            assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(6);
        }
    }
}
