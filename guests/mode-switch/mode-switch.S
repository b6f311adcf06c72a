/*
 * mode-switch: walks the x86 through its operating modes and checks each one.
 *
 *   multiboot (32-bit protected mode, paging off)
 *   -> 16-bit protected mode -> real mode: INT n through our own IVT entry, segment
 *      arithmetic, 16-bit addressing, far call, LES
 *   -> 32-bit protected mode again
 *   -> 32-bit paging with a 4 MiB page (CR4.PSE) and a 4 KiB page
 *   -> PAE paging with a 2 MiB page and a 4 KiB page
 *   -> IA-32e mode (EFER.LME, CR0.PG): compatibility mode, then 64-bit mode: 64-bit
 *      arithmetic, RIP-relative addressing, a higher-half alias at 0xFFFFFFFF80000000,
 *      code executed through that alias
 *   -> compatibility mode (a 32-bit code segment under long mode) and back to 64-bit.
 *
 * One line per step, "ok" or "FAIL", then PASS/FAIL; the exit value is the number of
 * failed checks. Mode switches follow SDM vol. 3, 9.9.2 "Switching Back to Real-Address
 * Mode", 9.9.1 "Switching to Protected Mode", 9.8.5 "Initializing IA-32e Mode".
 *
 * Assembled into an ELF64 object (gcc -m64) and linked into an ELF32 image by the
 * Makefile; the code below says which mode it is for with .code16/.code32/.code64.
 */
#include "gdt.h"

#include "realmode.h"
#define EFER        0xC0000080

#define PDE_P   0x001
#define PDE_RW  0x002
#define PDE_PS  0x080


        .code32
        .text
        .globl guest_main
        .type guest_main, @function
guest_main:
        push    %ebx
        push    %esi
        push    %edi
        push    %ebp
        mov     %esp, pm_esp

        mov     $msg_start, %esi
        call    ser_puts
        mov     %cs, %ax
        movzwl  %ax, %eax
        call    ser_hex32
        mov     $msg_start2, %esi
        call    ser_puts
        cmp     $SEL_CODE32, %eax
        call    ok32

/* ---- 32-bit protected mode -> real mode ------------------------------------------------ */
        mov     $rm_blob, %esi
        mov     $RM_BASE, %edi
        mov     $rm_size, %ecx
        rep movsb
        /* The real-mode code reloads GDTR with LGDT (66h prefix, 32-bit base) on its way
           back; give it our GDTR and remember our IDTR. */
        sgdtl   RM_BASE + rm_off_gdtr
        sidtl   pm_idtr
        /* Far jump to a 16-bit code segment (base 0, limit 0xFFFF) first: clearing CR0.PE
           while CS still describes a 32-bit segment would leave a 32-bit CS cache. */
        ljmp    $SEL_CODE16, $RM_BASE + rm_off_pm16

        .globl pm32_back
pm32_back:
        mov     $SEL_DATA32, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        mov     pm_esp, %esp
        lidtl   pm_idtr
        movzwl  RM_BASE + rm_off_failures, %eax
        add     %eax, failures
        mov     $msg_back_pm, %esi
        call    ser_puts
        mov     %cr0, %eax
        test    $1, %eax                /* PE set, ZF clear: invert for ok32 */
        setz    %al
        test    %al, %al
        call    ok32

/* ---- 32-bit paging: 4 MiB page + 4 KiB page ------------------------------------------- */
        /* PDE[0]: 4 MiB identity (covers this image at 1 MiB), PDE[1]: page table for
           4..8 MiB, PDE[0x100]: 4 MiB page at 0x40000000 -> physical 0 (an alias). */
        movl    $0 | PDE_PS | PDE_RW | PDE_P, pd32
        movl    $pt32 + (PDE_RW | PDE_P), pd32 + 4
        movl    $0 | PDE_PS | PDE_RW | PDE_P, pd32 + 0x100 * 4
        movl    $alias_page + (PDE_RW | PDE_P), pt32 + 0x10 * 4     /* 0x00410000 */
        mov     %cr4, %eax
        or      $0x10, %eax             /* CR4.PSE: PDE.PS selects 4 MiB pages (SDM 4.3) */
        mov     %eax, %cr4
        mov     $pd32, %eax
        mov     %eax, %cr3
        mov     %cr0, %eax
        or      $0x80000000, %eax
        mov     %eax, %cr0
        jmp     1f                      /* paging on; we run identity-mapped */
