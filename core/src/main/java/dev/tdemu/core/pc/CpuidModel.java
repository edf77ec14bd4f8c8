package dev.tdemu.core.pc;

/**
 * What CPUID returns on every vCPU of one machine: one coherent Intel CPU. Vendor GenuineIntel,
 * family 6 model 0x8F stepping 8 (Sapphire Rapids, the first TDX generation, as the emulator's
 * own CPUID table), the instruction features of a {@link CpuidFeatures} profile (by default what
 * the engine executes), the vCPUs as cores of one package with APIC ID = vCPU index, and KVM's
 * hypervisor leaves. Immutable and thread-safe.
 *
 * <p>Leaves: 0x0-0xD, 0x40000000-0x40000001, 0x80000000-0x80000008 (and 0x21 for tdemu's own
 * guests). A leaf above its range's maximum answers as the highest basic leaf, as Intel CPUs and
 * KVM for an Intel guest do. The one bit that changes at run time is CPUID.01H:EDX.APIC, which
 * follows IA32_APIC_BASE.EN (KVM's runtime update): the caller passes the APIC's enable state.
 */
public final class CpuidModel {

    /** Which guest this machine runs: the PC platform, or tdemu's own-ABI guests in a VMX or TD. */
    public enum Flavor {
        /** Multiboot kernels: max basic leaf 0xD, KVM's signature. */
        PC,
        /** tdemu's own guests in a VMX guest: max basic leaf 0x21 (empty), tdemu's signature. */
        TDEMU_VMX,
        /** tdemu's own guests in a TD: leaf 0x21 says "IntelTDX    " (the TDX module answers it). */
        TDEMU_TD
    }

    /** CPUID.01H:EAX: stepping 8, model 0xF, family 6, extended model 8. */
    public static final int SIGNATURE = 0x0008_06F8;
    public static final String BRAND = "Intel Xeon Processor (SapphireRapids, tdemu)";
    public static final int EXTENDED_LEAF = 0x8000_0000;
    public static final int MAX_EXTENDED_LEAF = 0x8000_0008;
    public static final int HYPERVISOR_LEAF = 0x4000_0000;
    /** KVM_CPUID_FEATURES: EAX lists KVM's paravirtual features; tdemu implements none of them. */
    public static final int KVM_CPUID_FEATURES = 0x4000_0001;
    public static final int TDX_LEAF = 0x21;
    private static final int CLFLUSH_LINE_QWORDS = 64 / 8;

    private final int vcpus;
    private final CpuidFeatures features;
    private final Flavor flavor;
    private final int maxBasicLeaf;
    private final int coreIdBits;

    public CpuidModel(int vcpus, CpuidFeatures features, Flavor flavor) {
        if (vcpus < 1 || vcpus > 255) {
            throw new IllegalArgumentException("an xAPIC machine has 1-255 vCPUs: " + vcpus);
        }
        this.vcpus = vcpus;
        this.features = features;
        this.flavor = flavor;
        this.maxBasicLeaf = flavor == Flavor.PC ? 0xD : TDX_LEAF;
        this.coreIdBits = 32 - Integer.numberOfLeadingZeros(vcpus - 1);
    }

    /** A PC machine of {@code vcpus} vCPUs on the engine's feature set. */
    public static CpuidModel pc(int vcpus) {
        return new CpuidModel(vcpus, CpuidFeatures.UNICORN_QEMU64, Flavor.PC);
    }

    public int vcpus() {
        return vcpus;
    }

    public CpuidFeatures features() {
        return features;
    }

    public Flavor flavor() {
        return flavor;
    }

    public int maxBasicLeaf() {
        return maxBasicLeaf;
    }

    /** The initial APIC ID of a vCPU (CPUID.01H:EBX[31:24], CPUID.0BH:EDX). */
    public int apicId(int vcpu) {
        checkVcpu(vcpu);
        return vcpu;
    }

