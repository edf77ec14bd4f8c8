package dev.tdemu.gdbstub.registers;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The registers the stub exposes: their numbers, names, sizes, the order and offsets of the
 * {@code g} packet, and the XML target description that tells gdb all of this.
 *
 * <p>Register numbers are dense, starting at 0, in declaration order; the {@code g} packet holds
 * every register in number order, little-endian, so a register's offset is the sum of the sizes
 * before it. The standard x86-64 layout is {@link #x86_64()} (numbers in {@link X86_64Registers});
 * a target that wants more registers extends it with {@link #extend()} and a feature of its own.
 */
public final class RegisterLayout {

    /** A target-description feature: a name, optional type definitions, and its registers. */
    public record Feature(String name, String typeDefinitionsXml, List<RegisterDef> registers) {
        public Feature {
            Objects.requireNonNull(name, "name");
            typeDefinitionsXml = typeDefinitionsXml == null ? "" : typeDefinitionsXml;
            registers = List.copyOf(registers);
        }
    }

    private final String architecture;
    private final List<Feature> features;
    private final List<RegisterDef> registers;
    private final Map<String, RegisterDef> byName;
    private final int gPacketSize;
    private final int pcRegnum;
    private final List<Integer> expedited;
    private volatile String targetXml;

    private RegisterLayout(String architecture, List<Feature> features, int pcRegnum, List<Integer> expedited) {
        this.architecture = architecture;
        this.features = List.copyOf(features);
        List<RegisterDef> all = new ArrayList<>();
        Map<String, RegisterDef> names = new HashMap<>();
        for (Feature f : this.features) {
            for (RegisterDef r : f.registers()) {
                all.add(r);
                if (names.put(r.name(), r) != null) {
                    throw new IllegalArgumentException("register name used twice: " + r.name());
                }
            }
        }
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).regnum() != i) {
                throw new IllegalStateException("register numbers must be dense: " + all.get(i));
            }
        }
        this.registers = Collections.unmodifiableList(all);
        this.byName = Collections.unmodifiableMap(names);
        RegisterDef last = all.isEmpty() ? null : all.getLast();
        this.gPacketSize = last == null ? 0 : last.offset() + last.byteSize();
        if (pcRegnum < 0 || pcRegnum >= all.size()) {
            throw new IllegalArgumentException("program counter register number out of range: " + pcRegnum);
        }
        this.pcRegnum = pcRegnum;
        this.expedited = List.copyOf(expedited);
    }

    /** The standard layout: x86-64 core, SSE, segment bases, control registers, debug registers. */
    public static RegisterLayout x86_64() {
        return X86_64Registers.LAYOUT;
    }

    /** Starts a new layout for the BFD architecture name gdb should use ({@code "i386:x86-64"}). */
    public static Builder builder(String architecture) {
        return new Builder(architecture);
    }

    /** A builder that starts with all of this layout's features, to append more. */
    public Builder extend() {
        Builder b = new Builder(architecture);
        for (Feature f : features) {
            b.feature(f.name(), f.typeDefinitionsXml());
            for (RegisterDef r : f.registers()) {
                b.register(r.name(), r.bitSize(), r.type(), r.group());
            }
        }
        b.programCounter(registers.get(pcRegnum).name());
        b.expedite(expedited.stream().map(n -> registers.get(n).name()).toArray(String[]::new));
        return b;
    }

    public String architecture() {
        return architecture;
    }

    public List<Feature> features() {
        return features;
    }

    /** All registers, indexed by register number. */
    public List<RegisterDef> registers() {
        return registers;
    }

    public int registerCount() {
        return registers.size();
    }

    /** The register with this number; throws for numbers outside the layout. */
    public RegisterDef register(int regnum) {
        if (regnum < 0 || regnum >= registers.size()) {
            throw new IllegalArgumentException("no register number " + regnum + " in this layout");
        }
        return registers.get(regnum);
    }

    public boolean isValidRegnum(int regnum) {
        return regnum >= 0 && regnum < registers.size();
    }

    public Optional<RegisterDef> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The number of the register called {@code name}; throws if there is none. */
    public int regnum(String name) {
        RegisterDef r = byName.get(name);
        if (r == null) {
            throw new IllegalArgumentException("no register named " + name);
        }
        return r.regnum();
    }

    /** Size in bytes of a full {@code g} packet (twice that in hex digits). */
    public int gPacketSize() {
        return gPacketSize;
    }

    /** The number of the program counter register, sent in every stop reply. */
    /**
     * The registers every stop reply carries (the program counter and whatever else gdb needs to
     * identify the frame), so that gdb need not read all registers after each stop.
     */
    public List<Integer> expedited() {
        return expedited;
    }

    public int pcRegnum() {
        return pcRegnum;
    }

    /** The {@code target.xml} document served through {@code qXfer:features:read}. */
    public String targetXml() {
        String xml = targetXml;
        if (xml == null) {
            xml = TargetDescriptionXml.render(this);
            targetXml = xml;
        }
        return xml;
    }

    @Override
    public String toString() {
        return "RegisterLayout[" + architecture + ", " + registers.size() + " registers, g=" + gPacketSize + " bytes]";
    }

    /** Builds a layout feature by feature; registers get consecutive numbers. */
    public static final class Builder {
        private final String architecture;
        private final LinkedHashMap<String, String> featureTypes = new LinkedHashMap<>();
        private final LinkedHashMap<String, List<RegisterDef>> featureRegs = new LinkedHashMap<>();
        private String currentFeature;
        private int nextRegnum;
        private int nextOffset;
        private String pcName;
        private List<String> expediteNames = List.of();

        private Builder(String architecture) {
            this.architecture = Objects.requireNonNull(architecture, "architecture");
        }

        /**
         * Opens a feature; the registers that follow belong to it.
         *
         * @param name               the feature name, e.g. {@code org.gnu.gdb.i386.core} or one of
         *                           our own such as {@code dev.tdemu.debugregs}
         * @param typeDefinitionsXml {@code <flags>}, {@code <vector>}, {@code <union>} ... elements
         *                           the registers refer to; empty if none
         */
        public Builder feature(String name, String typeDefinitionsXml) {
            if (featureRegs.containsKey(name)) {
                throw new IllegalArgumentException("feature declared twice: " + name);
            }
            featureTypes.put(name, typeDefinitionsXml == null ? "" : typeDefinitionsXml);
            featureRegs.put(name, new ArrayList<>());
            currentFeature = name;
            return this;
        }

        public Builder feature(String name) {
            return feature(name, "");
        }

        /** Appends a register to the current feature with the next number. */
        public Builder register(String name, int bitSize, String type, String group) {
            if (currentFeature == null) {
                throw new IllegalStateException("declare a feature before its registers");
            }
            RegisterDef r = new RegisterDef(nextRegnum, name, bitSize, type, group, currentFeature, nextOffset);
            featureRegs.get(currentFeature).add(r);
            nextRegnum++;
            nextOffset += r.byteSize();
            return this;
        }

        public Builder register(String name, int bitSize, String type) {
            return register(name, bitSize, type, null);
        }

        /** Names the program counter register (reported in stop replies). */
        public Builder programCounter(String name) {
            this.pcName = name;
            return this;
        }

        /** Registers to expedite in stop replies, in this order (the program counter is always among them). */
        public Builder expedite(String... names) {
            this.expediteNames = List.of(names);
            return this;
        }

        public RegisterLayout build() {
            List<Feature> features = new ArrayList<>();
            int pc = -1;
            for (var e : featureRegs.entrySet()) {
                features.add(new Feature(e.getKey(), featureTypes.get(e.getKey()), e.getValue()));
                for (RegisterDef r : e.getValue()) {
                    if (r.name().equals(pcName)) {
                        pc = r.regnum();
                    }
                }
            }
            if (pc < 0) {
                throw new IllegalStateException("program counter register not declared: " + pcName);
            }
            List<Integer> expedite = new ArrayList<>();
            for (String name : expediteNames) {
                int regnum = -1;
                for (Feature f : features) {
                    for (RegisterDef r : f.registers()) {
                        if (r.name().equals(name)) {
                            regnum = r.regnum();
                        }
                    }
                }
                if (regnum < 0) {
                    throw new IllegalStateException("expedited register not declared: " + name);
                }
                expedite.add(regnum);
            }
            if (!expedite.contains(pc)) {
                expedite.add(pc);
            }
            return new RegisterLayout(architecture, features, pc, expedite);
        }
    }
}