1:      mov     $msg_pg32, %esi
        call    ser_puts
        movl    $0xCAFEF00D, alias_page                     /* write through identity */
        movl    $0x12345678, 0x00410000 + 0x10              /* write through 4 KiB page */
        xor     %edx, %edx
        cmpl    $0xCAFEF00D, 0x40000000 + alias_page        /* read through 4 MiB alias */
        setne   %dl
        cmpl    $0xCAFEF00D, 0x00410000
        setne   %al
        or      %al, %dl
        cmpl    $0x12345678, alias_page + 0x10
        setne   %al
        or      %al, %dl
        cmpl    $0x12345678, 0x40000000 + alias_page + 0x10
        setne   %al
        or      %al, %dl
        test    %dl, %dl
        call    ok32
        /* Run code through the 4 MiB alias: get_eip returns its own EIP. */
        mov     $msg_pg32_code, %esi
        call    ser_puts
        mov     $0x40000000 + get_eip, %eax
        call    *%eax
        call    ser_hex32
        sub     $0x40000000, %eax
        cmp     $get_eip_ret, %eax
        call    ok32
        mov     %cr0, %eax              /* paging off again (we are identity-mapped) */
        and     $0x7FFFFFFF, %eax
        mov     %eax, %cr0
        mov     %cr4, %eax
        and     $~0x10, %eax
        mov     %eax, %cr4

/* ---- PAE paging: 2 MiB page + 4 KiB page ---------------------------------------------- */
        /* PAE PDPTEs have only P and the address (R/W and U/S are reserved: SDM 4.4.1). */
        movl    $pd_pae + PDE_P, pdpt_pae
        movl    $0 | PDE_PS | PDE_RW | PDE_P, pd_pae            /* 0..2 MiB identity */
        movl    $pt_pae + (PDE_RW | PDE_P), pd_pae + 8          /* 2..4 MiB in 4 KiB pages */
        movl    $0 | PDE_PS | PDE_RW | PDE_P, pd_pae + 3 * 8    /* 0x600000 -> physical 0 */
        movl    $alias_page + (PDE_RW | PDE_P), pt_pae + 5 * 8  /* 0x205000 */
        mov     %cr4, %eax
        or      $0x20, %eax             /* CR4.PAE */
        mov     %eax, %cr4
        mov     $pdpt_pae, %eax
        mov     %eax, %cr3
        mov     %cr0, %eax
        or      $0x80000000, %eax
        mov     %eax, %cr0
        jmp     1f
1:      mov     $msg_pae, %esi
        call    ser_puts
        movl    $0x0BADC0DE, 0x00205000 + 0x20              /* write through 4 KiB page */
        movl    $0x600DF00D, 0x00600000 + alias_page + 0x24 /* write through 2 MiB alias */
        xor     %edx, %edx
        cmpl    $0x0BADC0DE, alias_page + 0x20
        setne   %dl
        cmpl    $0x0BADC0DE, 0x00600000 + alias_page + 0x20
        setne   %al
        or      %al, %dl
        cmpl    $0x600DF00D, 0x00205000 + 0x24
        setne   %al
        or      %al, %dl
        cmpl    $0x600DF00D, alias_page + 0x24
        setne   %al
        or      %al, %dl
        test    %dl, %dl
        call    ok32
        mov     %cr0, %eax
        and     $0x7FFFFFFF, %eax
        mov     %eax, %cr0

