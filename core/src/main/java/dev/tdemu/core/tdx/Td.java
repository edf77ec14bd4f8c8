package dev.tdemu.core.tdx;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One trust domain's TD-scope state in the TDX module (its TDR/TDCS): the parameters it was
 * created with, its vCPUs in creation order (VCPU_INDEX), the acceptance state of its private
 * pages, and the TD-scope metadata the TD may write. All vCPUs of the TD share it, so its state
 * changes under its own lock.
 *
 * <p>Private page model: the host maps a pending page at the size the TD accepts it with (KVM maps
 * on the EPT violation TDG.MEM.PAGE.ACCEPT causes), so a page is pending until accepted, then
 * mapped at 4 KiB or 2 MiB. Pages the host added before the TD ran are mapped and accepted at 4 KiB.
 */
public final class Td {

    /** What TDG.MEM.PAGE.ACCEPT found for a page. */
    public enum Acceptance {
        /** The page was pending and is now accepted. */
        ACCEPTED,
        /** Already accepted, mapped as 4 KiB page(s). */
        ALREADY_ACCEPTED_4K,
        /** Already accepted as (part of) a 2 MiB page. */
        ALREADY_ACCEPTED_2M,
        /** A 2 MiB acceptance of a range that has 4 KiB mappings. */
        SIZE_MISMATCH,
        /** No private memory backs (all of) the page: the host cannot map it. */
        NO_PRIVATE_PAGE
    }

    private final TdParams params;
    private final List<TdVcpu> vcpus = new ArrayList<>();
    /** Page numbers (GPA >> 12) accepted at 4 KiB beyond the initially accepted range. */
    private final Set<Long> accepted4k = new HashSet<>();
    /** 2 MiB region numbers (GPA >> 21) accepted as 2 MiB pages. */
    private final Set<Long> accepted2m = new HashSet<>();
    /** TDCS NOTIFY_ENABLES: bit 0, notify the host of zero-step attack suspicion; the TD writes it. */
    private long notifyEnables;

    public Td(TdParams params) {
        this.params = java.util.Objects.requireNonNull(params);
    }

    public TdParams params() {
        return params;
    }

    public TdAttributes attributes() {
        return params.attributes();
    }

    /**
     * TDH.VP.CREATE + TDH.VP.INIT: a new vCPU with the next VCPU_INDEX. More than MAX_VCPUS is the
     * host's error (the module refuses it with TDX_MAX_VCPUS_EXCEEDED); tdemu's VMM never asks.
     */
    public synchronized TdVcpu addVcpu() {
        if (vcpus.size() >= params.maxVcpus()) {
            throw new IllegalStateException("the TD already has its MAX_VCPUS (" + params.maxVcpus() + ") vCPUs");
        }
        TdVcpu v = new TdVcpu(this, vcpus.size());
        vcpus.add(v);
        return v;
    }

    /** NUM_VCPUS: the vCPUs initialized so far. */
    public synchronized int numVcpus() {
        return vcpus.size();
    }

    public synchronized long notifyEnables() {
        return notifyEnables;
    }

    synchronized void setNotifyEnables(long value) {
        notifyEnables = value;
    }

    /** The size at which the private page holding {@code gpa} is accepted, or empty while it is pending. */
    public synchronized Optional<PageLevel> acceptedAt(long gpa) {
        if (accepted2m.contains(gpa >>> 21)) {
            return Optional.of(PageLevel.SIZE_2M);
        }
        if (Long.compareUnsigned(gpa, params.initiallyAcceptedBytes()) < 0 || accepted4k.contains(gpa >>> 12)) {
            return Optional.of(PageLevel.SIZE_4K);
        }
        return Optional.empty();
    }

    /** TDG.MEM.PAGE.ACCEPT's state change for an aligned private {@code gpa} at {@code level} (4K or 2M). */
    synchronized Acceptance accept(long gpa, PageLevel level) {
        long end = gpa + level.bytes();
        if (Long.compareUnsigned(end, params.privateMemoryBytes()) > 0) {
            return Acceptance.NO_PRIVATE_PAGE;
        }
        if (accepted2m.contains(gpa >>> 21)) {
            return Acceptance.ALREADY_ACCEPTED_2M;
        }
        if (level == PageLevel.SIZE_4K) {
            if (acceptedAt(gpa).isPresent()) {
                return Acceptance.ALREADY_ACCEPTED_4K;
            }
            accepted4k.add(gpa >>> 12);
            return Acceptance.ACCEPTED;
        }
        if (Long.compareUnsigned(gpa, params.initiallyAcceptedBytes()) < 0 || any4kIn(gpa >>> 12, 512)) {
            return Acceptance.SIZE_MISMATCH;
        }
        accepted2m.add(gpa >>> 21);
        return Acceptance.ACCEPTED;
    }

    private boolean any4kIn(long firstPage, int pages) {
        if (accepted4k.size() < pages) {
            for (long p : accepted4k) {
                if (p - firstPage >= 0 && p - firstPage < pages) {
                    return true;
                }
            }
            return false;
        }
        for (int i = 0; i < pages; i++) {
            if (accepted4k.contains(firstPage + i)) {
                return true;
            }
        }
        return false;
    }
}
