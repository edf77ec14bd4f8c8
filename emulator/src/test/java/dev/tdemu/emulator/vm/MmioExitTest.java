package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.core.vmx.ApicAccessQualification;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.x86.ExecutionMode;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.elf.LoadSegment;
import dev.tdemu.emulator.machine.X86Decoder;
import dev.tdemu.emulator.machine.X86Instruction;
import dev.tdemu.emulator.pc.PcKernels;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.ExitRecord;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.VmConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A VMX guest's accesses to device memory are VM exits, as on KVM: APIC_ACCESS (44) on its xAPIC
 * page, the offset and the direction in the exit qualification and RIP on the accessing
 * instruction; EPT_MISCONFIG (49), KVM's MMIO exit, on other device memory (the I/O APIC). They
 * reach the exit trace and {@code monitor exits} like every exit, the BSP's INIT and start-up IPIs
 * are its own APIC_ACCESS exits while their target takes none, and each CPU's debug registers
 * survive the DR sequences of these exits.
 */
@Timeout(120)
class MmioExitTest {
    private static final int ICR_LOW = 0x300, ICR_HIGH = 0x310, SVR = 0xF0, ID = 0x20;
    /** MOV r/m, r and MOV r/m, imm: the stores of the kernels' APIC_WRITE macros. */
    private static final List<Integer> MOV_STORES = List.of(0x89, 0xC7);

    @TempDir
    Path dir;

