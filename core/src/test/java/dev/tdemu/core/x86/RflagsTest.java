package dev.tdemu.core.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RflagsTest {
    @Test
    void bitOneReadsAsOneAndReservedBitsAsZero() {
        assertEquals(0x2, new Rflags(0).bits());
        assertEquals(0x3F_7FD7L, new Rflags(-1L).bits(), "bits 3, 5, 15, 22-63 dropped");
        assertEquals(0x2, Rflags.RESET.bits());
    }

    @Test
    void eachNamedBitHasTheSdmPosition() {
        assertArrayEquals(new long[] {1L, 4L, 0x10L, 0x40L, 0x80L, 0x100L, 0x200L, 0x400L, 0x800L, 0x4000L, 0x10000L,
            0x20000L, 0x40000L, 0x80000L, 0x100000L, 0x200000L},
            new long[] {Rflags.CF, Rflags.PF, Rflags.AF, Rflags.ZF, Rflags.SF, Rflags.TF, Rflags.IF, Rflags.DF,
                Rflags.OF, Rflags.NT, Rflags.RF, Rflags.VM, Rflags.AC, Rflags.VIF, Rflags.VIP, Rflags.ID});
        assertEquals(0x3000L, Rflags.IOPL_MASK);
    }

    @Test
    void accessorsReadTheirOwnBitOnly() {
        Rflags f = new Rflags(0x2 | Rflags.IF | Rflags.TF | Rflags.RF | 0x2000);
        assertTrue(f.interruptFlag());
        assertTrue(f.tf());
        assertTrue(f.rf());
        assertEquals(2, f.iopl());
        assertFalse(f.cf() || f.zf() || f.vm() || f.ac() || f.nt() || f.df() || f.of() || f.id() || f.vif());
        Rflags all = new Rflags(-1L);
        assertTrue(all.cf() && all.pf() && all.af() && all.zf() && all.sf() && all.df() && all.of() && all.nt()
                && all.vm() && all.ac() && all.vif() && all.vip() && all.id());
    }

    @Test
    void withersChangeOneFlagAndLeaveTheOthers() {
        Rflags f = new Rflags(0x202);
        assertEquals(0x302, f.withTf(true).bits());
        assertEquals(0x2, f.withInterruptFlag(false).bits());
        assertEquals(0x70202, f.withRf(true).withVm(true).withAc(true).bits());
        assertEquals(3, f.withIopl(3).iopl());
        assertEquals(0x1202, f.withIopl(3).withIopl(1).bits());
        assertEquals(0x3, f.clear(Rflags.IF | Rflags.TF).set(Rflags.CF).bits());
        assertEquals(0x202, f.bits(), "immutable");
    }

    @Test
    void ioplOutsideItsFieldIsRefused() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Rflags.RESET.withIopl(4)).getMessage()
                .contains("IOPL is 0..3"));
    }

    @Test
    void narrowImagesKeepTheLowBits() {
        Rflags f = new Rflags(Rflags.AC | Rflags.IF | Rflags.CF);
        assertEquals(0x203, f.flags16());
        assertEquals(0x40203L, f.eflags());
    }

    @Test
    void toStringNamesTheSetFlags() {
        assertEquals("RFLAGS[0x3202 IF IOPL=3]", new Rflags(0x3202).toString());
        assertEquals("RFLAGS[0x2]", Rflags.RESET.toString());
    }
}
