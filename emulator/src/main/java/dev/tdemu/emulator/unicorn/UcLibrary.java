package dev.tdemu.emulator.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Finds libunicorn.so.2 and checks its version, once per process. Failures are kept and reported
 * as a clear {@link UnicornUnavailableException} on every use instead of a linkage error.
 */
@SuppressWarnings("restricted") // this is the FFM binding: restricted methods are its job
final class UcLibrary {
    /** System property naming another library file or path (tests of the refusal paths). */
    static final String LIBRARY_PROPERTY = "tdemu.unicorn.library";
    static final String DEFAULT_LIBRARY = "libunicorn.so.2";

    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.unicorn");
    private static final Object STATE = load();

    private UcLibrary() {
    }

    /** The library's symbols, or the reason it cannot be used. */
    static SymbolLookup require() {
        if (STATE instanceof UnicornUnavailableException e) {
            // A fresh exception per caller, so each stack trace shows who needed the engine.
            throw new UnicornUnavailableException(e.getMessage(), e.error(), e);
        }
        return ((Loaded) STATE).symbols;
    }

    static UnicornVersion version() {
        require();
        return ((Loaded) STATE).version;
    }

    private record Loaded(SymbolLookup symbols, UnicornVersion version) {
    }

    private static Object load() {
        String name = System.getProperty(LIBRARY_PROPERTY, DEFAULT_LIBRARY);
        SymbolLookup symbols;
        try {
            symbols = SymbolLookup.libraryLookup(name, Arena.global());
        } catch (IllegalArgumentException e) {
            return new UnicornUnavailableException("the Unicorn CPU engine (" + name + ") was not found: "
                    + UnicornVersion.INSTALL_HINT, null, e);
        } catch (IllegalCallerException e) {
            return new UnicornUnavailableException("native access to the Unicorn CPU engine is disabled: run java "
                    + "with --enable-native-access=ALL-UNNAMED (the tdemu launcher does)", null, e);
        }
        try {
            MethodHandle ucVersion = Linker.nativeLinker().downcallHandle(
                    symbols.find("uc_version").orElseThrow(() -> new IllegalArgumentException("no symbol uc_version")),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            int packed = (int) ucVersion.invokeExact(MemorySegment.NULL, MemorySegment.NULL);
            UnicornVersion v = UnicornVersion.requireSupported(packed);
            LOG.debug("loaded {}: Unicorn {} (uc_version 0x{})", name, v, Integer.toHexString(packed));
            return new Loaded(symbols, v);
        } catch (UnicornUnavailableException e) {
            return e;
        } catch (Throwable e) {
            return new UnicornUnavailableException(name + " is not a usable Unicorn 2 library (" + e + "): "
                    + UnicornVersion.INSTALL_HINT, null, e);
        }
    }
}