    private VmConfig config(String kernel, int vcpus) {
        return VmConfig.newBuilder().setGuestImage(PcKernels.file(dir, kernel).toString()).setMachine(Machine.MACHINE_PC)
                .setMode(GuestMode.GUEST_MODE_VMX).setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM).setVcpus(vcpus)
                .setTimeoutMs(60_000).build();
    }

    /** Runs {@code config} with a trace; its records, in order. */
    private List<ExitRecord> traced(VmConfig config) throws Exception {
        Path file = dir.resolve("exits.trace");
        TraceWriter w = TraceWriter.create(file, TraceWriter.header(config, "test"), TraceWriter.DEFAULT_LIMIT, n -> { });
        VmResult r = Guests.run(config, w);
        w.finish("test");
        assertThat(r.outcome()).as(r.detail() + "\n" + r.console()).isEqualTo(VmResult.Outcome.EXITED);
        assertThat(r.exitStatus()).as("isa-debug-exit 0: every check passed\n" + r.console()).isEqualTo(1);
        List<ExitRecord> exits = new ArrayList<>();
        try (TraceReader t = TraceReader.open(file)) {
            for (ExitRecord e; (e = t.next()) != null; ) {
                exits.add(e);
            }
        }
        return exits;
    }

    /** The instruction at {@code rip} in the kernel's image (identity mapped, 64-bit code). */
    private static X86Instruction instructionAt(ElfImage elf, long rip) {
        LoadSegment s = elf.segments().stream().filter(seg -> seg.contains(rip)).findFirst().orElseThrow(
                () -> new AssertionError(String.format("RIP 0x%x is outside the kernel", rip)));
        byte[] data = s.data();
        int at = (int) (rip - s.address());
        byte[] code = Arrays.copyOfRange(data, at, Math.min(data.length, at + X86Decoder.MAX_LENGTH));
        X86Instruction insn = X86Decoder.decode(code, 0, ExecutionMode.LONG_64).instructionOrNull();
        assertThat(insn).as("an instruction at RIP 0x%x", rip).isNotNull();
        return insn;
    }

    @Test
    void everyXapicAccessIsAnApicAccessExitInTheTraceAtItsInstructionWithItsOffsetAndDirection() throws Exception {
        VmConfig config = config("pc64-apic.elf", 1);
        List<ExitRecord> exits = traced(config);
        List<ExitRecord> apic = exits.stream().filter(e -> e.getBasicReason() == 44).toList();
        assertThat(apic).as("the kernel reads and writes every register").hasSizeGreaterThan(100);
        assertThat(apic).allMatch(e -> e.getReasonName().equals("APIC_ACCESS"));
        // Its first access reads the APIC ID (reset.id-0); it enables the APIC through SVR.
        assertThat(ApicAccessQualification.fromBits(apic.getFirst().getQualification()))
                .isEqualTo(ApicAccessQualification.linear(false, ID));
        assertThat(apic).anyMatch(e -> e.getQualification() == ApicAccessQualification.linear(true, SVR).bits());

        ElfImage elf = ElfImage.load(Path.of(config.getGuestImage()));
        int reads = 0, writes = 0;
        for (ExitRecord e : apic) {
            ApicAccessQualification q = ApicAccessQualification.fromBits(e.getQualification());
            X86Instruction insn = instructionAt(elf, e.getGuestRip());
            assertThat(insn.memory()).as("the instruction at RIP 0x%x accesses memory", e.getGuestRip()).isNotNull();
            if (insn.memory().index() == X86Instruction.NONE) {
                // APIC_READ / APIC_WRITE: offset(%r11), %r11 = 0xFEE00000
                assertThat(insn.memory().displacement() & 0xFFF).as("RIP 0x%x", e.getGuestRip()).isEqualTo(q.offset());
            }
            boolean store = insn.map() == 0 && MOV_STORES.contains(insn.opcode());
            assertThat(q.type()).as("RIP 0x%x", e.getGuestRip())
                    .isEqualTo(store ? ApicAccessQualification.AccessType.LINEAR_WRITE : ApicAccessQualification.AccessType.LINEAR_READ);
            if (store) {
                writes++;
            } else {
                reads++;
            }
        }
        assertThat(reads).isPositive();
        assertThat(writes).isPositive();
        // With IA32_APIC_BASE.EN clear the page is not the APIC's: that one read is plain MMIO.
        assertThat(exits.stream().filter(e -> e.getBasicReason() == 49)).singleElement()
                .satisfies(e -> assertThat(e.getReasonName()).isEqualTo("EPT_MISCONFIG"));
    }

    @Test
    void monitorExitsShowsAnApicAccessExitWithItsReasonAndQualification() throws Exception {
        List<String> shown = new CopyOnWriteArrayList<>();
        try (Vm vm = new Vm(VmSpec.from(config("pc64-apic.elf", 1)), new Vm.Options(null, List.of()))) {
            vm.addObserver(e -> {
                if (e.reason() == ExitReason.APIC_ACCESS && e.qualification() == 0x10F0 && shown.isEmpty()) {
                    shown.add(vm.monitor("exits 1"));
                }
            });
            assertThat(vm.run().exitStatus()).isEqualTo(1);
        }
        assertThat(shown).singleElement().asString().contains("vCPU 0 on cpu 0  APIC_ACCESS (44)")
                .contains("qualification 0x10f0").contains("exit DR sequence");
    }

    @Test
    void anIoApicAccessIsAnEptMisconfigExitAtItsInstruction() throws Exception {
        VmConfig config = config("pc64-ioapic.elf", 1);
        List<ExitRecord> misconfigs = traced(config).stream().filter(e -> e.getBasicReason() == 49).toList();
        assertThat(misconfigs).as("IOREGSEL and IOWIN accesses").hasSizeGreaterThan(10);
        ElfImage elf = ElfImage.load(Path.of(config.getGuestImage()));
        for (ExitRecord e : misconfigs) {
            assertThat(e.getReasonName()).isEqualTo("EPT_MISCONFIG");
            assertThat(e.getQualification()).as("the SDM defines none").isZero();
            assertThat(instructionAt(elf, e.getGuestRip()).memory()).as("RIP 0x%x", e.getGuestRip()).isNotNull();
        }
    }

    /**
     * KVM: the BSP's ICR writes that send INIT and the start-up IPI are its APIC_ACCESS exits (high
     * then low half, twice); the application processor they start takes no exit for them, and its
     * first exit is its own.
     */
    @Test
    void theBspsInitAndStartupIpisAreItsApicAccessExitsAndTheirTargetTakesNone() throws Exception {
        List<ExitRecord> exits = traced(config("pc64-smp.elf", 2));
        int firstOfAp = exits.stream().filter(e -> e.getVcpu() == 1).findFirst().map(exits::indexOf).orElseThrow();
        List<Long> bspIcrWrites = exits.subList(0, firstOfAp).stream()
                .filter(e -> e.getVcpu() == 0 && e.getBasicReason() == 44)
                .map(ExitRecord::getQualification)
                .filter(q -> q == ApicAccessQualification.linear(true, ICR_LOW).bits()
                        || q == ApicAccessQualification.linear(true, ICR_HIGH).bits())
                .toList();
        assertThat(bspIcrWrites).as("INIT, then the start-up IPI").containsExactly(0x1310L, 0x1300L, 0x1310L, 0x1300L);
        // The AP's exits are its own (its RDMSR of IA32_APIC_BASE among them); that none is an
        // EXTERNAL_INTERRUPT at IP 0 of its start-up page is PcInterruptKickTest's.
        assertThat(exits.stream().filter(e -> e.getVcpu() == 1)).as("the AP's exits").anyMatch(e -> e.getReasonName().equals("RDMSR"));
        assertThat(exits).noneMatch(e -> e.getReasonName().equals("INIT_SIGNAL") || e.getReasonName().equals("STARTUP_IPI"));
    }

    /**
     * Every CPU of pc64-smp-dr arms its own breakpoints and counts its hits across IPIs, which are
     * APIC_ACCESS exits with those breakpoints in the hardware: their DR sequences keep them,
     * with the exit path inside the access and, when the host workload is due at each exit (host
     * breakpoints), between runs.
     */
    @ParameterizedTest(name = "host breakpoints {0}")
    @ValueSource(booleans = {false, true})
    void eachCpusBreakpointsSurviveItsApicAccessExits(boolean hostBreakpoints) {
        VmConfig.Builder c = config("pc64-smp-dr.elf", 2).toBuilder();
        if (hostBreakpoints) {
            c.addHostBreakpoints(Guests.HOST_EXEC).addHostBreakpoints(Guests.HOST_WATCH);
        }
        List<ExitEvent> exits = new CopyOnWriteArrayList<>();
        VmResult r = Guests.run(c.build(), exits::add);
        assertThat(r.console()).contains("PASS smp-dr.every-cpu-kept-its-own-breakpoints").doesNotContain("FAIL");
        assertThat(r.exitStatus()).isEqualTo(1);
        assertThat(r.violations()).isEmpty();
        Map<Integer, Long> armedApicExits = exits.stream()
                .filter(e -> e.reason() == ExitReason.APIC_ACCESS && e.entry().hwInGuest().dr7().value() != 0x400)
                .collect(Collectors.groupingBy(ExitEvent::vcpu, Collectors.counting()));
        assertThat(armedApicExits).as("APIC_ACCESS exits taken with the CPU's own breakpoints armed").containsOnlyKeys(0, 1);
        if (hostBreakpoints) {
            assertThat(exits).filteredOn(e -> e.reason() == ExitReason.APIC_ACCESS)
                    .allMatch(e -> e.hostHits() != null, "the host workload ran at every APIC_ACCESS exit");
        }
    }
}
