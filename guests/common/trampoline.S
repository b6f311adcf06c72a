/*
 * AP start-up path: a STARTUP IPI with vector 0x08 starts the AP in real mode at CS:IP =
 * 0x0800:0000 (SDM vol. 3, 9.4.4.1 and 11.6.1: "the vector field ... as the page number of
 * the start-up routine"). The real-mode part below is copied there by smp_boot(); it counts
 * its entries, loads the common GDT, sets CR0.PE and jumps to smp_ap_pm32 in the image,
 * which enables PAE with the BSP's page tables, EFER.LME and paging (SDM vol. 3, 9.8.5),
 * takes a stack slot with LOCK XADD and calls smp_ap_entry(slot) in 64-bit C.
 *
 * The real-mode part is position independent: it addresses its data through DS = CS, and
 * its far jump goes to an absolute address in the image.
 */
#include "gdt.h"
#include "smp.h"

#define EFER     0xC0000080
#define EFER_LME 0x100

        .section .rodata, "a"
        .code16
        .align 16
        .globl smp_trampoline_start, smp_trampoline_end, smp_trampoline_entries_off
smp_trampoline_start:
        cli
        cld
        mov     %cs, %ax
        mov     %ax, %ds
        lock incl (tramp_entries - smp_trampoline_start)
        lgdtl   (tramp_gdtr - smp_trampoline_start)
        mov     %cr0, %eax
        or      $1, %eax
        mov     %eax, %cr0
        ljmpl   $SEL_CODE32, $smp_ap_pm32
        .align 4
tramp_gdtr:
        .word   GDT_ENTRIES * 8 - 1
        .long   gdt
        .align 4
tramp_entries:
        .long   0
smp_trampoline_end:
        .set    smp_trampoline_entries_off, tramp_entries - smp_trampoline_start

        .text
        .code32
        .globl smp_ap_pm32
smp_ap_pm32:
        mov     $SEL_DATA32, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        mov     smp_ap_cr4, %eax        /* the BSP's CR4 (PAE, OSFXSR, OSXMMEXCPT) */
        mov     %eax, %cr4
        mov     smp_ap_cr3, %eax        /* shared page tables, below 4 GiB */
        mov     %eax, %cr3
        mov     $EFER, %ecx
        rdmsr
        or      $EFER_LME, %eax
        wrmsr
        mov     %cr0, %eax
        and     $~0x4, %eax             /* EM=0 */
        or      $0x80000002, %eax       /* PG | MP: IA-32e mode becomes active */
        mov     %eax, %cr0
        ljmp    $SEL_CODE64, $ap_lm64

        .code64
ap_lm64:
        mov     $SEL_DATA32, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        mov     $1, %eax
        lock xadd %eax, smp_ap_slots    /* EAX = this AP's slot, in arrival order */
        mov     %eax, %edi
        lea     1(%rax), %rsp
        imul    $SMP_AP_STACK_SIZE, %rsp, %rsp
        add     $SMP_AP_STACKS, %rsp
        call    smp_ap_entry            /* never returns */
1:      cli
        hlt
        jmp     1b

        .section .data
        .align 8
        .globl smp_ap_cr3, smp_ap_cr4, smp_ap_slots
smp_ap_cr3:   .long 0
smp_ap_cr4:   .long 0
smp_ap_slots: .long 0

        .section .note.GNU-stack, "", @progbits
