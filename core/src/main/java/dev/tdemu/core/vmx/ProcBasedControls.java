package dev.tdemu.core.vmx;

/** Primary processor-based VM-execution controls; only MOV-DR exiting (bit 23) matters here. */
public record ProcBasedControls(int bits) {

    public static final int MOV_DR_EXITING = 1 << 23;

    public boolean movDrExiting() {
        return (bits & MOV_DR_EXITING) != 0;
    }

    public ProcBasedControls withMovDrExiting(boolean on) {
        return new ProcBasedControls(on ? bits | MOV_DR_EXITING : bits & ~MOV_DR_EXITING);
    }

    @Override
    public String toString() {
        return String.format("ProcBasedControls[0x%x]", bits);
    }
}
