package dev.tdemu.core.vmx;

import dev.tdemu.core.x86.ExceptionVector;

/** The VMX exception bitmap: bit v set makes exception vector v cause a VM exit. */
public record ExceptionBitmap(int bits) {

    public static final ExceptionBitmap NONE = new ExceptionBitmap(0);

    public static ExceptionBitmap of(ExceptionVector... vectors) {
        ExceptionBitmap b = NONE;
        for (ExceptionVector v : vectors) {
            b = b.with(v);
        }
        return b;
    }

    public boolean intercepts(ExceptionVector vector) {
        return (bits & (1 << vector.vector())) != 0;
    }

    public ExceptionBitmap with(ExceptionVector vector) {
        return new ExceptionBitmap(bits | (1 << vector.vector()));
    }

    public ExceptionBitmap without(ExceptionVector vector) {
        return new ExceptionBitmap(bits & ~(1 << vector.vector()));
    }

    public ExceptionBitmap or(ExceptionBitmap other) {
        return new ExceptionBitmap(bits | other.bits);
    }

    @Override
    public String toString() {
        return String.format("ExceptionBitmap[0x%x]", bits);
    }
}