/* ---- IA-32e mode ----------------------------------------------------------------------- */
        /* PML4[0] -> low PDPT -> PD; PML4[511] -> high PDPT whose entry 510 is the same
           PD, so 0xFFFFFFFF80000000 + x and x are the same physical byte for x < 4 MiB. */
        movl    $pdpt_lo + (PDE_RW | PDE_P), pml4
        movl    $pdpt_hi + (PDE_RW | PDE_P), pml4 + 511 * 8
        movl    $pd_lm + (PDE_RW | PDE_P), pdpt_lo
        movl    $pd_lm + (PDE_RW | PDE_P), pdpt_hi + 510 * 8
        movl    $0 | PDE_PS | PDE_RW | PDE_P, pd_lm             /* 0..2 MiB, 2 MiB page */
        movl    $pt_lm + (PDE_RW | PDE_P), pd_lm + 8            /* 2..4 MiB in 4 KiB pages */
        movl    $alias_page + (PDE_RW | PDE_P), pt_lm + 7 * 8   /* 0x207000 */
        mov     $pml4, %eax             /* CR4.PAE is still set from the PAE step */
        mov     %eax, %cr3
        mov     $EFER, %ecx
        rdmsr
        or      $0x100, %eax            /* EFER.LME */
        wrmsr
        mov     %cr0, %eax
        or      $0x80000000, %eax       /* CR0.PG: EFER.LMA becomes 1 */
        mov     %eax, %cr0
        jmp     1f
        /* Now in compatibility mode: CS still holds the 32-bit code segment. */
1:      mov     $msg_lm_compat, %esi
        call    ser_puts
        mov     $EFER, %ecx
        rdmsr
        shr     $10, %eax               /* EFER.LMA */
        and     $1, %eax
        call    ser_dec32
        cmp     $1, %eax
        call    ok32
        ljmp    $SEL_CODE64, $long64

/* get_eip: returns the address of get_eip_ret as fetched (so through whatever alias the
   caller used). */
get_eip:
        call    get_eip_ret
get_eip_ret:
        pop     %eax
        ret

/* ok32: print " ok" or " FAIL" (counting the failure) from ZF, then a newline. */
ok32:
        push    %esi
        mov     $msg_ok, %esi
        je      1f
        incl    failures
        mov     $msg_fail, %esi
1:      call    ser_puts
        pop     %esi
        ret

/* ---- 64-bit mode ----------------------------------------------------------------------- */
        .code64
