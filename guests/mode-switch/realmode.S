/*
 * mode-switch, the real-mode part: copied by mode-switch.S to RM_BASE (below 1 MiB) and
 * entered in 16-bit protected mode. It drops to real mode, checks INT n through its own
 * IVT entry, segment arithmetic, 16-bit addressing, 32-bit operands and a far call, then
 * returns to 32-bit protected mode at pm32_back.
 *
 * Everything here runs with CS = DS = SS = RM_SEG, so labels are used as offsets from
 * rm_blob (RM()). mode-switch.S reaches the few it needs through the absolute symbols
 * defined at the end.
 */
#include "gdt.h"
#include "realmode.h"

        .code16
        .text
        .globl rm_blob, rm_blob_end
rm_blob:
rm_pm16:
        /* 16-bit protected mode: load 16-bit data segments (limit 0xFFFF) so real mode
           starts with ordinary 64 KiB segment limits, then clear PE. No stack use until
           SS:SP are real-mode values. */
        mov     $SEL_DATA16, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %fs
        mov     %ax, %gs
        mov     %ax, %ss
        mov     %cr0, %eax
        and     $0xFFFFFFFE, %eax
        mov     %eax, %cr0
        ljmp    $RM_SEG, $RM(rm_real)   /* reload CS with a real-mode segment */
rm_real:
        mov     $RM_SEG, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $RM_SP, %sp
        lidt    RM(rm_ivt)              /* the real-mode IVT at 0, 256 vectors */

        mov     $RM(msg_rm_in), %si
        call    rm_puts
        mov     %cs, %ax
        call    rm_hex16
        mov     $RM(msg_rm_ss), %si
        call    rm_puts
        mov     %ss, %ax
        call    rm_hex16
        mov     $RM(msg_rm_sp), %si
        call    rm_puts
        mov     %sp, %ax
        call    rm_hex16
        mov     %cr0, %eax
        test    $1, %al                 /* PE clear */
        call    rm_ok

        /* INT n through our own IVT entry: the handler adds 0x1111 to AX and records the
           return address and FLAGS the CPU pushed; IRET must restore CF=1. */
        xor     %ax, %ax
        mov     %ax, %es
        mov     %es:RM_VEC * 4, %ax     /* keep the BIOS's entry */
        mov     %ax, RM(rm_old_vec)
        mov     %es:RM_VEC * 4 + 2, %ax
        mov     %ax, RM(rm_old_vec) + 2
        movw    $RM(rm_handler), %es:RM_VEC * 4
        movw    $RM_SEG, %es:RM_VEC * 4 + 2
        mov     $RM(msg_rm_int), %si
        call    rm_puts
        mov     $0x1234, %ax
        stc
        int     $RM_VEC
