package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Gpr;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TdxStatusTest {

    @Test
    void theStatusesHaveTheModuleAbisNumbers() {
        assertEquals(0L, TdxStatus.TDX_SUCCESS.code());
        assertEquals(0xC000_0100_0000_0000L, TdxStatus.TDX_OPERAND_INVALID.code());
        assertEquals(0xC000_0704_0000_0000L, TdxStatus.TDX_NO_VALID_VE_INFO.code());
        assertEquals(0x0000_0B0A_0000_0000L, TdxStatus.TDX_PAGE_ALREADY_ACCEPTED.code());
        assertEquals(0xC000_0B0B_0000_0000L, TdxStatus.TDX_PAGE_SIZE_MISMATCH.code());
        assertEquals(0xC000_0C00_0000_0000L, TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT.code());
        assertEquals(0xC000_0C01_0000_0000L, TdxStatus.TDX_METADATA_FIELD_NOT_WRITABLE.code());
        assertEquals(0xC000_0C02_0000_0000L, TdxStatus.TDX_METADATA_FIELD_NOT_READABLE.code());
        assertEquals(0xC000_0C03_0000_0000L, TdxStatus.TDX_METADATA_FIELD_VALUE_NOT_VALID.code());
    }

    @Test
    void detailsGoInBits31To0AndAreIgnoredWhenReadingAStatusBack() {
        assertEquals(0xC000_0100_0000_0008L, TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.R8));
        assertEquals(Optional.of(TdxStatus.TDX_OPERAND_INVALID), TdxStatus.of(0xC000_0100_0000_0008L));
        assertEquals(Optional.of(TdxStatus.TDX_PAGE_ALREADY_ACCEPTED), TdxStatus.of(0x0000_0B0A_0000_0001L));
        assertEquals(Optional.empty(), TdxStatus.of(0x8000_0200_0000_0000L), "TDX_OPERAND_BUSY is never returned");
    }

    @Test
    void everyStatusIsDistinctAndErrorsHaveBit63() {
        assertEquals(TdxStatus.values().length, Arrays.stream(TdxStatus.values()).mapToLong(TdxStatus::code).distinct().count());
        for (TdxStatus s : TdxStatus.values()) {
            assertEquals(s.code() < 0, s.isError(), s.name());
            assertEquals(0, s.code() & ~TdxStatus.STATUS_MASK, s + " has no details of its own");
        }
        assertTrue(TdxStatus.TDX_OPERAND_INVALID.isError());
    }

    @Test
    void theGhciStatusesHaveTheGhciNumbers() {
        assertEquals(0L, TdvmcallStatus.TDVMCALL_STATUS_SUCCESS.code());
        assertEquals(1L, TdvmcallStatus.TDVMCALL_STATUS_RETRY.code());
        assertEquals(0x8000_0000_0000_0000L, TdvmcallStatus.TDVMCALL_STATUS_INVALID_OPERAND.code());
        assertEquals(0x8000_0000_0000_0001L, TdvmcallStatus.TDVMCALL_STATUS_GPA_INUSE.code());
        assertEquals(0x8000_0000_0000_0002L, TdvmcallStatus.TDVMCALL_STATUS_ALIGN_ERROR.code());
        assertEquals(0x8000_0000_0000_0003L, TdvmcallStatus.TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED.code());
        assertEquals(Optional.of(TdvmcallStatus.TDVMCALL_STATUS_ALIGN_ERROR), TdvmcallStatus.of(0x8000_0000_0000_0002L));
        assertEquals(Optional.empty(), TdvmcallStatus.of(2));
    }
}
