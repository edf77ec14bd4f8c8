package dev.tdemu.emulator.unicorn;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Where three fields of the engine's CPU state (QEMU's CPUX86State) sit inside a saved
 * {@code uc_context}: {@code error_code} (the error code of the exception being raised),
 * {@code old_exception} (the exception in flight, -1 when none, which turns a second contributory
 * exception into #DF) and {@code exception_is_int} (set by INT n/INT3 and never cleared by the
 * engine: while it is set, every later exception reaching an interrupt hook, including an SVM
 * intercept, gets RIP overwritten with the INT's next-instruction address). No register id exposes them and their offsets depend on how the library was
 * built, so they are not hard-coded: the first engine open calibrates them by running probes on a
 * scratch engine and watching which 32-bit field follows the known values, then verifies the
 * result and refuses the engine if anything is off.
 *
 * <p>Probes (64-bit mode, empty GDT/LDT): loading selectors 0x1234, 0x5678 and 0x0abc into DS
 * (from memory, so no register holds them) raises #GP with those error codes; a division by zero
 * raises #DE (error code 0); INT3 raises #BP as a software interrupt. Each probe starts from the
 * same saved reset state (old_exception -1).
 * error_code is the one field reading 0x1234, 0x5678, 0x0abc, 0 after the four probes;
 * old_exception the one reading -1 before them and 13, 13, 13, 0 after; exception_is_int the one
 * reading 0 before and after those four and 1 after INT3. Also {@code hflags}, whose low two bits are
 * the CPL the engine checks segment loads against (it follows SS's DPL, so it cannot be lowered
 * by loading SS from CPL3): the one field with LMA and CS64 (bits 14, 15) set whose CPL bits go
 * from 0 to 3, the rest unchanged, when the probe IRETQs to a DPL3 code segment and faults there. Verification: a second #DE
 * after a first one arrives as #DF (8) unless old_exception is reset through the found offset,
 * then as #DE (0); and the error code read through the found offset in an interrupt hook is 0x1234.
 * Last {@code segs[]}, the segment registers' descriptor caches: the one offset where the reset
 * state holds CS 0x08 and SS 0x10 (24 and 48 bytes on) and the CPL3 probe CS 0x23 with the 4 GiB
 * limit and DPL 3 of its descriptor and SS 0x1b.
 */
record ContextLayout(long errorCodeOffset, long oldExceptionOffset, long exceptionIsIntOffset, long hflagsOffset,
                     long segmentsOffset) {
    /**
     * QEMU's SegmentCache, six of which (ES, CS, SS, DS, FS, GS) make {@code segs[]}: a 32-bit
     * selector, the 64-bit base at +8, the 32-bit limit at +16 and the flags (the descriptor's high
     * dword) at +20.
     */
    static final int SEGMENT_SIZE = 24, SEGMENT_BASE = 8, SEGMENT_LIMIT = 16, SEGMENT_FLAGS = 20;

    private static final long PROBE_PAGE = 0x1000;
    private static final int GP_1234 = 0x00, GP_5678 = 0x10, GP_0ABC = 0x20, DIVIDE = 0x30, SELECTORS = 0x40,
            INT3 = 0x48, TO_USER = 0x50, USER = 0x70, GDT = 0x80;
    private static final byte[] PROBE_CODE = new byte[0xA8];
    private static final int USER_CS = 0x23, USER_SS = 0x1b;

    static {
        putMovDs(GP_1234, SELECTORS, 0x1234);
        putMovDs(GP_5678, SELECTORS + 2, 0x5678);
        putMovDs(GP_0ABC, SELECTORS + 4, 0x0abc);
        // xor eax,eax; xor edx,edx; xor ecx,ecx; div ecx; hlt
        byte[] div = {0x31, (byte) 0xc0, 0x31, (byte) 0xd2, 0x31, (byte) 0xc9, (byte) 0xf7, (byte) 0xf1, (byte) 0xf4};
        System.arraycopy(div, 0, PROBE_CODE, DIVIDE, div.length);
        PROBE_CODE[INT3] = (byte) 0xcc;
        PROBE_CODE[INT3 + 1] = (byte) 0xf4;
        // push $0x1b; push $0x1ff0 (a stack in the probe page); push $2; push $0x23; push $USER; iretq
        long user = PROBE_PAGE + USER;
        byte[] iret = {0x6a, USER_SS, 0x68, (byte) 0xf0, 0x1f, 0, 0, 0x6a, 0x02, 0x6a, USER_CS,
            0x68, (byte) user, (byte) (user >> 8), (byte) (user >> 16), (byte) (user >> 24), 0x48, (byte) 0xcf};
        System.arraycopy(iret, 0, PROBE_CODE, TO_USER, iret.length);
        PROBE_CODE[USER] = (byte) 0xf4; // hlt at CPL3: #GP
        long[] gdt = {0, 0x00AF9A000000FFFFL, 0x00CF92000000FFFFL, 0x00CFF2000000FFFFL, 0x00AFFA000000FFFFL};
        for (int i = 0; i < gdt.length; i++) {
            for (int b = 0; b < 8; b++) {
                PROBE_CODE[GDT + 8 * i + b] = (byte) (gdt[i] >>> (8 * b));
            }
        }
    }

    /** mov ds, word [rip + (data - next)]; hlt — with the selector stored at {@code data}. */
    private static void putMovDs(int at, int data, int selector) {
        int disp = data - (at + 6);
        byte[] code = {(byte) 0x8e, 0x1d, (byte) disp, (byte) (disp >> 8), (byte) (disp >> 16), (byte) (disp >> 24),
            (byte) 0xf4};
        System.arraycopy(code, 0, PROBE_CODE, at, code.length);
        PROBE_CODE[data] = (byte) selector;
        PROBE_CODE[data + 1] = (byte) (selector >> 8);
    }

    private static final class Holder {
        static final Object STATE = calibrateOrFailure();
    }

    /** The calibrated layout, computed once per process. */
    static ContextLayout get() {
        if (Holder.STATE instanceof UnicornException e) {
            throw new UnicornUnavailableException(e.getMessage(), e.error(), e);
        }
        return (ContextLayout) Holder.STATE;
    }

    private static Object calibrateOrFailure() {
        try {
            ContextLayout layout = calibrate();
            Unicorn.LOG.debug("calibrated uc_context: error_code at +{}, old_exception at +{}, exception_is_int at +{}, "
                    + "hflags at +{}, segs at +{}", layout.errorCodeOffset, layout.oldExceptionOffset, layout.exceptionIsIntOffset,
                    layout.hflagsOffset, layout.segmentsOffset);
            return layout;
        } catch (UnicornException e) {
            return e;
        } catch (RuntimeException e) {
            return new UnicornUnavailableException("cannot calibrate the Unicorn engine's exception state (" + e
                    + "); this libunicorn.so.2 behaves unlike Unicorn 2.1: " + UnicornVersion.INSTALL_HINT, null, e);
        }
    }

    private static final class Probe {
        final List<Integer> vectors = new ArrayList<>();
        CpuContext capture;
        boolean captureErrorCode;
        int errorCode;
    }

    static ContextLayout calibrate() {
        try (Unicorn uc = Unicorn.openUncalibrated()) {
            uc.map(PROBE_PAGE, 0x1000, Protection.RWX);
            uc.write(PROBE_PAGE, PROBE_CODE);
            uc.writeMmr(X86Reg.GDTR, new X86Mmr(0, PROBE_PAGE + GDT, 5 * 8 - 1, 0));
            uc.writeReg(X86Reg.CS, 0x08);
            uc.writeReg(X86Reg.SS, 0x10);
            uc.writeReg(X86Reg.RSP, PROBE_PAGE + 0xF00);
            CpuContext reset = uc.newContext();
            reset.save();
            Probe p = new Probe();
            p.capture = uc.newContext();
            uc.addInterruptHook((u, vector) -> {
                p.vectors.add(vector);
                p.capture.save();
                if (p.captureErrorCode) {
                    p.errorCode = u.exceptionErrorCode();
                }
                u.emuStop();
            });

            ByteBuffer s0 = le(reset.bytes());
            ByteBuffer a = run(uc, reset, p, GP_1234, 13);
            ByteBuffer b = run(uc, reset, p, GP_5678, 13);
            ByteBuffer c = run(uc, reset, p, GP_0ABC, 13);
            ByteBuffer d = run(uc, reset, p, DIVIDE, 0);
            ByteBuffer e = run(uc, reset, p, INT3, 3);
            ByteBuffer user = run(uc, reset, p, TO_USER, 13);

            long errorCode = unique("error_code", s0.capacity(), o -> a.getInt(o) == 0x1234 && b.getInt(o) == 0x5678
                    && c.getInt(o) == 0x0abc && d.getInt(o) == 0);
            long oldException = unique("old_exception", s0.capacity(), o -> s0.getInt(o) == -1 && a.getInt(o) == 13
                    && b.getInt(o) == 13 && c.getInt(o) == 13 && d.getInt(o) == 0);
            long isInt = unique("exception_is_int", s0.capacity(), o -> s0.getInt(o) == 0 && a.getInt(o) == 0
                    && b.getInt(o) == 0 && c.getInt(o) == 0 && d.getInt(o) == 0 && e.getInt(o) == 1);
            int lmaCs64 = 3 << 14;
            long hflags = unique("hflags", s0.capacity(), o -> (s0.getInt(o) & 3) == 0 && (user.getInt(o) & 3) == 3
                    && (s0.getInt(o) & ~3) == (user.getInt(o) & ~3) && (s0.getInt(o) & lmaCs64) == lmaCs64);
            long segments = uniqueSegments(s0, user);
            ContextLayout layout = new ContextLayout(errorCode, oldException, isInt, hflags, segments);
            uc.useLayout(layout);

            // Verify: the error code as the helper reads it inside the hook.
            reset.restore();
            p.vectors.clear();
            p.captureErrorCode = true;
            uc.emuStart(PROBE_PAGE + GP_1234);
            p.captureErrorCode = false;
            expect(p.vectors.equals(List.of(13)) && p.errorCode == 0x1234,
                    "#GP(0x1234) read back as vectors " + p.vectors + ", error code 0x" + Integer.toHexString(p.errorCode));

            // Verify: a second #DE escalates to #DF unless the exception in flight is cleared.
            reset.restore();
            p.vectors.clear();
            uc.emuStart(PROBE_PAGE + DIVIDE);
            uc.emuStart(PROBE_PAGE + DIVIDE);
            uc.clearExceptionInFlight();
            uc.emuStart(PROBE_PAGE + DIVIDE);
            if (!p.vectors.equals(List.of(0, 8, 0))) {
                expect(p.vectors.equals(List.of(0, 0, 0)), "#DE, #DE, clear, #DE arrived as vectors " + p.vectors);
                Unicorn.LOG.debug("this engine does not escalate a second #DE to #DF by itself");
            }

            // Verify: at CPL3 a DPL0 stack segment is refused until the CPL is forced to 0.
            reset.restore();
            uc.emuStart(PROBE_PAGE + TO_USER);
            expect(uc.readReg(X86Reg.CS) == USER_CS, "the probe did not reach CPL3 (CS=0x" + Long.toHexString(uc.readReg(X86Reg.CS)) + ")");
            uc.forceCpl(0);
            uc.writeReg(X86Reg.SS, 0);
            uc.writeReg(X86Reg.CS, 0x08);
            expect(uc.readReg(X86Reg.CS) == 0x08 && uc.readReg(X86Reg.SS) == 0, "segment loads after forcing CPL 0 gave CS=0x"
                    + Long.toHexString(uc.readReg(X86Reg.CS)) + " SS=0x" + Long.toHexString(uc.readReg(X86Reg.SS)));

            // Verify: clearing after INT3 resets the software-interrupt marker.
            reset.restore();
            uc.emuStart(PROBE_PAGE + INT3);
            uc.clearExceptionInFlight();
            CpuContext after = uc.newContext();
            after.save();
            expect(le(after.bytes()).getInt((int) isInt) == 0, "exception_is_int still set after clearing");
            after.close();
            return layout;
        }
    }

    private static ByteBuffer run(Unicorn uc, CpuContext reset, Probe p, int at, int vector) {
        reset.restore();
        p.vectors.clear();
        uc.emuStart(PROBE_PAGE + at);
        expect(p.vectors.equals(List.of(vector)), "probe at +0x" + Integer.toHexString(at) + " raised vectors "
                + p.vectors + ", expected [" + vector + "]");
        return le(p.capture.bytes());
    }

    /** segs[0] (ES): CS is segs[1], SS segs[2]; see the class comment. */
    private static long uniqueSegments(ByteBuffer reset, ByteBuffer user) {
        List<Integer> found = new ArrayList<>();
        int cs = SEGMENT_SIZE, ss = 2 * SEGMENT_SIZE;
        for (int o = 0; o + 6 * SEGMENT_SIZE <= reset.capacity(); o += 4) {
            int userCsFlags = user.getInt(o + cs + SEGMENT_FLAGS);
            if (reset.getInt(o + cs) == 0x08 && reset.getInt(o + ss) == 0x10 && user.getInt(o + cs) == USER_CS
                    && user.getInt(o + ss) == USER_SS && user.getInt(o + cs + SEGMENT_LIMIT) == 0xFFFF_FFFF
                    && ((userCsFlags >>> 13) & 3) == 3 && (userCsFlags & (1 << 15)) != 0) {
                found.add(o);
            }
        }
        expect(found.size() == 1, found.size() + " candidate offsets for segs[] " + found);
        return found.getFirst();
    }

    private static long unique(String field, int size, IntPredicate matches) {
        List<Integer> found = new ArrayList<>();
        for (int o = 0; o + 4 <= size; o += 4) {
            if (matches.test(o)) {
                found.add(o);
            }
        }
        expect(found.size() == 1, found.size() + " candidate offsets for " + field + " " + found);
        return found.getFirst();
    }

    private static void expect(boolean ok, String what) {
        if (!ok) {
            throw new UnicornUnavailableException("cannot calibrate the Unicorn engine's exception state: " + what
                    + "; this libunicorn.so.2 behaves unlike Unicorn 2.1: " + UnicornVersion.INSTALL_HINT, null, null);
        }
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