rm_int_ret:
        setnc   %dl                     /* CF must be back (IRET restores FLAGS) */
        mov     %ax, %bx
        mov     RM(rm_old_vec), %ax     /* give the vector back */
        mov     %ax, %es:RM_VEC * 4
        mov     RM(rm_old_vec) + 2, %ax
        mov     %ax, %es:RM_VEC * 4 + 2
        mov     RM(rm_seen_ip), %ax
        call    rm_hex16
        mov     $RM(msg_rm_int2), %si
        call    rm_puts
        mov     %bx, %ax
        call    rm_hex16
        cmp     $0x2345, %bx
        setne   %al
        or      %al, %dl
        cmpw    $RM(rm_int_ret), RM(rm_seen_ip)
        setne   %al
        or      %al, %dl
        cmpw    $RM_SEG, RM(rm_seen_cs)
        setne   %al
        or      %al, %dl
        testw   $1, RM(rm_seen_flags)   /* pushed FLAGS has CF=1 */
        setz    %al
        or      %al, %dl
        testw   $0x0300, RM(rm_seen_inner)      /* handler runs with IF=TF=0 */
        setnz   %al
        or      %al, %dl
        test    %dl, %dl
        call    rm_ok

        /* Segment arithmetic: linear = segment * 16 + offset, so 1234:0010, 1235:0000 and
           1000:2350 are one byte (linear 0x12350). LES loads ES:DI from a far pointer. */
        mov     $RM(msg_rm_seg), %si
        call    rm_puts
        mov     $0x1234, %ax
        mov     %ax, %es
        movw    $0xBEEF, %es:0x0010
        mov     $0x1235, %ax
        mov     %ax, %fs
        mov     %fs:0x0000, %bx
        mov     $0x1000, %ax
        mov     %ax, %gs
        movw    $0xF00D, %gs:0x2352
        les     RM(rm_farptr), %di      /* ES:DI = 1234:0010 */
        mov     %es:(%di), %cx
        mov     %bx, %ax
        call    rm_hex16
        mov     $RM(msg_rm_seg2), %si
        call    rm_puts
        xor     %dl, %dl
        cmp     $0xBEEF, %bx
        setne   %dl
        cmp     $0xBEEF, %cx
        setne   %al
        or      %al, %dl
        cmpw    $0xF00D, %es:2(%di)
        setne   %al
        or      %al, %dl
        mov     %es, %ax
        cmp     $0x1234, %ax
        setne   %al
        or      %al, %dl
        test    %dl, %dl
        call    rm_ok

        /* 16-bit arithmetic and addressing, 32-bit operands through the 66h prefix, and a
           far call within real mode. */
        mov     $RM(msg_rm_arith), %si
        call    rm_puts
        xor     %dl, %dl
        mov     $0x1234, %ax
        mov     $0x5678, %bx
        mul     %bx                     /* DX:AX = 0626:0060 */
        mov     %dx, %cx
        push    %ax
        mov     %cx, %ax
        call    rm_hex16
        mov     $':', %al
        call    rm_putc
        pop     %ax
        call    rm_hex16
        cmp     $0x0626, %cx
        setne   %dl
        cmp     $0x0060, %ax
        setne   %bl
        or      %bl, %dl
        mov     %cx, %bx
        xchg    %bx, %dx                /* DX:AX back to the product, DL flag in BL */
        mov     $0x1234, %cx
        div     %cx                     /* AX = 0x5678, DX = 0 */
        cmp     $0x5678, %ax
        setne   %al
        or      %al, %bl
        test    %dx, %dx
        setnz   %al
        or      %al, %bl
        push    %bx
        mov     $0x100, %bx
        mov     $0x20, %si
        lea     5(%bx, %si), %ax        /* 16-bit addressing form [BX+SI+disp8] */
        pop     %bx
        cmp     $0x125, %ax
        setne   %al
        or      %al, %bl
        mov     $0x89ABCDEF, %eax       /* 32-bit operand size in real mode */
        ror     $8, %eax
        cmp     $0xEF89ABCD, %eax
        setne   %al
        or      %al, %bl
        lcall   $RM_SEG, $RM(rm_far)    /* returns AX = CS it ran with */
        cmp     $RM_SEG, %ax
        setne   %al
        or      %al, %bl
        mov     $RM(msg_rm_arith2), %si
        call    rm_puts
        test    %bl, %bl
        call    rm_ok

        /* Back to protected mode (SDM 9.9.1): LGDT with a 32-bit base, set PE, far jump
           into the 32-bit code segment. */
        mov     $RM(msg_rm_out), %si
        call    rm_puts
        lgdtl   RM(rm_gdtr)
        mov     %cr0, %eax
        or      $1, %eax
        mov     %eax, %cr0
        ljmpl   $SEL_CODE32, $pm32_back

