/* pc64-serial: COM1 (16550A) from the guest's side, and COM2-COM4 absent.
 *
 *   uart.lsr.*       LSR after reset and after a byte: THRE and TEMT set, DR clear
 *   uart.scr.*       the scratch register keeps what is written
 *   uart.dlab.*      with LCR.DLAB the first two ports are the divisor latch (DLL, DLM) and a
 *                    write there transmits nothing; without it they are RBR/THR and IER again
 *   uart.lcr / mcr   LCR and MCR read back
 *   uart.iir.*       IIR: no interrupt, FIFO bits after FCR, THR empty pending with IER.THRI,
 *                    cleared by reading IIR, pending again after a write to THR
 *   uart.loop.*      loopback (MCR bit 4): a byte written comes back in RBR with LSR.DR and is
 *                    not transmitted; MSR's inputs follow RTS, DTR, OUT1, OUT2
 *   absent.*         every port of COM2 (0x2F8), COM3 (0x3E8) and COM4 (0x2E8) reads 0xFF
 *
 * Between the checks it writes, for the test to compare byte for byte: "bytes<" then every value
 * 0x00-0xFF once, then ">end\n"; "before-dlab\n" and "after-dlab\n" around the write to DLL;
 * "before-loop\n" and "after-loop\n" around the looped-back byte; "before-com2\n" and
 * "after-com2\n" around writes to COM2's transmitter.
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

/* %al <- inb \port (clobbers %dx) */
.macro PORT_IN port
    mov     $(\port), %dx
    inb     %dx, %al
.endm

/* outb \value to \port (clobbers %al, %dx) */
.macro PORT_OUT port, value
    mov     $(\value), %al
    mov     $(\port), %dx
    outb    %al, %dx
.endm

/* variable <- inb \port, zero-extended (clobbers %rax, %dx) */
.macro SAVE_INB port, variable
    PORT_IN     \port
    movzbl  %al, %eax
    mov     %rax, \variable(%rip)
.endm

/* Writes the string \text (no NUL) straight to THR, without waiting (transmission is instantaneous). */
.macro RAW text
    .pushsection .rodata
raw_\@: .ascii "\text"
raw_end_\@:
    .popsection
    lea     raw_\@(%rip), %rdi
    mov     $(raw_end_\@ - raw_\@), %esi
    call    pc_serial_write
.endm

    .text
main64:
    /* ---- LSR ---- */
    SAVE_INB COM1 + UART_LSR, v0
    CHECK_MASK "uart.lsr.after-reset-thre-temt-no-dr", $(UART_LSR_THRE | UART_LSR_TEMT), v0(%rip), $0x61

    /* ---- every byte value, as it is ---- */
    RAW     "bytes<"
    xor     %ecx, %ecx
