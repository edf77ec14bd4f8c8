/* pc64-ins-unbacked: REP INSB into guest-physical memory nothing backs (4 GiB, above RAM and the
 * devices below 4 GiB). tdemu performs string port I/O itself; such an access ends the VM as a
 * guest memory fault, as a guest instruction's own access would, never as an internal error.
 * It prints "ins" before the instruction and "FAIL still running" should it return.
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define TESTDEV_PORT 0xE0

    .text
main64:
    /* Linear 3 GiB .. +2 MiB -> guest-physical 4 GiB (the last page directory's first entry). */
    movabs  $0x100000083, %rax          /* 2 MiB page: present, writable, large */
    or      $4, %rax                    /* user, as every page of pc64.inc */
    mov     %rax, (pc_pd + 3 * 4096)(%rip)
    mov     $0xC0000000, %eax
    invlpg  (%rax)
    PC_SAY  "ins"
    mov     $0xC0000000, %edi
    mov     $TESTDEV_PORT, %edx
    mov     $4, %ecx
    cld
    rep insb
    PC_SAY  "FAIL still running"
    CONF_FINISH "pc64-ins-unbacked"

    .text
    CONF_RUNTIME
    PC64_RUNTIME
