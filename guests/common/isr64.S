/*
 * 64-bit interrupt entry stubs, one per vector, 16 bytes apart from isr_stubs: each pushes
 * a dummy error code where the CPU pushes none (SDM vol. 3, table 6-1: vectors 8, 10-14,
 * 17, 21, 29, 30 push one), then its vector, and joins isr_common, which saves the general
 * registers and calls isr_dispatch(struct isr_frame *) (common/smp.c). Only the general
 * registers are saved: C code that runs in handlers is built with -mgeneral-regs-only.
 */
        .code64
        .text
        .altmacro
.macro isr_stub v
        .align 16
        .if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
        .else
        pushq   $0
        .endif
        pushq   $\v
        jmp     isr_common
.endm

        .align 16
        .globl isr_stubs
isr_stubs:
        .set    vec, 0
        .rept   256
        isr_stub %vec
        .set    vec, vec + 1
        .endr

/* The CPU aligned RSP to 16 before pushing its 5-word frame (SDM vol. 3, 6.14.2); with
   the 2 words above and 15 registers the frame is 22 words, so the call below sees the
   stack as the ABI wants it. */
isr_common:
        push    %rax
        push    %rbx
        push    %rcx
        push    %rdx
        push    %rsi
        push    %rdi
        push    %rbp
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        mov     %rsp, %rdi
        cld
        call    isr_dispatch
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rbp
        pop     %rdi
        pop     %rsi
        pop     %rdx
        pop     %rcx
        pop     %rbx
        pop     %rax
        add     $16, %rsp
        iretq

        .section .note.GNU-stack, "", @progbits
