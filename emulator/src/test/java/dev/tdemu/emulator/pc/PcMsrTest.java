package dev.tdemu.emulator.pc;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MSRs of issue #16 item 3 from inside a long-mode kernel (pc64-msr.S lists its checks):
 * each read, written and refused with #GP(0) as KVM with ignore_msrs=0 does, and the ones the
 * engine acts on seen acting (EFER.SCE and SYSCALL through STAR/LSTAR/FMASK from CPL0 and CPL3,
 * FS_BASE/GS_BASE operands and SWAPGS with KERNEL_GS_BASE, the TSC under RDTSC, TSC_AUX under RDTSCP
 * and RDPID).
 */
@Timeout(60)
class PcMsrTest {
    static final int MSR_CHECKS = 111, SYSCALL_TF_CHECKS = 8;

    @TempDir
    Path dir;

    @Test
    void everyMsrAKernelUsesReadsWritesAndRefusesAsKvmDoesAndTheEngineActsOnItsMsrs() {
        PcKernels.run(dir, "pc64-msr.elf").assertAllPassed(MSR_CHECKS);
    }

    /** SYSCALL's single-step trap follows TF after IA32_FMASK: none when FMASK clears TF, at LSTAR when it does not. */
    @Test
    void syscallWithTfSetTrapsOnlyWhenFmaskLeavesTfSetAndThenAtLstar() {
        PcKernels.run(dir, "pc64-syscall-tf.elf").assertAllPassed(SYSCALL_TF_CHECKS);
    }
}
