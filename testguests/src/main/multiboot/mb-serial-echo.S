/* A Multiboot kernel (ELF32 at 1 MiB, mb-serial-echo.ld) that echoes COM1: it polls the line
   status register for a received byte (LSR.DR), reads it, waits for room to send (LSR.THRE) and
   sends it back, until it receives a NUL byte. Then it asks isa-debug-exit for exit status
   (0x2A << 1) | 1 = 85, a value no failure path of the emulator produces. The UART is used as
   reset left it (FIFOs off: one byte of room at a time), the hardest case for the sender. */
#include "multiboot.inc"
#define FLAGS (MB_PAGE_ALIGN | MB_MEMORY_INFO)
#define COM1_RBR 0x3F8      /* receive buffer (read), transmit holding (write) */
#define COM1_LSR 0x3FD      /* line status */
#define LSR_DR   0x01       /* data ready */
#define LSR_THRE 0x20       /* transmit holding register empty */
#define DEBUG_EXIT 0xF4

    MULTIBOOT_HEADER FLAGS
    MULTIBOOT_ENTRY32 stack_top
next:
    mov $COM1_LSR, %dx
1:  inb %dx, %al
    test $LSR_DR, %al
    jz 1b
    mov $COM1_RBR, %dx
    inb %dx, %al
    test %al, %al
    jz done
    mov %al, %bl
    mov $COM1_LSR, %dx
2:  inb %dx, %al
    test $LSR_THRE, %al
    jz 2b
    mov %bl, %al
    mov $COM1_RBR, %dx
    outb %al, %dx
    jmp next
done:
    mov $0x2A, %al
    outb %al, $DEBUG_EXIT
3:  hlt                                 /* not reached: the VM ends at the write */
    jmp 3b

    .bss
    .balign 16
    .space 0x1000
stack_top:
