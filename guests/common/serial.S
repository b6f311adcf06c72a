/*
 * COM1 output for assembly guests, 32-bit code (also usable in compatibility mode).
 * Register calling convention: every routine preserves all registers and flags except
 * where noted, so a guest can sprinkle calls between the instructions it tests.
 *   serial_init          program the 16550 for 115200 8N1, FIFOs on, no interrupts
 *   ser_putc   AL        one byte
 *   ser_puts   ESI       zero-terminated string
 *   ser_hex32  EAX       8 hex digits;  ser_hex8 AL: 2 hex digits
 *   ser_dec32  EAX       unsigned decimal
 *   ser_nl               "\n"
 * Output is raw: "\n" is not expanded to "\r\n" (QEMU's -serial stdio passes bytes as is).
 */
#include "gdt.h"

        .code32
        .text

        .globl serial_init
        .type serial_init, @function
serial_init:
        push    %eax
        push    %edx
        mov     $COM1 + 1, %dx          /* IER: no interrupts */
        xor     %al, %al
        out     %al, %dx
        mov     $COM1 + 3, %dx          /* LCR: DLAB=1 to reach the divisor latch */
        mov     $0x80, %al
        out     %al, %dx
        mov     $COM1 + 0, %dx          /* DLL = 1: 115200 baud */
        mov     $1, %al
        out     %al, %dx
        mov     $COM1 + 1, %dx          /* DLM = 0 */
        xor     %al, %al
        out     %al, %dx
        mov     $COM1 + 3, %dx          /* LCR: 8 data bits, no parity, 1 stop, DLAB=0 */
        mov     $0x03, %al
        out     %al, %dx
        mov     $COM1 + 2, %dx          /* FCR: enable and clear FIFOs */
        mov     $0x07, %al
        out     %al, %dx
        mov     $COM1 + 4, %dx          /* MCR: DTR | RTS */
        mov     $0x03, %al
        out     %al, %dx
        pop     %edx
        pop     %eax
        ret

        .globl ser_putc
        .type ser_putc, @function
ser_putc:
        pushf
        push    %edx
        push    %eax
        mov     $COM1 + 5, %dx          /* LSR: wait for THRE (bit 5) */
1:      in      %dx, %al
        test    $0x20, %al
        jz      1b
        pop     %eax
        mov     $COM1, %dx
        out     %al, %dx
        pop     %edx
        popf
        ret

        .globl ser_puts
        .type ser_puts, @function
ser_puts:
        pushf
        push    %esi
        push    %eax
1:      movb    (%esi), %al
        test    %al, %al
        jz      2f
        call    ser_putc
        inc     %esi
        jmp     1b
2:      pop     %eax
        pop     %esi
        popf
        ret

        .globl ser_nl
        .type ser_nl, @function
ser_nl:
        push    %eax
        mov     $'\n', %al
        call    ser_putc
        pop     %eax
        ret

        .globl ser_hex32
        .type ser_hex32, @function
ser_hex32:
        pushf
        push    %ecx
        push    %eax
        mov     $8, %ecx
1:      rol     $4, %eax
        call    hex_digit
        dec     %ecx
        jnz     1b
        pop     %eax
        pop     %ecx
        popf
        ret

        .globl ser_hex8
        .type ser_hex8, @function
ser_hex8:
        pushf
        push    %ecx
        push    %eax
        shl     $24, %eax
        mov     $2, %ecx
1:      rol     $4, %eax
        call    hex_digit
        dec     %ecx
        jnz     1b
        pop     %eax
        pop     %ecx
        popf
        ret

/* Print the low nibble of EAX as a hex digit; preserves EAX. */
hex_digit:
        push    %eax
        and     $0xF, %eax
        movb    hex_chars(%eax), %al
        call    ser_putc
        pop     %eax
        ret

        .globl ser_dec32
        .type ser_dec32, @function
ser_dec32:
        pushf
        push    %eax
        push    %ecx
        push    %edx
        push    %ebx
        mov     $10, %ebx
        xor     %ecx, %ecx
1:      xor     %edx, %edx              /* push the digits, least significant first */
        div     %ebx
        push    %edx
        inc     %ecx
        test    %eax, %eax
        jnz     1b
2:      pop     %eax
        add     $'0', %al
        call    ser_putc
        dec     %ecx
        jnz     2b
        pop     %ebx
        pop     %edx
        pop     %ecx
        pop     %eax
        popf
        ret

        .section .rodata
hex_chars:
        .ascii "0123456789abcdef"

        .section .note.GNU-stack, "", @progbits
