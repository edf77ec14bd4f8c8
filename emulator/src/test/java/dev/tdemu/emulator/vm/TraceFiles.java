package dev.tdemu.emulator.vm;

import dev.tdemu.proto.DebugRegisters;
import dev.tdemu.proto.ExitRecord;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.InvariantVerdict;
import dev.tdemu.proto.TraceEnd;
import dev.tdemu.proto.TraceHeader;
import dev.tdemu.proto.TraceRecord;
import dev.tdemu.proto.VmConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/** Exit traces made up for tests, in the format {@link TraceWriter} writes (no VM needed). */
public final class TraceFiles {
    private TraceFiles() {}

    public static TraceHeader header() {
        return TraceWriter.header(VmConfig.newBuilder().setGuestImage("builtin:made-up").setMode(GuestMode.GUEST_MODE_VMX)
                .setVcpus(2).build(), "test");
    }

    /** Exit {@code sequence} on vCPU {@code sequence % 2}; every third one violates HOST_BREAKPOINTS_INTACT. */
    public static ExitRecord exit(long sequence) {
        DebugRegisters regs = DebugRegisters.newBuilder().setDr0(0x200040).setDr1(0x300100).setDr6(0xFFFF0FF0L)
                .setDr7(0x400 | sequence).build();
        boolean violated = sequence % 3 == 0;
        return ExitRecord.newBuilder().setSequence(sequence).setVcpu((int) (sequence % 2)).setPhysicalCpu((int) (sequence % 2))
                .setBasicReason(10).setReasonName("CPUID").setGuestRip(0x100000 + sequence).setHwBeforeEntry(regs)
                .setHwAtExit(regs).setHwAfterDrSequence(regs).setHostExpected(regs).setSwitchDbRegs(1)
                .addVerdicts(InvariantVerdict.newBuilder().setInvariant("HOST_BREAKPOINTS_INTACT").setHolds(!violated)
                        .setDetail(violated ? "DR7 lost its enable bits" : ""))
                .addVerdicts(InvariantVerdict.newBuilder().setInvariant("NO_LEAK").setHolds(true))
                .build();
    }

    public static TraceEnd end(long exits) {
        return TraceEnd.newBuilder().setExitsRecorded(exits).setEndedBy("guest exited with status 0").build();
    }

    /** The magic and format version. */
    public static void preamble(OutputStream out) throws IOException {
        out.write(TraceFormat.preamble());
    }

    public static void record(OutputStream out, TraceRecord r) throws IOException {
        TraceFormat.writeFrame(out, r.toByteArray());
    }

    /** A whole trace of exits 1..n with its end record. */
    public static byte[] trace(int n) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            preamble(out);
            record(out, TraceRecord.newBuilder().setHeader(header()).build());
            for (int i = 1; i <= n; i++) {
                record(out, TraceRecord.newBuilder().setExit(exit(i)).build());
            }
            record(out, TraceRecord.newBuilder().setEnd(end(n)).build());
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where exit {@code i} (from 1) of {@link #trace} starts, and the bytes one exit record takes there. */
    public static int offsetOfExit(int i) {
        int header = TraceFormat.frameBytes(TraceRecord.newBuilder().setHeader(header()).build().getSerializedSize());
        int at = TraceFormat.PREAMBLE_BYTES + header;
        for (int k = 1; k < i; k++) {
            at += TraceFormat.frameBytes(TraceRecord.newBuilder().setExit(exit(k)).build().getSerializedSize());
        }
        return at;
    }
}
