package dev.tdemu.core.x86;

import static dev.tdemu.core.x86.ExceptionVector.DoubleFaultClass.BENIGN;
import static dev.tdemu.core.x86.ExceptionVector.DoubleFaultClass.CONTRIBUTORY;
import static dev.tdemu.core.x86.ExceptionVector.DoubleFaultClass.DOUBLE_FAULT;
import static dev.tdemu.core.x86.ExceptionVector.DoubleFaultClass.PAGE_FAULT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tdemu.core.x86.ExceptionVector.Escalation;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ExceptionVectorTest {
    @Test
    void everyDefinedVectorFromZeroToTwentyOneHasAConstantAndTheReservedOnesDoNot() {
        for (int v = 0; v < 32; v++) {
            int vector = v;
            if (ExceptionVector.isDefined(v)) {
                assertEquals(v, ExceptionVector.fromVector(v).vector());
            } else {
                assertTrue(assertThrows(IllegalArgumentException.class, () -> ExceptionVector.fromVector(vector))
                        .getMessage().contains("reserved"), "vector " + v);
            }
        }
        assertEquals(22, ExceptionVector.values().length);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ExceptionVector.fromVector(0x80)).getMessage()
                .contains("interrupts"));
    }

    @Test
    void theFourVectorsTheDebugModelUsesKeepTheirNumbers() {
        assertEquals(ExceptionVector.DB, ExceptionVector.fromVector(1));
        assertEquals(ExceptionVector.BP, ExceptionVector.fromVector(3));
        assertEquals(ExceptionVector.UD, ExceptionVector.fromVector(6));
        assertEquals(ExceptionVector.GP, ExceptionVector.fromVector(13));
    }

    private static String mnemonics(java.util.function.Predicate<ExceptionVector> p) {
        return Arrays.stream(ExceptionVector.values()).filter(p).map(ExceptionVector::mnemonic).collect(Collectors.joining(" "));
    }

    @Test
    void exactlyDfTsNpSsGpPfAcCpAndVcPushAnErrorCode() {
        assertEquals("#DF #TS #NP #SS #GP #PF #AC #CP #VC", mnemonics(ExceptionVector::pushesErrorCode));
    }

    @Test
    void typesFollowTableSixOne() {
        assertEquals("#BP #OF", mnemonics(v -> v.type() == ExceptionVector.Type.TRAP));
        assertEquals("#DF #MC", mnemonics(v -> v.type() == ExceptionVector.Type.ABORT));
        assertEquals("#DB", mnemonics(v -> v.type() == ExceptionVector.Type.FAULT_OR_TRAP));
        assertEquals("NMI", mnemonics(v -> v.type() == ExceptionVector.Type.INTERRUPT));
    }

    @Test
    void contributoryAndPageFaultClassesFollowTableSixFour() {
        assertEquals("#DE #TS #NP #SS #GP #CP", mnemonics(v -> v.doubleFaultClass() == CONTRIBUTORY));
        assertEquals("#PF #VE", mnemonics(v -> v.doubleFaultClass() == PAGE_FAULT));
        assertEquals("#DF", mnemonics(v -> v.doubleFaultClass() == DOUBLE_FAULT));
    }

    @Test
    void doubleFaultRulesFollowTableSixFive() {
        ExceptionVector gp = ExceptionVector.GP, pf = ExceptionVector.PF;
        assertEquals(Escalation.DOUBLE_FAULT, ExceptionVector.escalation(gp, ExceptionVector.NP));
        assertEquals(Escalation.HANDLE_SERIALLY, ExceptionVector.escalation(gp, pf));
        assertEquals(Escalation.DOUBLE_FAULT, ExceptionVector.escalation(pf, pf));
        assertEquals(Escalation.DOUBLE_FAULT, ExceptionVector.escalation(pf, gp));
        assertEquals(Escalation.HANDLE_SERIALLY, ExceptionVector.escalation(pf, ExceptionVector.UD));
        assertEquals(Escalation.HANDLE_SERIALLY, ExceptionVector.escalation(ExceptionVector.DB, gp));
        assertEquals(Escalation.TRIPLE_FAULT, ExceptionVector.escalation(ExceptionVector.DF, gp));
        assertEquals(Escalation.TRIPLE_FAULT, ExceptionVector.escalation(ExceptionVector.DF, pf));
        assertEquals(Escalation.HANDLE_SERIALLY, ExceptionVector.escalation(DOUBLE_FAULT, BENIGN));
        assertEquals(Escalation.DOUBLE_FAULT, ExceptionVector.escalation(ExceptionVector.VE, ExceptionVector.CP));
    }
}
