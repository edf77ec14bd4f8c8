package dev.tdemu.emulator.elf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Builds small ELF64 files in memory so tests can produce valid and malformed images. */
public final class ElfBuilder {
    public record Seg(int type, int flags, long vaddr, byte[] data, long memsz) {}

    public int machine = 62;
    public int elfType = 2;
    public byte elfClass = 2;
    public byte dataEncoding = 1;
    public long entry = 0x100000;
    public final List<Seg> segs = new ArrayList<>();

    public ElfBuilder load(int flags, long vaddr, byte[] data, long memsz) {
        segs.add(new Seg(1, flags, vaddr, data, memsz));
        return this;
    }

    public ElfBuilder note() {
        segs.add(new Seg(4, 4, 0, new byte[8], 8));
        return this;
    }

    public byte[] build() {
        int phoff = 64;
        int dataStart = phoff + 56 * segs.size();
        int total = dataStart + segs.stream().mapToInt(s -> s.data.length).sum();
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', elfClass, dataEncoding, 1, 0});
        b.position(16);
        b.putShort((short) elfType).putShort((short) machine).putInt(1).putLong(entry).putLong(phoff).putLong(0)
                .putInt(0).putShort((short) 64).putShort((short) 56).putShort((short) segs.size())
                .putShort((short) 64).putShort((short) 0).putShort((short) 0);
        int off = dataStart;
        for (int i = 0; i < segs.size(); i++) {
            Seg s = segs.get(i);
            b.position(phoff + 56 * i);
            b.putInt(s.type).putInt(s.flags).putLong(off).putLong(s.vaddr).putLong(s.vaddr)
                    .putLong(s.data.length).putLong(s.memsz).putLong(0x1000);
            b.put(off, s.data);
            off += s.data.length;
        }
        return b.array();
    }

    public static ElfBuilder valid() {
        return new ElfBuilder().load(5, 0x100000, new byte[] {(byte) 0xf4}, 0x1000)
                .load(6, 0x101000, new byte[] {1, 2, 3}, 0x2000);
    }
}
