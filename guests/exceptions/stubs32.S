/*
 * exceptions, 32-bit protected mode: interrupt entry stubs, the probe machinery, and the
 * small instruction sequences that raise each exception (t_*: ring 0, u_*: ring 3). Each
 * sequence marks the instruction expected to fault with a label <name>_at.
 *
 *   probe_call(fn)       call fn at CPL0; returns 0 if it returned, 1 if an exception
 *                        handler aborted it (the handler restores the saved stack)
 *   probe_user(fn, sp)   IRET to fn at CPL3 on stack sp; only an exception comes back (1)
 *
 * Entry stubs push a dummy error code for vectors without one, the vector, EFLAGS as seen
 * by the handler, DS/ES and PUSHA, then call exc_handler(frame). A return value of 0 means
 * abort the probe, 1 means IRET to the interrupted code.
 */
#include "gdt.h"

        .code32
        .text

/* Vectors whose exceptions push an error code (SDM vol. 3, table 6-1). */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21)

        .macro isr vec
        .align 8
isr_\vec:
        .if !HAS_ERR(\vec)
        push    $0
        .endif
        push    $\vec
        jmp     isr_common
        .endm

        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        isr     \v
        .endr
        isr     0x80
        isr     0x81

        .section .rodata
        .align 4
        .globl isr_table
/* isr_table[0..31] = vectors 0-31, [32] = 0x80, [33] = 0x81 */
isr_table:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long   isr_\v
        .endr
        .long   isr_0x80, isr_0x81

        .text
isr_common:
        pushfl                          /* EFLAGS inside the handler: shows the gate type */
        push    %ds
        push    %es
        pushal
        mov     %esp, %ebx
        mov     $SEL_DATA32, %ax
        mov     %ax, %ds
        mov     %ax, %es
        cld
        push    %ebx
        call    exc_handler
        add     $4, %esp
        test    %eax, %eax
        jz      probe_abort
        popal
        pop     %es
        pop     %ds
        add     $12, %esp               /* handler EFLAGS, vector, error code */
        iretl

        .globl probe_call, probe_user
probe_call:
        push    %ebp
        push    %ebx
        push    %esi
        push    %edi
        mov     %esp, probe_sp
        call    *20(%esp)
        xor     %eax, %eax
probe_done:
        pop     %edi
        pop     %esi
        pop     %ebx
        pop     %ebp
        ret

probe_user:
        push    %ebp
        push    %ebx
        push    %esi
        push    %edi
        mov     %esp, probe_sp
        mov     20(%esp), %eax          /* fn */
        mov     24(%esp), %ecx          /* user stack */
        pushl   $SEL_UDATA32 | 3        /* SS */
        push    %ecx                    /* ESP */
        pushl   $0x2                    /* EFLAGS: IF=0, IOPL=0 */
        pushl   $SEL_UCODE32 | 3        /* CS */
        push    %eax                    /* EIP */
        mov     $SEL_UDATA32 | 3, %ax
        mov     %ax, %ds
        mov     %ax, %es
        iretl

probe_abort:
        cli
        mov     $SEL_DATA32, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %fs
        mov     %ax, %gs
        mov     %ax, %ss
        mov     probe_sp, %esp
        mov     $1, %eax
        jmp     probe_done

/* ---- ring 0 sequences ------------------------------------------------------------------ */
#define TEST(name) .globl name, name##_at; name:

TEST(t_div0)
        xor     %edx, %edx
        mov     $1, %eax
        xor     %ecx, %ecx
t_div0_at:
        div     %ecx
        ret

TEST(t_idiv)
        mov     $0x80000000, %eax       /* INT_MIN / -1 does not fit: #DE */
        mov     $-1, %edx
        mov     $-1, %ecx
t_idiv_at:
        idiv    %ecx
        ret

TEST(t_ud2)
t_ud2_at:
        ud2
        ret

TEST(t_int3)
        sti                             /* IF=1: the handler's EFLAGS show the gate type */
t_int3_at:
        int3
        ret

TEST(t_int3b)
t_int3b_at:
        .byte   0xCD, 0x03              /* INT 3 in its 2-byte form (gas would emit CC) */
        ret

TEST(t_into)
        mov     $0x7FFFFFFF, %eax
        add     $1, %eax                /* OF=1 */
t_into_at:
        into
        ret

TEST(t_bound)
        mov     $100, %eax
t_bound_at:
        bound   %eax, bound_range       /* 100 is outside [0, 50]: #BR */
        ret

TEST(t_gp_sel)
        mov     $0x0FFB, %ax            /* index 0x1FF, far beyond the GDT limit, RPL 3 */
t_gp_sel_at:
        mov     %ax, %ds
        ret

TEST(t_gp_sys)
        mov     $SEL_TSS, %ax           /* a TSS descriptor is not a data segment */
t_gp_sys_at:
        mov     %ax, %ds
        ret

TEST(t_np)
        mov     $SEL_SPARE0, %ax        /* data descriptor with P=0: #NP(selector) */
t_np_at:
        mov     %ax, %ds
        ret

TEST(t_gp_ss)
        xor     %eax, %eax
t_gp_ss_at:
        mov     %ax, %ss                /* null SS in protected mode: #GP(0) */
        ret

TEST(t_gp_limit)
t_gp_limit_at:
        ljmp    $SEL_SPARE1, $0x2000    /* code segment with limit 0xFFF: #GP(0) */
        ret

TEST(t_pf_read)
t_pf_read_at:
        mov     0x800010, %eax          /* not-present page */
        ret

TEST(t_pf_write)
t_pf_write_at:
        movl    $1, 0x801020            /* read-only page, CR0.WP=1 */
        ret

/* ---- ring 3 sequences (never return: the last instruction faults) ---------------------- */
TEST(u_int80)
u_int80_at:
        int     $0x80                   /* DPL3 gate: allowed; the handler IRETs back */
        .globl u_cli_at
u_cli_at:
        cli                             /* IOPL=0 < CPL: #GP(0) */
        ud2

TEST(u_hlt)
u_hlt_at:
        hlt                             /* privileged: #GP(0) */
        ud2

TEST(u_int81)
u_int81_at:
        int     $0x81                   /* DPL0 gate from CPL3: #GP(vector*8+2) */
        ud2

TEST(u_pf_sup)
u_pf_sup_at:
        mov     0x802030, %eax          /* supervisor page */
        ud2

TEST(u_pf_wnp)
u_pf_wnp_at:
        movl    $7, 0x800040            /* not-present page, write */
        ud2

TEST(u_user_ok)
        movl    $7, 0x803040            /* a user page: no fault */
        mov     0x803040, %eax
u_user_ok_at:
        ud2                             /* so the first exception is this #UD */

        .section .rodata
bound_range:
        .long   0, 50

        .section .data
probe_sp:
        .long   0

        .section .note.GNU-stack, "", @progbits
