package dev.tdemu.emulator.unicorn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ContextTest {
    @Test
    void restoringASavedContextRewindsTheCpuButNotMemory() {
        try (BareMachine m = BindingGuests.machine("binding-regloop")) {
            Unicorn uc = m.engine();
            uc.writeRegs(new X86Reg[] {X86Reg.RAX, X86Reg.RBX, X86Reg.RDX, X86Reg.RDI}, new long[] {0, 0, 0, 10});
            CpuContext before;
            try (CpuContext ctx = uc.newContext()) {
                before = ctx;
                ctx.save();
                assertThat(ctx.byteSize()).isEqualTo(uc.contextSize()).isPositive();
                uc.emuStart(BindingGuests.BASE);
                assertThat(uc.readReg(X86Reg.RAX)).isEqualTo(10);
                m.ram().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0x200000, 77);
                ctx.restore();
                assertThat(uc.readRegs(X86Reg.RAX, X86Reg.RDI)).containsExactly(0, 10);
                assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(BindingGuests.BASE);
                assertThat(uc.read(0x200000, 1)).containsExactly(77);
                // the rewound CPU runs the same computation again
                uc.emuStart(BindingGuests.BASE);
                assertThat(uc.readReg(X86Reg.RAX)).isEqualTo(10);
            }
            assertThatThrownBy(before::restore).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aContextSavedInsideAHookCapturesTheStateAtThatInstruction() {
        try (BareMachine m = BindingGuests.machine("binding-regloop")) {
            Unicorn uc = m.engine();
            CpuContext ctx = uc.newContext();
            uc.writeReg(X86Reg.RDI, 5);
            uc.writeReg(X86Reg.RAX, 0);
            int[] hits = {0};
            uc.addCodeHook(BindingGuests.BASE + 0x12, BindingGuests.BASE + 0x12, (u, address, size) -> { // the hlt
                if (hits[0]++ == 0) {
                    ctx.save();
                }
            });
            uc.emuStart(BindingGuests.BASE);
            uc.writeReg(X86Reg.RAX, 123);
            ctx.restore();
            assertThat(uc.readReg(X86Reg.RAX)).isEqualTo(5);
            assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(BindingGuests.BASE + 0x12);
        }
    }

    @Test
    void closingTheEngineFreesItsContexts() {
        Unicorn uc = Unicorn.open();
        CpuContext ctx = uc.newContext();
        ctx.save();
        uc.close();
        assertThatThrownBy(ctx::save).isInstanceOf(IllegalStateException.class);
        ctx.close(); // harmless
    }
}
