package dev.tdemu.emulator.vm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.kvm.DrSwitchPolicy;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.emulator.elf.ElfFormatException;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.proto.VmConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import dev.tdemu.emulator.boot.MultibootProbe;
import dev.tdemu.emulator.platform.PcMachine;

/** A VM to build: the guest image and every knob of {@link VmConfig}, resolved and checked. */
public record VmSpec(ElfImage image, Mode mode, DrSwitchPolicy policy, TdxDrBehaviour tdxDr, int vcpus, boolean debugTd,
                     long memoryBytes, List<HostBreakpoint> hostBreakpoints, Duration timeout, PcBoot pc) {
    /**
     * A Multiboot kernel on the PC machine: the kernel file, its command line and boot modules,
     * and whether COM1 reads standard input.
     */
    public record PcBoot(Path kernel, String commandLine, List<Path> initrds, boolean serialStdin) {
        public PcBoot {
            initrds = List.copyOf(initrds);
        }
    }

    /** tdemu's own machine (an ELF64 guest of tdemu's ABI): {@link #image()} is set, {@link #pc()} is null. */
    public VmSpec(ElfImage image, Mode mode, DrSwitchPolicy policy, TdxDrBehaviour tdxDr, int vcpus, boolean debugTd,
                  long memoryBytes, List<HostBreakpoint> hostBreakpoints, Duration timeout) {
        this(image, mode, policy, tdxDr, vcpus, debugTd, memoryBytes, hostBreakpoints, timeout, null);
    }

    /** Whether the guest is a Multiboot kernel on the PC machine (else one of tdemu's own guests). */
    public boolean isPc() {
        return pc != null;
    }

    /** The guest's name, for messages: the image's, or the kernel file's. */
    public String guestName() {
        return pc != null ? pc.kernel().getFileName().toString() : image.name();
    }

    public static final long DEFAULT_MEMORY = 64L << 20;
    public static final long MIN_MEMORY = 4L << 20;
    /** Guest RAM comes in 2 MiB pages (the boot page tables map it with 2 MiB pages). */
    public static final long MEMORY_GRANULE = 2L << 20;
    /** The longest time limit a run can have (a limit beyond it is a typo, and would overflow in nanoseconds). */
    public static final Duration MAX_TIMEOUT = Duration.ofDays(7);
    /**
     * A PC's RAM ends below 3.5 GiB: the rest of the 4 GiB below the devices (I/O APIC, local
     * APIC, pc-testdev's memory) is their hole, and tdemu puts no RAM above 4 GiB as QEMU would.
     */
    public static final long PC_MAX_MEMORY = 0xE000_0000L;
    /**
     * vCPUs a PC kernel may have: the BSP and application processors started by INIT and SIPI
     * (xAPIC IDs 0..63; the 64, within QEMU's pc machine's 255).
     */
    public static final int PC_MAX_VCPUS = 64;

    /** The most vCPUs any guest may have (a PC kernel's; tdemu's own guests have at most {@link BootStructures#MAX_VCPUS}). */
    public static final int MAX_VCPUS = Math.max(PC_MAX_VCPUS, BootStructures.MAX_VCPUS);

    public VmSpec {
        hostBreakpoints = List.copyOf(hostBreakpoints);
        int maxVcpus = pc != null ? PC_MAX_VCPUS : BootStructures.MAX_VCPUS;
        if (vcpus < 1 || vcpus > maxVcpus) {
            throw new IllegalArgumentException("vCPU count must be 1.." + maxVcpus + (pc != null ? " for a PC kernel" : "")
                    + ", not " + Integer.toUnsignedString(vcpus));
        }
        if (!memoryAllowed(memoryBytes)) {
            throw new IllegalArgumentException(memoryRule() + ", not " + Long.toUnsignedString(memoryBytes) + " bytes");
        }
        if (timeout.isNegative() || timeout.compareTo(MAX_TIMEOUT) > 0) {
            throw new IllegalArgumentException("the time limit must be at most " + MAX_TIMEOUT.toHours() + " hours, not "
                    + timeout);
        }
        if (hostBreakpoints.size() > 4) {
            throw new IllegalArgumentException("at most 4 host breakpoints (the CPU has four slots), not " + hostBreakpoints.size());
        }
        if ((image == null) == (pc == null)) {
            throw new IllegalArgumentException("a VM runs either one of tdemu's own guests or a PC kernel");
        }
        if (debugTd && mode != Mode.TD) {
            throw new IllegalArgumentException("--debug-td applies to TD guests only (use --mode td)");
        }
    }

    /** Whether a VM can have this much RAM (see {@link #memoryRule()}). */
    public static boolean memoryAllowed(long bytes) {
        return bytes >= MIN_MEMORY && bytes <= BootStructures.MAX_RAM && bytes % MEMORY_GRANULE == 0;
    }

    /** What {@link #memoryAllowed} allows, in words. */
    public static String memoryRule() {
        return "guest memory must be a multiple of 2 MiB between 4 MiB and " + (BootStructures.MAX_RAM >> 30) + " GiB";
    }

    /** What {@link #PC_MAX_MEMORY} means, in words. */
    public static String pcMemoryRule() {
        return "a PC kernel's RAM is at most " + (PC_MAX_MEMORY >> 20) + " MiB (3.5 GiB: the rest below 4 GiB is the "
                + "devices' hole, and tdemu puts no RAM above 4 GiB)";
    }

    /**
     * How a PC kernel bundled with tdemu (the testguests module's Multiboot kernels, e.g. the check
     * scenario smp-dr's pc64-smp-dr) is named: builtin:multiboot/NAME.
     */
    public static final String BUILTIN_PC_KERNEL = "builtin:multiboot/";

    /** The kernel file: the path, or a bundled kernel's file (copied out of the jar when it is in one). */
    private static Path pcKernel(String guest) {
        if (!guest.startsWith("builtin:")) {
            return Path.of(guest);
        }
        return ElfImage.file(guest).orElseThrow(() -> new IllegalArgumentException("no built-in PC kernel named '"
                + guest.substring(8) + "' (built-in PC kernels are " + BUILTIN_PC_KERNEL + "NAME)"));
    }

    /** Resolves a configuration; the guest image is a path or builtin:NAME (builtin:multiboot/NAME for a PC kernel). */
    public static VmSpec from(VmConfig c) throws IOException, ElfFormatException {
        String guest = c.getGuestImage();
        if (guest.isEmpty()) {
            throw new IllegalArgumentException("no guest image given");
        }
        boolean pc = switch (c.getMachine()) {
            case MACHINE_PC -> true;
            case MACHINE_TDEMU -> false;
            case MACHINE_UNSPECIFIED, UNRECOGNIZED -> guest.startsWith(BUILTIN_PC_KERNEL)
                    || !guest.startsWith("builtin:") && MultibootProbe.isMultiboot(Path.of(guest));
        };
        if (!pc && (!c.getKernelCommandLine().isEmpty() || c.getInitrdCount() > 0 || c.getSerialStdin())) {
            throw new IllegalArgumentException("--append, --initrd and --serial are for PC kernels (Multiboot); "
                    + guest + " is one of tdemu's own guests (--machine pc runs it as a PC kernel)");
        }
        long memory = c.getMemoryBytes() == 0 ? (pc ? PcMachine.DEFAULT_MEMORY : DEFAULT_MEMORY) : c.getMemoryBytes();
        if (!memoryAllowed(memory)) {
            throw new IllegalArgumentException(memoryRule() + ", not " + Long.toUnsignedString(memory) + " bytes");
        }
        if (pc && memory > PC_MAX_MEMORY) {
            throw new IllegalArgumentException(pcMemoryRule() + ", not " + (memory >> 20) + " MiB");
        }
        if (Long.compareUnsigned(c.getTimeoutMs(), MAX_TIMEOUT.toMillis()) > 0) {
            throw new IllegalArgumentException("the time limit must be at most " + MAX_TIMEOUT.toMillis() + " ms ("
                    + MAX_TIMEOUT.toHours() + " hours), not " + Long.toUnsignedString(c.getTimeoutMs()) + " ms");
        }
        // The RAM is known before the image is read, so a file too large for it is refused unread.
        ElfImage image = pc ? null : guest.startsWith("builtin:") ? ElfImage.builtin(guest.substring(8))
                : ElfImage.load(Path.of(guest), memory);
        PcBoot boot = pc ? new PcBoot(pcKernel(guest), c.getKernelCommandLine(), c.getInitrdList().stream().map(Path::of).toList(),
                c.getSerialStdin()) : null;
        return new VmSpec(image, Mode.fromProto(c.getMode()),
                c.getPolicy() == dev.tdemu.proto.DrSwitchPolicy.DR_SWITCH_POLICY_UNSPECIFIED ? DrSwitchPolicy.UPSTREAM
                        : DrSwitchPolicy.fromProto(c.getPolicy()),
                c.getTdxDr() == dev.tdemu.proto.TdxDrBehaviour.TDX_DR_BEHAVIOUR_UNSPECIFIED ? TdxDrBehaviour.INIT_ON_EXIT
                        : TdxDrBehaviour.fromProto(c.getTdxDr()),
                c.getVcpus() == 0 ? 1 : c.getVcpus(), c.getDebugTd(),
                memory,
                c.getHostBreakpointsList().stream().map(HostBreakpoint::fromProto).toList(),
                c.getTimeoutMs() == 0 ? Duration.ZERO : Duration.ofMillis(c.getTimeoutMs()), boot);
    }
}