1:  mov     %cl, %al
    mov     $(COM1 + UART_TX), %dx
    outb    %al, %dx
    inc     %ecx
    cmp     $256, %ecx
    jne     1b
    RAW     ">end\n"
    SAVE_INB COM1 + UART_LSR, v0
    CHECK_MASK "uart.lsr.after-a-byte-thre-temt", $(UART_LSR_THRE | UART_LSR_TEMT), v0(%rip), $0x61

    /* ---- scratch ---- */
    PORT_OUT    COM1 + UART_SCR, 0xA5
    SAVE_INB COM1 + UART_SCR, v0
    CHECK "uart.scr.keeps-0xa5", $0xA5, v0(%rip)
    PORT_OUT    COM1 + UART_SCR, 0x5A
    SAVE_INB COM1 + UART_SCR, v0
    CHECK "uart.scr.keeps-0x5a", $0x5A, v0(%rip)

    /* ---- the divisor latch ---- */
    PORT_OUT    COM1 + UART_IER, 0x00
    RAW     "before-dlab\n"
    PORT_OUT    COM1 + UART_LCR, UART_LCR_DLAB | 0x03
    PORT_OUT    COM1 + UART_DLL, 0x0C
    PORT_OUT    COM1 + UART_DLM, 0x01
    SAVE_INB COM1 + UART_DLL, v0
    SAVE_INB COM1 + UART_DLM, v1
    SAVE_INB COM1 + UART_LCR, v2
    PORT_OUT    COM1 + UART_LCR, 0x03
    RAW     "after-dlab\n"
    CHECK "uart.dlab.dll-reads-back", $0x0C, v0(%rip)
    CHECK "uart.dlab.dlm-reads-back", $0x01, v1(%rip)
    CHECK "uart.lcr.reads-back-with-dlab", $0x83, v2(%rip)
    SAVE_INB COM1 + UART_IER, v0
    CHECK "uart.dlab.off-port-1-is-ier-again", $0x00, v0(%rip)
    SAVE_INB COM1 + UART_LCR, v0
    CHECK "uart.lcr.reads-back", $0x03, v0(%rip)
    PORT_OUT    COM1 + UART_LCR, UART_LCR_DLAB | 0x03
    PORT_OUT    COM1 + UART_DLL, 0x01               /* 115200 baud, as firmware leaves it */
    PORT_OUT    COM1 + UART_DLM, 0x00
    PORT_OUT    COM1 + UART_LCR, 0x03

    /* ---- IIR and FCR ---- */
    SAVE_INB COM1 + UART_IIR, v0
    CHECK "uart.iir.no-interrupt-no-fifo", $0x01, v0(%rip)
    PORT_OUT    COM1 + UART_FCR, 0x07               /* enable and clear the FIFOs */
    SAVE_INB COM1 + UART_IIR, v0
    CHECK "uart.iir.fifo-bits-after-fcr", $0xC1, v0(%rip)
    PORT_OUT    COM1 + UART_IER, 0x02               /* THR empty */
    SAVE_INB COM1 + UART_IIR, v0
    SAVE_INB COM1 + UART_IIR, v1
    CHECK "uart.iir.thr-empty-pending-with-ier-thri", $0xC2, v0(%rip)
    CHECK "uart.iir.thr-empty-cleared-by-reading-iir", $0xC1, v1(%rip)
    RAW     "\n"
    SAVE_INB COM1 + UART_IIR, v0
    CHECK "uart.iir.thr-empty-again-after-a-write", $0xC2, v0(%rip)
    PORT_OUT    COM1 + UART_IER, 0x00
    PORT_OUT    COM1 + UART_FCR, 0x00
    SAVE_INB COM1 + UART_IIR, v0
    CHECK "uart.iir.no-fifo-bits-after-fcr-0", $0x01, v0(%rip)

    /* ---- loopback ---- */
    RAW     "before-loop\n"
    PORT_OUT    COM1 + UART_MCR, 0x10
    SAVE_INB COM1 + UART_MCR, v0
    PORT_OUT    COM1 + UART_TX, 'L'
    SAVE_INB COM1 + UART_LSR, v1
    SAVE_INB COM1 + UART_RX, v2
    SAVE_INB COM1 + UART_LSR, v3
    PORT_OUT    COM1 + UART_MCR, 0x1F               /* loop, OUT2, OUT1, RTS, DTR */
    SAVE_INB COM1 + UART_MSR, v4
    PORT_OUT    COM1 + UART_MCR, 0x10
    SAVE_INB COM1 + UART_MSR, v5
    PORT_OUT    COM1 + UART_MCR, 0x03
    RAW     "after-loop\n"
    CHECK "uart.mcr.reads-back", $0x10, v0(%rip)
    CHECK_MASK "uart.loop.byte-received", $UART_LSR_DR, v1(%rip), $UART_LSR_DR
    CHECK "uart.loop.rbr-holds-the-byte", $'L', v2(%rip)
    CHECK_MASK "uart.loop.dr-clear-once-read", $0, v3(%rip), $UART_LSR_DR
    CHECK_MASK "uart.loop.msr-inputs-follow-outputs", $0xF0, v4(%rip), $0xF0
    CHECK_MASK "uart.loop.msr-inputs-drop-with-outputs", $0x00, v5(%rip), $0xF0

    /* ---- COM2, COM3, COM4 are absent ---- */
    RAW     "before-com2\n"
    PORT_OUT    COM2 + UART_TX, 'C'
    PORT_OUT    COM2 + UART_SCR, 0x00
    RAW     "after-com2\n"
    mov     $0xFF, %ebx
    lea     absent_bases(%rip), %rsi
2:  movzwl  (%rsi), %edx
    test    %edx, %edx
    jz      4f
    mov     $8, %ecx
3:  inb     %dx, %al
    and     %al, %bl
    inc     %edx
    dec     %ecx
    jnz     3b
    add     $2, %rsi
    jmp     2b
4:  mov     %rbx, v0(%rip)
    CHECK "absent.com2-com3-com4-every-port-reads-0xff", $0xFF, v0(%rip)

    CONF_FINISH "pc64-serial"

    .section .rodata
absent_bases: .word 0x2F8, 0x3E8, 0x2E8, 0

    .data
    .balign 8
v0: .quad 0
v1: .quad 0
v2: .quad 0
v3: .quad 0
v4: .quad 0
v5: .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
