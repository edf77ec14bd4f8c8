package dev.tdemu.emulator.unicorn;

/**
 * A Unicorn engine version as {@code uc_version()} reports it. Unicorn 2 packs
 * {@code major << 24 | minor << 16 | patch << 8 | extra} (2.1.1 is {@code 0x020101ff});
 * Unicorn 1 returned {@code major << 8 | minor}.
 */
public record UnicornVersion(int major, int minor, int patch) implements Comparable<UnicornVersion> {
    /** The oldest engine tdemu runs on: 2.0 walks guest page tables wrongly. */
    public static final UnicornVersion MINIMUM = new UnicornVersion(2, 1, 0);

    /** What to do about a missing or too old engine, for every message that refuses one. */
    public static final String INSTALL_HINT = "install the package libunicorn2t64 (Unicorn >= 2.1; Debian trixie or "
            + "newer, on bookworm take it from trixie with a low pin priority) or run ./tdemu setup as root";

    public static UnicornVersion fromPacked(int packed) {
        if ((packed >>> 24) == 0) { // Unicorn 1.x: (major << 8) + minor
            return new UnicornVersion((packed >>> 8) & 0xff, packed & 0xff, 0);
        }
        return new UnicornVersion(packed >>> 24, (packed >>> 16) & 0xff, (packed >>> 8) & 0xff);
    }

    /** Whether an engine reporting {@code packed} from {@code uc_version} is new enough. */
    public static boolean isSupported(int packed) {
        return fromPacked(packed).compareTo(MINIMUM) >= 0;
    }

    /**
     * Accepts an engine reporting {@code packed} from {@code uc_version}, or refuses it with a message
     * naming the package to install.
     */
    public static UnicornVersion requireSupported(int packed) {
        UnicornVersion v = fromPacked(packed);
        if (v.compareTo(MINIMUM) < 0) {
            throw new UnicornUnavailableException(String.format(
                    "libunicorn.so.2 is Unicorn %s (uc_version 0x%08x) but tdemu needs Unicorn >= %d.%d: %s",
                    v, packed, MINIMUM.major, MINIMUM.minor, INSTALL_HINT), UcError.VERSION, null);
        }
        return v;
    }

    @Override
    public int compareTo(UnicornVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) {
            c = Integer.compare(minor, o.minor);
        }
        return c != 0 ? c : Integer.compare(patch, o.patch);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }
}
