/*
 * exceptions, 64-bit long mode: entry stubs for the 64-bit IDT, the probe machinery and
 * the instruction sequences (see stubs32.S for the conventions; the frame here is
 * r15..rax, handler RFLAGS, vector, error code, then RIP CS RFLAGS RSP SS as the CPU
 * pushes them in IA-32e mode, always including SS:RSP: SDM vol. 3, 6.14.2).
 */
#include "gdt.h"

        .code64
        .text

#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21)

        .macro isr vec
        .align 8
isr_\vec:
        .if !HAS_ERR(\vec)
        pushq   $0
        .endif
        pushq   $\vec
        jmp     isr_common
        .endm

        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        isr     \v
        .endr
        isr     0x80
        isr     0x81

        .section .rodata
        .align 8
        .globl isr_table
isr_table:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad   isr_\v
        .endr
        .quad   isr_0x80, isr_0x81

        .text
isr_common:
        pushfq
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
        mov     %rsp, %rbx
        and     $-16, %rsp              /* the ABI wants a 16-byte aligned stack at calls */
        cld
        call    exc_handler
        mov     %rbx, %rsp
        test    %eax, %eax
        jz      probe_abort
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
        add     $24, %rsp               /* handler RFLAGS, vector, error code */
        iretq

        .globl probe_call, probe_user
probe_call:                             /* rdi = fn */
        push    %rbp
        push    %rbx
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        mov     %rsp, probe_sp(%rip)
        sub     $8, %rsp                /* keep the call 16-byte aligned */
        call    *%rdi
        add     $8, %rsp
        xor     %eax, %eax
probe_done:
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbx
        pop     %rbp
        ret

probe_user:                             /* rdi = fn, rsi = user stack */
        push    %rbp
        push    %rbx
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        mov     %rsp, probe_sp(%rip)
        pushq   $SEL_UDATA32 | 3        /* SS */
        push    %rsi                    /* RSP */
        pushq   $0x2                    /* RFLAGS: IF=0, IOPL=0 */
        pushq   $SEL_UCODE64 | 3        /* CS */
        push    %rdi                    /* RIP */
        mov     $SEL_UDATA32 | 3, %ax
        mov     %ax, %ds
        mov     %ax, %es
        iretq

probe_abort:
        cli
        mov     $SEL_DATA32, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     probe_sp(%rip), %rsp
        mov     $1, %eax
        jmp     probe_done

/* ---- ring 0 sequences ------------------------------------------------------------------ */
#define TEST(name) .globl name, name##_at; name:

TEST(t_div0)
        xor     %edx, %edx
        mov     $1, %eax
        xor     %ecx, %ecx
t_div0_at:
        div     %rcx
        ret

TEST(t_ud2)
t_ud2_at:
        ud2
        ret

TEST(t_int3)
        sti
t_int3_at:
        int3
        ret

TEST(t_gp_canon)
        movabs  $0x8000000000000000, %rax   /* not canonical: #GP(0) (not #SS: no stack use) */
t_gp_canon_at:
        mov     (%rax), %rax
        ret

TEST(t_gp_sel)
        mov     $0x0FFB, %ax
t_gp_sel_at:
        mov     %ax, %ds
        ret

TEST(t_np)
        mov     $SEL_SPARE0, %ax
t_np_at:
        mov     %ax, %ds
        ret

TEST(t_gp_limit)
t_gp_limit_at:
        ljmpl   *far_target(%rip)       /* to a compatibility-mode segment, offset > limit */
        ret

TEST(t_pf_read)
t_pf_read_at:
        mov     0x800010, %eax
        ret

TEST(t_pf_write)
t_pf_write_at:
        movl    $1, 0x801020
        ret

TEST(t_pf_nx)
        mov     $0x804000, %eax         /* present page with XD=1 */
t_pf_nx_at:
        call    *%rax
        ret

/* #DF by a contributory exception during delivery of another: #DE finds its gate not
   present (#NP). The C side clears the gate's P bit first. */
TEST(t_df_gate)
        xor     %edx, %edx
        mov     $1, %eax
        xor     %ecx, %ecx
t_df_gate_at:
        div     %ecx
        ret

/* #DF by page faults while pushing the #UD frame on an unmapped stack: the #PF cannot be
   delivered either, and #PF during #PF delivery is a double fault. Its handler runs on
   IST1, the only usable stack. */
TEST(t_df_stack)
        mov     $0x801000, %esp         /* top of the not-present page 0x800000 */
t_df_stack_at:
        ud2
        ret

/* ---- ring 3 sequences -------------------------------------------------------------------- */
TEST(u_int80)
u_int80_at:
        int     $0x80
        .globl u_cli_at
u_cli_at:
        cli
        ud2

TEST(u_hlt)
u_hlt_at:
        hlt
        ud2

TEST(u_pf_sup)
u_pf_sup_at:
        mov     0x802030, %eax
        ud2

TEST(u_pf_wnp)
u_pf_wnp_at:
        movl    $7, 0x800040
        ud2

TEST(u_user_ok)
        movl    $7, 0x803040
        mov     0x803040, %eax
u_user_ok_at:
        ud2

        .section .data
        .align 8
probe_sp:
        .quad   0
far_target:
        .long   0x2000                  /* offset */
        .word   SEL_SPARE1              /* 32-bit code segment, limit 0xFFF */

        .section .note.GNU-stack, "", @progbits
