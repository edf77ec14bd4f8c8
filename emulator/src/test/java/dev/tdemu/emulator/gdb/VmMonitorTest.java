package dev.tdemu.emulator.gdb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.gdbstub.target.MonitorReply;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.VmConfig;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The monitor commands of a VM's stub, called as the stub calls them: each answer is one text for
 * gdb's console, and a mistake is one line (gdb would turn a failure into "Protocol error with Rcmd").
 */
@Timeout(60)
class VmMonitorTest {
    StubbedVm stub;

    MonitorReply monitor(String command) throws Exception {
        return stub.target.run(command).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    void start(int vcpus) throws Exception {
        stub = StubbedVm.start(VmConfig.newBuilder().setGuestImage("builtin:" + (vcpus > 1 ? "multi-vcpu" : "debuggee"))
                .setMode(GuestMode.GUEST_MODE_VMX).setVcpus(vcpus).setTimeoutMs(60_000).build());
        stub.target.attach().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        stub.close();
    }

    @Test
    void xpShowsPhysicalMemoryInTheUnitsAndFormatAsked() throws Exception {
        start(1);
        long gdt = BootStructures.GDT_BASE;
        assertThat(monitor("xp /2xg 0x" + Long.toHexString(gdt)).output())
                .isEqualTo(String.format("%016x: 0x0000000000000000 0x00af9a000000ffff%n", gdt));
        assertThat(monitor("xp /4xb 0x" + Long.toHexString(gdt + 8)).output())
                .isEqualTo(String.format("%016x: 0xff 0xff 0x00 0x00%n", gdt + 8));
        assertThat(monitor("xp /2dh 0x" + Long.toHexString(gdt + 8)).output()).endsWith(": -1 0\n");
        assertThat(monitor("xp /1uw " + (gdt + 8)).output()).as("decimal addresses too").endsWith(": 65535\n");
        assertThat(monitor("xp 0x" + Long.toHexString(gdt + 8)).output()).as("one word in hex by default").endsWith(": 0x0000ffff\n");
    }

    @Test
    void mistakesAreOneLineAndNeverAFailure() throws Exception {
        start(1);
        for (String bad : new String[] {"xp /4xg", "xp /4xg 0x10000000", "xp /0xg 0", "gva2gpa", "gva2gpa zz", "info", "info frobs",
            "info registers 7", "info tlb 0 1", "frobnicate", "policy set nonsense"}) {
            MonitorReply r = monitor(bad);
            assertThat(r.success()).as(bad).isTrue();
            assertThat(r.output().lines().count()).as(bad + ": " + r.output()).isEqualTo(1);
        }
        assertThat(monitor("frobnicate now").output()).isEqualTo("unknown monitor command 'frobnicate' ('monitor help' lists them)\n");
        assertThat(monitor("info registers 7").output()).contains("no vCPU 7 (there are 1)");
        assertThat(monitor("xp /4xg 0x10000000").output()).contains("beyond the guest's RAM");
    }

    @Test
    void helpListsTheVmsCommandsAndQemusAndInfoRegistersCoversEveryVcpu() throws Exception {
        start(2);
        assertThat(monitor("help").output()).contains("exits [N]").contains("info tlb [N]").contains("gva2gpa ADDR [N]");
        String all = monitor("info registers").output();
        assertThat(all).contains("vCPU 0\n").contains("vCPU 1\n");
        assertThat(monitor("info registers 1").output()).startsWith("vCPU 1\n").doesNotContain("vCPU 0");
        assertThat(monitor("gva2gpa 0x1000 1").output()).isEqualTo("gpa: 0x1000 (in a 2M page, writable, user)\n");
    }
}
