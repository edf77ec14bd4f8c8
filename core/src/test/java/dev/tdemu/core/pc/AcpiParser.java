package dev.tdemu.core.pc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads ACPI tables out of guest memory the way a kernel does (RSDP scan, RSDT/XSDT walk),
 * checking every checksum and length on the way; any violation is an AssertionError naming it.
 */
final class AcpiParser {
    /** Guest memory holding the image. */
    private final byte[] memory;
    private final long base;

    AcpiParser(AcpiTables.Image image) {
        this.memory = image.bytes();
        this.base = image.address();
    }

    record Table(String signature, long address, int length, int revision, ByteBuffer data) {
        int u8(int offset) {
            return data.get(offset) & 0xFF;
        }

        int u16(int offset) {
            return data.getShort(offset) & 0xFFFF;
        }

        long u32(int offset) {
            return data.getInt(offset) & 0xFFFF_FFFFL;
        }

        long u64(int offset) {
            return data.getLong(offset);
        }
    }

    record Rsdp(long address, int revision, long rsdt, long xsdt, String oemId) {
    }

    /** One MADT interrupt-controller structure. */
    record MadtEntry(int type, ByteBuffer data) {
        int u8(int offset) {
            return data.get(offset) & 0xFF;
        }

        int u16(int offset) {
            return data.getShort(offset) & 0xFFFF;
        }

        long u32(int offset) {
            return data.getInt(offset) & 0xFFFF_FFFFL;
        }
    }

    private ByteBuffer at(long address, int length) {
        long offset = address - base;
        if (offset < 0 || offset + length > memory.length) {
            throw new AssertionError(String.format("0x%x+%d is outside the image", address, length));
        }
        return ByteBuffer.wrap(memory, (int) offset, length).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void assertChecksum(ByteBuffer b, int length, String what) {
        int sum = 0;
        for (int i = 0; i < length; i++) {
            sum += b.get(i);
        }
        if ((sum & 0xFF) != 0) {
            throw new AssertionError(what + " checksum is off by " + (sum & 0xFF));
        }
    }

    /** Scans 0xE0000-0xFFFFF on 16-byte boundaries for "RSD PTR " as kvm-unit-tests' get_rsdp does. */
    Rsdp findRsdp() {
        for (long a = 0xE0000; a < 0x100000; a += 16) {
            if (a < base || a + 8 > base + memory.length) {
                continue;
            }
            String sig = new String(at(a, 8).array(), (int) (a - base), 8, StandardCharsets.US_ASCII);
            if (sig.equals("RSD PTR ")) {
                ByteBuffer b = at(a, 36);
                assertChecksum(b, 20, "RSDP");
                int revision = b.get(15);
                if (revision >= 2) {
                    if (b.getInt(20) != 36) {
                        throw new AssertionError("RSDP length " + b.getInt(20));
                    }
                    assertChecksum(b, 36, "RSDP extended");
                }
                byte[] oem = new byte[6];
                b.get(9, oem);
                return new Rsdp(a, revision, b.getInt(16) & 0xFFFF_FFFFL, revision >= 2 ? b.getLong(24) : 0,
                        new String(oem, StandardCharsets.US_ASCII));
            }
        }
        throw new AssertionError("no RSDP in the BIOS area");
    }

    Table table(long address) {
        int length = at(address, 8).getInt(4);
        if (length < AcpiTables.HEADER_SIZE) {
            throw new AssertionError(String.format("table at 0x%x is %d bytes", address, length));
        }
        ByteBuffer b = at(address, length);
        byte[] sig = new byte[4];
        b.get(0, sig);
        String signature = new String(sig, StandardCharsets.US_ASCII);
        assertChecksum(b, length, signature);
        return new Table(signature, address, length, b.get(8) & 0xFF, b);
    }

    /** The tables an RSDT (4-byte entries) or XSDT (8-byte entries) lists. */
    List<Table> entries(Table sdt, int entrySize) {
        List<Table> tables = new ArrayList<>();
        for (int o = AcpiTables.HEADER_SIZE; o < sdt.length(); o += entrySize) {
            tables.add(table(entrySize == 4 ? sdt.u32(o) : sdt.u64(o)));
        }
        return tables;
    }

    Table find(String signature) {
        Rsdp rsdp = findRsdp();
        Table xsdt = table(rsdp.xsdt());
        return entries(xsdt, 8).stream().filter(t -> t.signature().equals(signature)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + signature));
    }

    /** The FACS (no checksum; 64 bytes). */
    ByteBuffer facs(long address) {
        ByteBuffer b = at(address, 64);
        return b;
    }

    static List<MadtEntry> madtEntries(Table madt) {
        List<MadtEntry> entries = new ArrayList<>();
        int o = 44;
        while (o < madt.length()) {
            int type = madt.u8(o);
            int length = madt.u8(o + 1);
            if (length < 2 || o + length > madt.length()) {
                throw new AssertionError("MADT entry at " + o + " has length " + length);
            }
            entries.add(new MadtEntry(type, madt.data().slice(o, length).order(ByteOrder.LITTLE_ENDIAN)));
            o += length;
        }
        return entries;
    }
}
