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
}