long64:
        mov     $SEL_DATA32, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %esp, %esp              /* upper half of RSP is undefined after the switch */
        lea     msg_lm64(%rip), %rsi
        call    p64_puts
        mov     %cs, %eax
        movzwl  %ax, %eax
        call    p64_hex32
        lea     msg_lm64b(%rip), %rsi
        call    p64_puts
        cmp     $SEL_CODE64, %eax
        call    ok64

        /* 64-bit arithmetic on the REX registers. */
        lea     msg_arith64(%rip), %rsi
        call    p64_puts
        movabs  $0x123456789ABCDEF0, %r8
        movabs  $0x0FEDCBA987654321, %r9
        lea     (%r8, %r9), %r10        /* 0x2222222222222211 */
        movabs  $0xFEDCBA9876543210, %rax
        mul     %r8                     /* RDX:RAX = a * b */
        mov     %rdx, %r11
        mov     %rax, %r12
        div     %r8                     /* back to b, remainder 0 */
        mov     %rax, %r13
        mov     %rdx, %r14
        mov     %r10, %rax
        call    p64_hex64
        xor     %ecx, %ecx
        movabs  $0x2222222222222211, %rax
        cmp     %rax, %r10
        setne   %cl
        movabs  $0x121FA00AD77D7422, %rax
        cmp     %rax, %r11
        setne   %al
        or      %al, %cl
        movabs  $0x236D88FE5618CF00, %rax
        cmp     %rax, %r12
        setne   %al
        or      %al, %cl
        movabs  $0xFEDCBA9876543210, %rax
        cmp     %rax, %r13
        setne   %al
        or      %al, %cl
        test    %r14, %r14
        setnz   %al
        or      %al, %cl
        mov     %r8, %rax
        shl     $36, %rax               /* 64-bit shift: bits cross the 32-bit boundary */
        movabs  $0xABCDEF0000000000, %rdx
        cmp     %rdx, %rax
        setne   %al
        or      %al, %cl
        test    %cl, %cl
        call    ok64

        /* RIP-relative addressing: the assembler encodes value64 as disp32 from the next
           instruction; compare with the absolute address. */
        lea     msg_riprel(%rip), %rsi
        call    p64_puts
        lea     value64(%rip), %rax
        call    p64_hex64
        xor     %ecx, %ecx
        mov     $value64, %edx
        cmp     %rdx, %rax
        setne   %cl
        mov     value64(%rip), %rax
        movabs  $0x0123456789ABCDEF, %rdx
        cmp     %rdx, %rax
        setne   %al
        or      %al, %cl
        test    %cl, %cl
        call    ok64

        /* Higher half: write through 0xFFFFFFFF80000000 + x, read through x and 0x207000. */
        lea     msg_high(%rip), %rsi
        call    p64_puts
        movabs  $0xFFFFFFFF80000000, %rbx
        mov     $alias_page, %eax
        add     %rax, %rbx              /* RBX = high alias of alias_page */
        mov     %rbx, %rax
        call    p64_hex64
        lea     msg_high2(%rip), %rsi
        call    p64_puts
        movabs  $0x1122334455667788, %rax
        mov     %rax, 0x40(%rbx)
        xor     %ecx, %ecx
        cmp     %rax, alias_page + 0x40
        setne   %cl
        cmp     %rax, 0x207000 + 0x40
        setne   %dl
        or      %dl, %cl
        movl    $0x5EED5EED, 0x207000 + 0x48
        cmpl    $0x5EED5EED, 0x48(%rbx)
        setne   %dl
        or      %dl, %cl
        test    %cl, %cl
        call    ok64

        /* Execute through the higher half: the returned RIP must be in it. */
        lea     msg_high_code(%rip), %rsi
        call    p64_puts
        movabs  $0xFFFFFFFF80000000, %rax
        lea     get_rip(%rip), %rdx
        add     %rdx, %rax
        call    *%rax
        call    p64_hex64
        movabs  $0xFFFFFFFF80000000, %rdx
        lea     get_rip_ret(%rip), %rcx
        add     %rcx, %rdx
        cmp     %rdx, %rax
        call    ok64

        /* Into compatibility mode: a far return to the 32-bit code segment. */
        lea     msg_compat(%rip), %rsi
        call    p64_puts
        pushq   $SEL_CODE32
        lea     compat32(%rip), %rax
        push    %rax
        lretq

        .code32
compat32:
        /* 32-bit code under long mode: PUSH moves ESP by 4, and 40h is INC EAX (in 64-bit
           mode it would be a REX prefix). */
        xor     %ebx, %ebx
        mov     %esp, %ecx
        push    %eax
        sub     %esp, %ecx
        pop     %eax
        cmp     $4, %ecx
        setne   %bl
        xor     %eax, %eax
        .byte   0x40                    /* inc %eax */
        cmp     $1, %eax
        setne   %al
        or      %al, %bl
        mov     $EFER, %ecx
        rdmsr
        test    $0x400, %eax            /* still EFER.LMA */
        setz    %al
        or      %al, %bl
        mov     $msg_compat_in, %esi
        call    ser_puts                /* the 32-bit serial routines work here too */
        test    %bl, %bl
        call    ok32
        ljmp    $SEL_CODE64, $back64    /* direct far JMP: valid in compatibility mode */

        .code64
back64:
        lea     msg_back64(%rip), %rsi
        call    p64_puts
        lea     0(%rip), %rax
        call    p64_hex64
        mov     %cs, %eax
        cmp     $SEL_CODE64, %ax
        call    ok64

        mov     failures(%rip), %eax
        lea     msg_pass(%rip), %rsi
        test    %eax, %eax
        jz      1f
        lea     msg_failed(%rip), %rsi
1:      call    p64_puts
        mov     $DEBUG_EXIT, %dx
        out     %eax, %dx
2:      cli
        hlt
        jmp     2b

get_rip:
        lea     get_rip_ret(%rip), %rax
get_rip_ret:
        ret