rm_handler:
        push    %bp
        mov     %sp, %bp
        push    %ax
        mov     2(%bp), %ax             /* [BP+2] IP, [BP+4] CS, [BP+6] FLAGS */
        mov     %ax, %cs:RM(rm_seen_ip)
        mov     4(%bp), %ax
        mov     %ax, %cs:RM(rm_seen_cs)
        mov     6(%bp), %ax
        mov     %ax, %cs:RM(rm_seen_flags)
        pushf
        pop     %ax
        mov     %ax, %cs:RM(rm_seen_inner)
        pop     %ax
        add     $0x1111, %ax            /* clears CF: IRET must bring it back */
        pop     %bp
        iret

rm_far:
        mov     %cs, %ax
        lret

/* rm_ok: " ok"/" FAIL" from ZF, counted in rm_failures. */
rm_ok:
        push    %si
        mov     $RM(msg_ok), %si
        je      1f
        incw    RM(rm_failures)
        mov     $RM(msg_fail), %si
1:      call    rm_puts
        pop     %si
        ret

rm_putc:
        push    %dx
        push    %ax
        mov     $COM1 + 5, %dx
1:      in      %dx, %al
        test    $0x20, %al
        jz      1b
        pop     %ax
        mov     $COM1, %dx
        out     %al, %dx
        pop     %dx
        ret

rm_puts:
        pushf
        push    %si
        push    %ax
1:      lodsb
        test    %al, %al
        jz      2f
        call    rm_putc
        jmp     1b
2:      pop     %ax
        pop     %si
        popf
        ret

rm_hex16:
        pushf
        push    %cx
        push    %bx
        push    %ax
        mov     %ax, %bx
        mov     $4, %cx
1:      rol     $4, %bx
        mov     %bl, %al
        and     $0xF, %al
        add     $'0', %al
        cmp     $'9', %al
        jbe     2f
        add     $'a' - '9' - 1, %al
2:      call    rm_putc
        loop    1b
        pop     %ax
        pop     %bx
        pop     %cx
        popf
        ret

        .align 4
rm_ivt:         .word 0x3FF
                .long 0
rm_gdtr:        .word 0
                .long 0
rm_farptr:      .word 0x0010, 0x1234
rm_old_vec:     .word 0, 0
rm_seen_ip:     .word 0
rm_seen_cs:     .word 0
rm_seen_flags:  .word 0
rm_seen_inner:  .word 0
rm_failures:    .word 0
        .globl msg_ok, msg_fail
msg_ok:         .asciz " ok\n"
msg_fail:       .asciz " FAIL\n"
msg_rm_in:      .asciz "mode-switch: pm32 -> 16-bit pm -> real mode: CS="
msg_rm_ss:      .asciz " SS="
msg_rm_sp:      .asciz " SP="
msg_rm_int:     .asciz "real mode: INT 66h through our IVT entry, handler saw return IP="
msg_rm_int2:    .asciz ", AX 1234 -> "
msg_rm_seg:     .asciz "real mode: 1234:0010 = 1235:0000 = 1000:2350 (linear 12350), read "
msg_rm_seg2:    .asciz " via 1235:0000, LES from a far pointer"
msg_rm_arith:   .asciz "real mode: MUL 1234h * 5678h = "
msg_rm_arith2:  .asciz ", DIV back, LEA [BX+SI+5], 66h ROR EAX, far CALL/RETF"
msg_rm_out:     .asciz "mode-switch: real mode -> pm32 (LGDT, CR0.PE, far jump)\n"
rm_blob_end:     /* must stay below RM_SP - 0x100 bytes (the stack grows down from RM_SP) */

/* Offsets for mode-switch.S (a difference of labels in another file is not a constant
   there). */
        .globl rm_size, rm_off_pm16, rm_off_gdtr, rm_off_failures
        .set rm_size, rm_blob_end - rm_blob
        .set rm_off_pm16, RM(rm_pm16)
        .set rm_off_gdtr, RM(rm_gdtr)
        .set rm_off_failures, RM(rm_failures)

        .section .note.GNU-stack, "", @progbits
