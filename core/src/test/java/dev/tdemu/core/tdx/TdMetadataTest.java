package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Gpr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.tdemu.core.tdx.TdFixture.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TDG.VM.RD/WR and TDG.VP.RD/WR. */
class TdMetadataTest {

    private final TdFixture f = new TdFixture(new TdParams(new TdAttributes(TdAttributes.DEBUG | TdAttributes.PKS), 8,
            TdParams.GPAW_48, 64 * TdFixture.MIB, 0));
    private final TdVcpu v0 = f.td.addVcpu();
    private final TdVcpu v1 = f.td.addVcpu();

    private TdcallResult.Completed vmRd(long fieldId) {
        return f.completed(v0, call(TdcallLeaf.TDG_VM_RD).with(Gpr.RDX, fieldId));
    }

    private TdcallResult.Completed vmWr(long fieldId, long value, long mask) {
        return f.completed(v0, call(TdcallLeaf.TDG_VM_WR).with(Gpr.RDX, fieldId).with(Gpr.R8, value).with(Gpr.R9, mask));
    }

    private static long read(TdcallResult.Completed c) {
        assertEquals(TdxStatus.TDX_SUCCESS.code(), c.status());
        return c.updates().value(Gpr.R8);
    }

    @Test
    void vmRdReadsTheTdsParameters() {
        assertEquals(TdAttributes.DEBUG | TdAttributes.PKS, read(vmRd(TdxMetadataField.ATTRIBUTES.fieldId())));
        assertEquals(8, read(vmRd(TdxMetadataField.MAX_VCPUS.fieldId())));
        assertEquals(2, read(vmRd(TdxMetadataField.NUM_VCPUS.fieldId())));
        assertEquals(0, read(vmRd(TdxMetadataField.GPAW.fieldId())), "the TDCS flag is 0 for GPAW 48");
        assertEquals(TdxModule.CONFIG_FLAGS, read(vmRd(TdxMetadataField.CONFIG_FLAGS.fieldId())));
    }

    @Test
    void theContextAndElementSizeOfAFieldIdAreIgnoredAsTheModuleIgnoresThem() {
        // Linux names NOTIFY_ENABLES 0x9100000000000010: no context code, element size 0.
        assertEquals(0, read(vmRd(0x9100_0000_0000_0010L)));
    }

    @ParameterizedTest
    @ValueSource(longs = {1L << 24, 1L << 34, 1L << 38, 1L << 47, 1L << 55, 1L << 62})
    void aFieldIdWithReservedOrSequenceBitsIsIncorrect(long bit) {
        TdcallResult.Completed c = vmRd(TdxMetadataField.ATTRIBUTES.fieldId() | bit);
        assertEquals(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT.code(), c.status());
        assertEquals(0, c.updates().value(Gpr.R8), "R8 is cleared on failure");
    }

    @Test
    void aFieldIdNamingNoFieldIsIncorrect() {
        assertEquals(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT.code(), vmRd(0x1110_0003_0000_0099L).status());
        assertEquals(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT.code(), vmRd(TdxMetadataField.VCPU_INDEX.fieldId()).status(),
                "a vCPU field is not a TD field");
    }