/* 64-bit console routines; all preserve every register and the flags. */
ok64:
        push    %rsi
        lea     msg_ok(%rip), %rsi
        je      1f
        incl    failures(%rip)
        lea     msg_fail(%rip), %rsi
1:      call    p64_puts
        pop     %rsi
        ret

p64_putc:
        pushf
        push    %rdx
        push    %rax
        mov     $COM1 + 5, %dx
1:      in      %dx, %al
        test    $0x20, %al
        jz      1b
        pop     %rax
        mov     $COM1, %dx
        out     %al, %dx
        pop     %rdx
        popf
        ret

p64_puts:
        pushf
        push    %rsi
        push    %rax
1:      lodsb
        test    %al, %al
        jz      2f
        call    p64_putc
        jmp     1b
2:      pop     %rax
        pop     %rsi
        popf
        ret

p64_hex64:
        pushf
        push    %rax
        shr     $32, %rax
        call    p64_hex32
        pop     %rax
        call    p64_hex32
        popf
        ret

p64_hex32:
        pushf
        push    %rdx
        push    %rcx
        push    %rax
        mov     $8, %ecx
        shl     $32, %rax
1:      rol     $4, %rax
        push    %rax
        and     $0xF, %eax
        lea     hex_digits(%rip), %rdx
        movb    (%rdx, %rax), %al
        call    p64_putc
        pop     %rax
        dec     %ecx
        jnz     1b
        pop     %rax
        pop     %rcx
        pop     %rdx
        popf
        ret


        .section .rodata
msg_start:      .asciz "mode-switch: multiboot entry in 32-bit protected mode, CS="
msg_start2:     .asciz " (flat, our GDT)"
msg_back_pm:    .asciz "mode-switch: back in 32-bit protected mode, CR0.PE=1"
msg_pg32:       .asciz "pm32 paging: 4 MiB page (CR4.PSE) + 4 KiB page, identity/40000000/00410000 aliases agree"
msg_pg32_code:  .asciz "pm32 paging: code runs through the 4 MiB alias, EIP="
msg_pae:        .asciz "pae paging: 2 MiB page + 4 KiB page, identity/00600000/00205000 aliases agree"
msg_lm_compat:  .asciz "mode-switch: pm32 -> IA-32e (EFER.LME, CR0.PG), compatibility mode: EFER.LMA="
msg_lm64:       .asciz "long mode: far jump to 64-bit code, CS="
msg_lm64b:      .asciz " (L=1)"
msg_arith64:    .asciz "long mode: 64-bit add/mul/div/shift on r8-r14, 123456789abcdef0 + 0fedcba987654321 = "
msg_riprel:     .asciz "long mode: RIP-relative LEA/MOV, &value64 = "
msg_high:       .asciz "long mode: higher half, write via "
msg_high2:      .asciz ", read via identity and 00207000"
msg_high_code:  .asciz "long mode: code runs in the higher half, RIP="
msg_compat:     .asciz "long mode -> compatibility mode (LRETQ to a 32-bit code segment)\n"
msg_compat_in:  .asciz "compatibility mode: PUSH is 4 bytes, 40h is INC EAX, EFER.LMA=1"
msg_back64:     .asciz "compatibility mode -> 64-bit mode (far JMP), RIP="
msg_pass:       .asciz "PASS\n"
msg_failed:     .asciz "FAIL\n"
hex_digits:     .ascii "0123456789abcdef"

        .section .data
        .align 8
value64:        .quad 0x0123456789ABCDEF
failures:       .long 0
pm_esp:         .long 0
pm_idtr:        .word 0
                .long 0, 0

        .section .bss
        .align 4096
pd32:           .skip 4096
pt32:           .skip 4096
pdpt_pae:       .skip 4096
pd_pae:         .skip 4096
pt_pae:         .skip 4096
pml4:           .skip 4096
pdpt_lo:        .skip 4096
pdpt_hi:        .skip 4096
pd_lm:          .skip 4096
pt_lm:          .skip 4096
alias_page:     .skip 4096

        .section .note.GNU-stack, "", @progbits
