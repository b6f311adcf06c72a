/*
 * lm_enter(entry64): from 32-bit protected mode (paging off) into 64-bit long mode, then
 * call the 64-bit function `int entry64(void)` and hand its return value to
 * isa-debug-exit. Never returns.
 *
 * The switch follows SDM vol. 3, 9.8.5 "Initializing IA-32e Mode": CR4.PAE=1, CR3 = PML4,
 * IA32_EFER.LME=1, then CR0.PG=1 (the processor sets EFER.LMA), then a far jump into a
 * code segment with L=1. Paging: identity map of the first 4 GiB with 2 MiB pages,
 * supervisor read/write; the upper levels also allow user access so a guest can hand
 * single pages to ring 3 by changing only the leaf. SSE is enabled (CR0.EM=0, CR0.MP=1,
 * CR4.OSFXSR, CR4.OSXMMEXCPT) because gcc's x86-64 code uses it freely.
 *
 * lm_pml4/lm_pdpt/lm_pd are exported so guests can add mappings of their own.
 */
#include "gdt.h"

#define PTE_P   0x001
#define PTE_RW  0x002
#define PTE_US  0x004
#define PTE_PS  0x080
#define EFER    0xC0000080
#define EFER_LME 0x100

        .code32
        .text
        .globl lm_build_tables
        .type lm_build_tables, @function
lm_build_tables:
        push    %edi
        push    %ecx
        push    %eax
        mov     $lm_pdpt + (PTE_P | PTE_RW | PTE_US), %eax
        mov     %eax, lm_pml4
        /* PDPT[0..3] -> the four page directories */
        xor     %ecx, %ecx
1:      mov     %ecx, %eax
        shl     $12, %eax
        add     $lm_pd + (PTE_P | PTE_RW | PTE_US), %eax
        mov     %eax, lm_pdpt(,%ecx,8)
        inc     %ecx
        cmp     $4, %ecx
        jne     1b
        /* PD entries 0..2047: 2 MiB pages, identity */
        xor     %ecx, %ecx
2:      mov     %ecx, %eax
        shl     $21, %eax
        or      $(PTE_P | PTE_RW | PTE_PS), %eax
        mov     %eax, lm_pd(,%ecx,8)
        inc     %ecx
        cmp     $2048, %ecx
        jne     2b
        pop     %eax
        pop     %ecx
        pop     %edi
        ret

        .globl lm_enter
        .type lm_enter, @function
lm_enter:
        mov     4(%esp), %edi           /* the 64-bit entry point */
        call    lm_build_tables
        mov     %cr0, %eax
        and     $~0x4, %eax             /* EM=0: SSE instructions execute */
        or      $0x2, %eax              /* MP=1 */
        mov     %eax, %cr0
        mov     %cr4, %eax
        or      $0x620, %eax            /* PAE | OSFXSR | OSXMMEXCPT */
        mov     %eax, %cr4
        mov     $lm_pml4, %eax
        mov     %eax, %cr3
        mov     $EFER, %ecx
        rdmsr
        or      $EFER_LME, %eax
        wrmsr
        mov     %cr0, %eax
        or      $0x80000001, %eax       /* PG | PE: IA-32e mode becomes active */
        mov     %eax, %cr0
        ljmp    $SEL_CODE64, $lm_entry64

        .code64
lm_entry64:
        mov     $SEL_DATA32, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        /* The upper halves of the registers are undefined after the switch (SDM vol. 1,
           3.4.1.1): zero-extend what we carry over. */
        mov     %esp, %esp
        and     $-16, %rsp
        mov     %edi, %edi
        call    *%rdi
        mov     $DEBUG_EXIT, %dx
        out     %eax, %dx
1:      cli
        hlt
        jmp     1b

        .section .bss
        .align 4096
        .globl lm_pml4, lm_pdpt, lm_pd
lm_pml4: .skip 4096
lm_pdpt: .skip 4096
lm_pd:   .skip 4 * 4096

        .section .note.GNU-stack, "", @progbits