    @Test
    void vmRdOfAnotherVmIsOperandInvalid() {
        TdcallResult.Completed c = f.completed(v0,
                call(TdcallLeaf.TDG_VM_RD).with(Gpr.RDX, TdxMetadataField.ATTRIBUTES.fieldId()).with(Gpr.RCX, 1));
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RCX), c.status());
    }

    @Test
    void aFieldTdemuDoesNotKeepFailsLoudlyInsteadOfReturningAnInventedValue() {
        TdcallResult r = f.module.tdcall(v0, call(TdcallLeaf.TDG_VM_RD).with(Gpr.RDX, TdxMetadataField.MRTD.fieldId()));
        TdcallResult.NotModelled n = assertInstanceOf(TdcallResult.NotModelled.class, r);
        assertTrue(n.what().contains("MRTD"), n.what());
    }

    @Test
    void vmRdVersion1FailsLoudly() {
        TdcallResult r = f.module.tdcall(v0,
                call(TdcallLeaf.TDG_VM_RD.number() | (1L << 16)).with(Gpr.RDX, TdxMetadataField.ATTRIBUTES.fieldId()));
        assertInstanceOf(TdcallResult.NotModelled.class, r);
    }

    @Test
    void theTdTurnsOnZeroStepNotificationAndGetsThePreviousValueBack() {
        TdcallResult.Completed w = vmWr(TdxMetadataField.NOTIFY_ENABLES.fieldId(), 1, 1);
        assertEquals(0, read(w), "R8 = the previous value");
        assertEquals(1, f.td.notifyEnables());
        assertEquals(1, read(vmRd(TdxMetadataField.NOTIFY_ENABLES.fieldId())));
    }

    @Test
    void aWriteMaskWithNoWritableBitIsNotWritable() {
        assertEquals(TdxStatus.TDX_METADATA_FIELD_NOT_WRITABLE.code(),
                vmWr(TdxMetadataField.NOTIFY_ENABLES.fieldId(), 1, 0).status());
        assertEquals(TdxStatus.TDX_METADATA_FIELD_NOT_WRITABLE.code(),
                vmWr(TdxMetadataField.ATTRIBUTES.fieldId(), 0, -1L).status());
        assertEquals(TdAttributes.DEBUG | TdAttributes.PKS, read(vmRd(TdxMetadataField.ATTRIBUTES.fieldId())));
    }

    @Test
    void aWriteThatWouldChangeBitsTheTdMayNotWriteIsRefused() {
        TdcallResult.Completed c = vmWr(TdxMetadataField.NOTIFY_ENABLES.fieldId(), 3, 3);
        assertEquals(TdxStatus.TDX_METADATA_FIELD_VALUE_NOT_VALID.code(), c.status());
        assertEquals(0, f.td.notifyEnables());
    }

    @Test
    void vpRdReadsTheCallersVcpuIndex() {
        TdcallResult.Completed c = f.completed(v1,
                call(TdcallLeaf.TDG_VP_RD).with(Gpr.RDX, TdxMetadataField.VCPU_INDEX.fieldId()));
        assertEquals(1, read(c));
        assertEquals(-1L, c.updates().value(Gpr.RDX), "tdemu does not enumerate: no next field");
    }

    @Test
    void vpRdChecksRcxAndTheFieldId() {
        long id = TdxMetadataField.VCPU_INDEX.fieldId();
        assertEquals(TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RCX),
                f.status(v0, call(TdcallLeaf.TDG_VP_RD).with(Gpr.RDX, id).with(Gpr.RCX, 1)));
        assertEquals(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT.code(),
                f.status(v0, call(TdcallLeaf.TDG_VP_RD).with(Gpr.RDX, TdxMetadataField.ATTRIBUTES.fieldId())));
    }

    @Test
    void vpWrOfTheVcpuIndexIsNotWritable() {
        TdcallResult.Completed c = f.completed(v0, call(TdcallLeaf.TDG_VP_WR)
                .with(Gpr.RDX, TdxMetadataField.VCPU_INDEX.fieldId()).with(Gpr.R8, 5).with(Gpr.R9, -1L));
        assertEquals(TdxStatus.TDX_METADATA_FIELD_NOT_WRITABLE.code(), c.status());
        assertEquals(0, v0.vcpuIndex());
    }

    @Test
    void vpWrOfAFieldTdemuDoesNotKeepFailsLoudly() {
        TdcallResult r = f.module.tdcall(v0, call(TdcallLeaf.TDG_VP_WR)
                .with(Gpr.RDX, TdxMetadataField.TSC_DEADLINE.fieldId()).with(Gpr.R8, 5).with(Gpr.R9, -1L));
        assertInstanceOf(TdcallResult.NotModelled.class, r);
    }
}