    /**
     * CPUID on {@code vcpu} with EAX = {@code leaf}, ECX = {@code subleaf}.
     *
     * @param apicEnabled IA32_APIC_BASE.EN of that vCPU's local APIC
     */
    public CpuidResult cpuid(int vcpu, int leaf, int subleaf, boolean apicEnabled) {
        checkVcpu(vcpu);
        int l = inRange(leaf) ? leaf : maxBasicLeaf;
        return switch (l) {
            case 0x0 -> new CpuidResult(maxBasicLeaf, CpuidResult.ascii("Genu"), CpuidResult.ascii("ntel"),
                    CpuidResult.ascii("ineI"));
            case 0x1 -> leaf1(vcpu, apicEnabled);
            // 0xFF: no descriptors here, leaf 4 has the caches.
            case 0x2 -> new CpuidResult(0x0000_FF01, 0, 0, 0);
            case 0x4 -> cacheLeaf(subleaf);
            case 0x6 -> new CpuidResult(features.leaf6Eax(), 0, 0, 0);
            case 0x7 -> subleaf == 0 ? new CpuidResult(0, features.leaf7Ebx(), features.leaf7Ecx(), features.leaf7Edx())
                    : CpuidResult.ZERO;
            case 0xB -> topologyLeaf(vcpu, subleaf);
            case TDX_LEAF -> flavor == Flavor.TDEMU_TD
                    ? new CpuidResult(0, CpuidResult.ascii("Inte"), CpuidResult.ascii("    "), CpuidResult.ascii("lTDX"))
                    : CpuidResult.ZERO;
            case HYPERVISOR_LEAF -> hypervisorLeaf();
            case EXTENDED_LEAF -> new CpuidResult(MAX_EXTENDED_LEAF, 0, 0, 0);
            case 0x8000_0001 -> new CpuidResult(0, 0, features.ext1Ecx(), features.ext1Edx());
            case 0x8000_0002, 0x8000_0003, 0x8000_0004 -> brand(l - 0x8000_0002);
            // L2: 2 MiB, 16-way (code 8), 64-byte lines; as leaf 4 says.
            case 0x8000_0006 -> new CpuidResult(0, 0, (2048 << 16) | (0x8 << 12) | 64, 0);
            case MAX_EXTENDED_LEAF -> new CpuidResult((features.linearAddressBits() << 8) | features.physicalAddressBits(), 0,
                    0, 0);
            // 0x3 (serial number), 0x5 (MONITOR), 0x8, 0x9 (DCA), 0xA (no PMU), 0xC, 0xD (no XSAVE), KVM features,
            // 0x80000005 and 0x80000007 (Intel reserves them), and the empty leaves up to 0x21.
            default -> CpuidResult.ZERO;
        };
    }

    private boolean inRange(int leaf) {
        if (Integer.compareUnsigned(leaf, HYPERVISOR_LEAF) < 0) {
            return leaf <= maxBasicLeaf;
        }
        if (Integer.compareUnsigned(leaf, 0x5000_0000) < 0) {
            return leaf <= KVM_CPUID_FEATURES;
        }
        return Integer.compareUnsigned(leaf, EXTENDED_LEAF) >= 0 && Integer.compareUnsigned(leaf, MAX_EXTENDED_LEAF) <= 0;
    }

    private CpuidResult leaf1(int vcpu, boolean apicEnabled) {
        int ebx = (apicId(vcpu) << 24) | (vcpus << 16) | (CLFLUSH_LINE_QWORDS << 8);
        int edx = features.leaf1Edx();
        if (!apicEnabled) {
            edx &= ~CpuidFeatures.APIC;
        }
        if (vcpus > 1) {
            edx |= CpuidFeatures.HT;
        }
        return new CpuidResult(SIGNATURE, ebx, features.leaf1Ecx() | CpuidFeatures.HYPERVISOR, edx);
    }

    /** Deterministic cache parameters: per-core L1d 48 KiB, L1i 32 KiB, L2 2 MiB; an L3 of 32 MiB shared by the package. */
    private CpuidResult cacheLeaf(int subleaf) {
        return switch (subleaf) {
            case 0 -> cache(1, 1, false, 12, 64, 0);
            case 1 -> cache(2, 1, false, 8, 64, 0);
            case 2 -> cache(3, 2, false, 16, 2048, 0);
            case 3 -> cache(3, 3, true, 16, 32768, 0x4);
            default -> CpuidResult.ZERO;
        };
    }

    private CpuidResult cache(int type, int level, boolean shared, int ways, int sets, int edx) {
        int sharing = shared ? (1 << coreIdBits) - 1 : 0;
        int eax = type | (level << 5) | (1 << 8) | (sharing << 14) | (((1 << coreIdBits) - 1) << 26);
        int ebx = (64 - 1) | ((ways - 1) << 22);
        return new CpuidResult(eax, ebx, sets - 1, edx);
    }

    /** Extended topology: level 0 SMT (one thread per core), level 1 core (all vCPUs in one package). */
    private CpuidResult topologyLeaf(int vcpu, int subleaf) {
        int x2apicId = apicId(vcpu);
        return switch (subleaf) {
            case 0 -> new CpuidResult(0, 1, 1 << 8, x2apicId);
            case 1 -> new CpuidResult(coreIdBits, vcpus, 1 | (2 << 8), x2apicId);
            default -> new CpuidResult(0, 0, subleaf & 0xFF, x2apicId);
        };
    }

    private CpuidResult hypervisorLeaf() {
        String signature = flavor == Flavor.PC ? "KVMKVMKVM\0\0\0" : "tdemtdemtdem";
        return new CpuidResult(KVM_CPUID_FEATURES, CpuidResult.ascii(signature.substring(0, 4)),
                CpuidResult.ascii(signature.substring(4, 8)), CpuidResult.ascii(signature.substring(8, 12)));
    }

    private static CpuidResult brand(int part) {
        StringBuilder s = new StringBuilder(BRAND);
        while (s.length() < 48) {
            s.append('\0');
        }
        int base = part * 16;
        return new CpuidResult(CpuidResult.ascii(s.substring(base, base + 4)), CpuidResult.ascii(s.substring(base + 4, base + 8)),
                CpuidResult.ascii(s.substring(base + 8, base + 12)), CpuidResult.ascii(s.substring(base + 12, base + 16)));
    }

    private void checkVcpu(int vcpu) {
        if (vcpu < 0 || vcpu >= vcpus) {
            throw new IllegalArgumentException("vCPU " + vcpu + " of a " + vcpus + "-vCPU machine");
        }
    }
}
