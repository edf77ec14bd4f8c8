package dev.tdemu.core.pc;

import dev.tdemu.core.platform.PortBus;
import dev.tdemu.core.platform.PortDevice;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * QEMU's firmware configuration device (fw_cfg), legacy I/O interface only, as QEMU's
 * {@code docs/specs/fw_cfg} describes it for x86: a 16-bit write to the selector port 0x510
 * selects an item and resets the data offset to 0; each 8-bit read of the data port 0x511 returns
 * the item's next byte, and 0 once past its end or for a key that holds nothing. As in QEMU the two
 * ports form one region: an 8-bit read of either reads data, a 16-bit write to either selects, and
 * 8-bit writes (the data writes QEMU dropped in v2.4) are ignored; the accesses QEMU refuses
 * (16-bit reads, 32-bit accesses) read all-ones and change nothing. The write-channel bit 14 of a
 * key is ignored for reads, as in QEMU.
 *
 * <p>Items: signature ("QEMU"), ID (bit 0 only: traditional interface, no DMA), UUID, RAM size,
 * NOGRAPHIC, NB_CPUS, MAX_CPUS, BOOT_MENU, the x86 IRQ0-override flag, named files from 0x20 on
 * with the big-endian FILE_DIR (sorted by name, as QEMU's current machines do), and any raw key
 * the emulator adds. Not modelled: the DMA interface (its register at 0x514 is left unclaimed, so
 * it reads all-ones, and ID says there is none) and item writes.
 */
public final class FwCfg implements PortDevice {
    public static final int SELECTOR_PORT = 0x510;
    public static final int DATA_PORT = 0x511;
    /** The DMA address register, which this model leaves unclaimed. */
    public static final int DMA_PORT = 0x514;

    // Keys, with QEMU's fw_cfg_keys.h names.
    public static final int FW_CFG_SIGNATURE = 0x00;
    public static final int FW_CFG_ID = 0x01;
    public static final int FW_CFG_UUID = 0x02;
    public static final int FW_CFG_RAM_SIZE = 0x03;
    public static final int FW_CFG_NOGRAPHIC = 0x04;
    public static final int FW_CFG_NB_CPUS = 0x05;
    public static final int FW_CFG_MACHINE_ID = 0x06;
    public static final int FW_CFG_BOOT_MENU = 0x0E;
    public static final int FW_CFG_MAX_CPUS = 0x0F;
    public static final int FW_CFG_FILE_DIR = 0x19;
    public static final int FW_CFG_FILE_FIRST = 0x20;
    public static final int FW_CFG_WRITE_CHANNEL = 0x4000;
    public static final int FW_CFG_ARCH_LOCAL = 0x8000;
    public static final int FW_CFG_ENTRY_MASK = 0x3FFF;
    /** x86: whether the MADT overrides IRQ 0 to GSI 2 (QEMU answers 1). */
    public static final int FW_CFG_IRQ0_OVERRIDE = FW_CFG_ARCH_LOCAL + 2;

    /** FW_CFG_ID bit 0: the traditional (selector/data) interface. */
    public static final int FW_CFG_VERSION = 0x01;
    /** A FILE_DIR entry's name field, NUL-terminated. */
    public static final int FILE_NAME_SIZE = 56;

    private static final byte[] NOTHING = new byte[0];

    private final Map<Integer, byte[]> items;
    private int selector;
    private byte[] current = NOTHING;
    private int offset;

    private FwCfg(Map<Integer, byte[]> items) {
        this.items = Map.copyOf(items);
        reset();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Claims the selector and data ports (0x510, 0x511); 0x514 stays unclaimed. */
    public void attachTo(PortBus bus) {
        bus.register("fw_cfg", SELECTOR_PORT, 2, this);
    }

    /** Selects key 0 (the signature) at offset 0. */
    public void reset() {
        select(FW_CFG_SIGNATURE);
    }

    /** The selector last written. */
    public int selector() {
        return selector;
    }

    /** The bytes of item {@code key} (write-channel bit ignored), empty when the key holds nothing. */
    public byte[] item(int key) {
        return items.getOrDefault(key & ~FW_CFG_WRITE_CHANNEL, NOTHING).clone();
    }

    @Override
    public long in(int port, int size) {
        if (size != 1) {
            return PortBus.mask(size); // QEMU refuses wide reads of the data port
        }
        if (offset >= current.length) {
            return 0;
        }
        return current[offset++] & 0xFF;
    }

    @Override
    public void out(int port, int size, long value) {
        if (size == 2) {
            select((int) value & 0xFFFF);
        }
        // 8-bit data writes are ignored since QEMU v2.4; 32-bit writes are refused.
    }

    private void select(int key) {
        selector = key;
        current = items.getOrDefault(key & ~FW_CFG_WRITE_CHANNEL, NOTHING);
        offset = 0;
    }

    /** The items a PC's fw_cfg holds; build once, before the guest runs. */
    public static final class Builder {
        private final Map<Integer, byte[]> items = new HashMap<>();
        private final TreeMap<String, byte[]> files = new TreeMap<>();

        private Builder() {
            items.put(FW_CFG_SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII));
            items.put(FW_CFG_ID, le(FW_CFG_VERSION, 4));
            items.put(FW_CFG_UUID, new byte[16]);
            items.put(FW_CFG_NOGRAPHIC, le(1, 2));
            items.put(FW_CFG_BOOT_MENU, le(0, 2));
            items.put(FW_CFG_IRQ0_OVERRIDE, le(1, 4));
            cpus(1, 1);
            ramSize(0);
        }

        /** FW_CFG_RAM_SIZE: the guest's RAM in bytes (64-bit little-endian). */
        public Builder ramSize(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("fw_cfg: RAM size " + bytes + " is negative");
            }
            items.put(FW_CFG_RAM_SIZE, le(bytes, 8));
            return this;
        }

        /** FW_CFG_NB_CPUS (CPUs present at boot) and FW_CFG_MAX_CPUS (QEMU: the APIC ID limit), both 16-bit. */
        public Builder cpus(int nbCpus, int maxCpus) {
            if (nbCpus < 1 || maxCpus < nbCpus || maxCpus > 0xFFFF) {
                throw new IllegalArgumentException("fw_cfg: " + nbCpus + " CPUs of at most " + maxCpus + " is not a CPU count");
            }
            items.put(FW_CFG_NB_CPUS, le(nbCpus, 2));
            items.put(FW_CFG_MAX_CPUS, le(maxCpus, 2));
            return this;
        }

        /** FW_CFG_NOGRAPHIC: 1 when the VM has no display (the default: tdemu has none). */
        public Builder noGraphic(boolean noGraphic) {
            items.put(FW_CFG_NOGRAPHIC, le(noGraphic ? 1 : 0, 2));
            return this;
        }

        /** FW_CFG_UUID: the VM's 16-byte UUID (zero by default). */
        public Builder uuid(byte[] uuid) {
            if (uuid.length != 16) {
                throw new IllegalArgumentException("fw_cfg: a UUID has 16 bytes, not " + uuid.length);
            }
            items.put(FW_CFG_UUID, uuid.clone());
            return this;
        }

        /** Any item below the file range (the emulator's own additions). */
        public Builder item(int key, byte[] data) {
            int index = key & FW_CFG_ENTRY_MASK;
            if ((key & ~(FW_CFG_ARCH_LOCAL | FW_CFG_ENTRY_MASK)) != 0 || index == FW_CFG_FILE_DIR || index >= FW_CFG_FILE_FIRST) {
                throw new IllegalArgumentException(String.format("fw_cfg: key 0x%x is not a plain item key (the file directory and files are built from file())", key));
            }
            items.put(key, data.clone());
            return this;
        }

        /** A named file ({@code etc/...}, {@code opt/...}), listed in FILE_DIR. */
        public Builder file(String name, byte[] data) {
            byte[] encoded = name.getBytes(StandardCharsets.US_ASCII);
            if (name.isEmpty() || encoded.length >= FILE_NAME_SIZE || !StandardCharsets.US_ASCII.newEncoder().canEncode(name)
                    || name.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("fw_cfg: file name '" + name + "' must be 1 to " + (FILE_NAME_SIZE - 1) + " ASCII characters");
            }
            if (files.putIfAbsent(name, data.clone()) != null) {
                throw new IllegalArgumentException("fw_cfg: file '" + name + "' is added twice");
            }
            if (files.size() > FW_CFG_ENTRY_MASK + 1 - FW_CFG_FILE_FIRST) {
                throw new IllegalArgumentException("fw_cfg: too many files");
            }
            return this;
        }

        public FwCfg build() {
            Map<Integer, byte[]> all = new HashMap<>(items);
            ByteBuffer dir = ByteBuffer.allocate(4 + 64 * files.size()).order(ByteOrder.BIG_ENDIAN);
            dir.putInt(files.size());
            int key = FW_CFG_FILE_FIRST;
            for (var f : files.entrySet()) {
                dir.putInt(f.getValue().length);
                dir.putShort((short) key);
                dir.putShort((short) 0);
                dir.put(Arrays.copyOf(f.getKey().getBytes(StandardCharsets.US_ASCII), FILE_NAME_SIZE));
                all.put(key, f.getValue());
                key++;
            }
            all.put(FW_CFG_FILE_DIR, dir.array());
            return new FwCfg(all);
        }

        private static byte[] le(long value, int size) {
            byte[] b = new byte[size];
            for (int i = 0; i < size; i++) {
                b[i] = (byte) (value >>> (8 * i));
            }
            return b;
        }
    }
}
