/*
 * hello: the smallest Hyperstep guest. Prints a greeting, then what the multiboot loader
 * handed over: the magic in EAX and the information structure EBX points to (Multiboot
 * spec 0.6.96, 3.3: flags, mem_lower/mem_upper in KiB, the command line). Exits 0 when
 * the boot state is valid.
 *
 * QEMU's -kernel passes the kernel's file name as the start of the command line, so only
 * its last path component is printed: the output then does not depend on where the image
 * was run from.
 */
#include "gdt.h"

        .code32
        .text
        .globl guest_main
        .type guest_main, @function
guest_main:
        push    %ebx
        push    %esi
        push    %edi
        xor     %edi, %edi              /* EDI counts problems */
        mov     $msg_hello, %esi
        call    ser_puts

        mov     16(%esp), %eax          /* magic (first argument) */
        mov     $msg_magic, %esi
        call    ser_puts
        call    ser_hex32
        mov     $msg_magic_ok, %esi
        cmp     $MB_BOOT_MAGIC, %eax
        je      1f
        mov     $msg_magic_bad, %esi
        inc     %edi
1:      call    ser_puts

        mov     20(%esp), %ebx          /* multiboot information (second argument) */
        mov     $msg_flags, %esi
        call    ser_puts
        mov     0(%ebx), %eax
        call    ser_hex32
        call    ser_nl

        testl   $MB_INFO_MEMORY, 0(%ebx)
        jz      2f
        mov     $msg_lower, %esi
        call    ser_puts
        mov     4(%ebx), %eax           /* mem_lower: KiB below 640 KiB */
        call    ser_dec32
        cmp     $640, %eax
        jbe     3f
        inc     %edi
3:      mov     $msg_upper, %esi
        call    ser_puts
        mov     8(%ebx), %eax           /* mem_upper: KiB from 1 MiB to the first hole */
        call    ser_dec32
        test    %eax, %eax
        jnz     4f
        inc     %edi
4:      mov     $msg_kib, %esi
        call    ser_puts
        jmp     5f
2:      inc     %edi                    /* we asked for memory info in the header */
        mov     $msg_no_mem, %esi
        call    ser_puts

5:      testl   $MB_INFO_CMDLINE, 0(%ebx)
        jz      6f
        mov     16(%ebx), %esi          /* cmdline: physical address of a C string */
        /* EDX = just after the last '/' of the first word (the file name's start) */
        mov     %esi, %edx
7:      movb    (%esi), %al
        test    %al, %al
        jz      9f
        cmp     $' ', %al
        je      9f
        inc     %esi
        cmp     $'/', %al
        jne     7b
        mov     %esi, %edx
        jmp     7b
9:      /* ECX = end of the string less trailing spaces (QEMU appends " " + -append) */
        mov     %esi, %ecx
10:     cmpb    $0, (%ecx)
        je      11f
        inc     %ecx
        jmp     10b
11:     cmp     %edx, %ecx
        je      12f
        cmpb    $' ', -1(%ecx)
        jne     12f
        dec     %ecx
        jmp     11b
12:     mov     $msg_cmdline, %esi
        call    ser_puts
        mov     %edx, %esi
13:     cmp     %ecx, %esi
        je      14f
        movb    (%esi), %al
        call    ser_putc
        inc     %esi
        jmp     13b
14:     mov     $msg_quote_nl, %esi
        call    ser_puts
        jmp     8f
6:      mov     $msg_no_cmdline, %esi
        call    ser_puts

8:      mov     $msg_pass, %esi
        test    %edi, %edi
        jz      1f
        mov     $msg_fail, %esi
1:      call    ser_puts
        mov     %edi, %eax              /* 0 = PASS */
        pop     %edi
        pop     %esi
        pop     %ebx
        ret

        .section .rodata
msg_hello:      .asciz "Hello from Hyperstep!\n"
msg_magic:      .asciz "multiboot: EAX = "
msg_magic_ok:   .asciz " (the multiboot magic)\n"
msg_magic_bad:  .asciz " (NOT the multiboot magic 2badb002)\n"
msg_flags:      .asciz "multiboot: EBX -> info, flags = "
msg_lower:      .asciz "multiboot: mem_lower = "
msg_upper:      .asciz " KiB, mem_upper = "
msg_kib:        .asciz " KiB\n"
msg_no_mem:     .asciz "multiboot: no memory information\n"
msg_cmdline:    .asciz "multiboot: cmdline = \""
msg_quote_nl:   .asciz "\"\n"
msg_no_cmdline: .asciz "multiboot: no command line\n"
msg_pass:       .asciz "PASS\n"
msg_fail:       .asciz "FAIL\n"

        .section .note.GNU-stack, "", @progbits
