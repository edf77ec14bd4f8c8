package dev.tdemu.emulator.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.core.x86.Event;
import dev.tdemu.core.x86.EventDelivery;
import dev.tdemu.core.x86.ExceptionVector;
import org.junit.jupiter.api.Test;

/** The old {@link X86Exception} and the {@link EventDelivery} it is superseded by describe the same events. */
class X86ExceptionTest {
    @Test
    void exceptionsBecomeHardwareExceptionsWithTheirErrorCodeRfAndCr2() {
        EventDelivery pf = X86Exception.pageFault(7, 0xdead000, 0x1000).toEventDelivery();
        assertThat(pf).isEqualTo(Event.pageFault(7, 0xdead000).at(0x1000));
        assertThat(X86Exception.trap(X86Exception.DB, 0x1003).toEventDelivery()).isEqualTo(Event.trap(ExceptionVector.DB).after(0x1003));
        assertThat(X86Exception.debugFault(0x2000).toEventDelivery()).isEqualTo(Event.fault(ExceptionVector.DB).at(0x2000).withResumeFlag(false));
        assertThat(X86Exception.fault(X86Exception.GP, 0x1000).toEventDelivery()).as("the old default error code 0")
                .isEqualTo(Event.fault(ExceptionVector.GP).errorCode(0).at(0x1000));
    }

    @Test
    void vectorsAboveThirtyOneAndNmiAreInterrupts() {
        assertThat(X86Exception.trap(0x20, 0x1001).toEventDelivery()).isEqualTo(Event.externalInterrupt(0x20).at(0x1001));
        assertThat(X86Exception.trap(X86Exception.NMI, 0x1001).toEventDelivery().event()).isEqualTo(Event.nmi());
    }

    @Test
    void theOldFormOfADeliveryKeepsEveryField() {
        X86Exception gp = X86Exception.fault(X86Exception.GP, 0x18, 0x4000);
        assertThat(X86Exception.of(gp.toEventDelivery())).isEqualTo(gp);
        X86Exception pf = X86Exception.pageFault(2, 0x5000, 0x4000);
        assertThat(X86Exception.of(pf.toEventDelivery())).isEqualTo(pf);
        assertThat(X86Exception.of(Event.softwareInterrupt(0x80, 2).at(0x10))).isEqualTo(new X86Exception(0x80, -1, false, 0x12, 0));
    }

    @Test
    void theOldHelpersAnswerFromExceptionVector() {
        assertThat(X86Exception.pushesErrorCode(X86Exception.CP)).isTrue();
        assertThat(X86Exception.pushesErrorCode(0x80)).isFalse();
        assertThat(X86Exception.makesDoubleFault(X86Exception.PF, X86Exception.GP)).isTrue();
        assertThat(X86Exception.makesDoubleFault(X86Exception.DB, X86Exception.GP)).isFalse();
        assertThat(X86Exception.name(X86Exception.VE)).isEqualTo("#VE");
        assertThat(X86Exception.name(0x30)).isEqualTo("vector 48");
    }
}
