/*
 * asm-ipi: the BSP brings up the APs with INIT-SIPI-SIPI written straight to the local APIC's
 * interrupt command register, in assembly (SDM vol. 3, 9.4.4.1 "Typical BSP Initialization
 * Sequence", which broadcasts with the all-excluding-self shorthand as done here):
 *
 *   INIT (level assert), INIT level de-assert, 10 ms, STARTUP, 200 us, STARTUP
 *
 * Each AP starts in real mode at TRAMPOLINE (0x8000, STARTUP vector 0x08): the trampoline
 * below counts the AP in, records its initial APIC ID, and halts with interrupts off. The
 * second STARTUP finds the APs halted, not waiting for SIPI, so it is ignored: each AP
 * enters the trampoline once.
 *
 * Then the BSP writes one ICR value the SDM rules out on purpose (ICR_BAD_STARTUP_SELF: a
 * STARTUP with the self shorthand, invalid in the table "Valid Combinations for the Pentium 4
 * and Intel Xeon Processors' Local xAPIC Interrupt Command Register"). The local APIC does
 * not send it. The guest checks that nothing happened: no trampoline entry, the BSP still
 * here. (An honoured STARTUP would not do more: the BSP is not waiting for SIPI. QEMU, which
 * does not check the table, shows exactly that, so the output is the same everywhere.) In
 * VS Code the language server flags the line, and the debugger shows the ignored write.
 *
 * The number of CPUs comes from fw_cfg (key 0x05, NB_CPUS). The delays sleep on the LAPIC
 * timer (one-shot, divide by 1: 1 ns per count on QEMU's and Hyperstep's 1 GHz APIC bus)
 * with HLT. Only counts and APIC IDs are printed, never times, so the output is the same
 * under QEMU and Hyperstep.
 *
 * 32-bit protected mode, paging off: the LAPIC page is at its reset address, 0xFEE00000.
 */
#include "gdt.h"

/* Local APIC registers (SDM vol. 3, table "Local APIC Register Address Map"). */
#define LAPIC_BASE        0xFEE00000
#define LAPIC_EOI         0x0B0
#define LAPIC_SVR         0x0F0
#define LAPIC_ICR_LO      0x300
#define LAPIC_ICR_HI      0x310
#define LAPIC_LVT_TIMER   0x320
#define LAPIC_LVT_LINT0   0x350
#define LAPIC_LVT_LINT1   0x360
#define LAPIC_LVT_ERROR   0x370
#define LAPIC_TIMER_ICR   0x380
#define LAPIC_TIMER_DCR   0x3E0

#define SVR_ENABLE        0x100
#define LVT_MASKED        0x10000
#define ICR_BUSY          0x1000         /* delivery status: send pending */
#define TIMER_DIVIDE_1    0xB

#define VEC_TIMER         0x40
#define VEC_SPURIOUS      0xFF

/* The AP start-up page: below 1 MiB, 4 KiB aligned; the STARTUP vector (0x08) is its page number. */
#define TRAMPOLINE        0x8000

/* ICR low words: vector | delivery mode << 8 | level << 14 | trigger << 15 | shorthand << 18. */
#define ICR_INIT_ALL_BUT_SELF      0x000C4500  /* INIT, assert, edge, all excluding self */
#define ICR_INIT_DEASSERT_ALL      0x000C8500  /* INIT level de-assert (level trigger, level 0) */
#define ICR_STARTUP_ALL_BUT_SELF   0x000C4608  /* STARTUP, vector 0x08: start at 0x8000 */
#define ICR_BAD_STARTUP_SELF       0x00044608  /* STARTUP with the self shorthand: invalid */

/* fw_cfg (QEMU's firmware configuration interface): a 16-bit key, then little-endian data. */
#define FW_CFG_SELECTOR   0x510
#define FW_CFG_DATA       0x511
#define FW_CFG_NB_CPUS    0x05

/* Legacy PICs: masked, so that only the interrupts we ask for arrive. */
#define PIC1_DATA         0x21
#define PIC2_DATA         0xA1

        .code32
        .text
        .globl guest_main
        .type guest_main, @function
guest_main:
        push    %ebx
        push    %esi
        push    %edi
        mov     $msg_hello, %esi
        call    ser_puts

        /* How many CPUs the machine has: fw_cfg NB_CPUS. */
        mov     $FW_CFG_NB_CPUS, %ax
        mov     $FW_CFG_SELECTOR, %dx
        out     %ax, %dx
        mov     $FW_CFG_DATA, %dx
        in      %dx, %al
        movzbl  %al, %ecx
        in      %dx, %al
        movzbl  %al, %eax
        shl     $8, %eax
        or      %eax, %ecx
        mov     %ecx, ncpus
        mov     $msg_cpus, %esi
        call    ser_puts
        mov     %ecx, %eax
        call    ser_dec32
        mov     $msg_cpus_end, %esi
        call    ser_puts

        /* Interrupts: the PICs masked, the LAPIC software-enabled with its local pins
           masked, an IDT with the timer and the spurious vector. IF stays 0 except in HLT. */
        mov     $0xFF, %al
        out     %al, $PIC1_DATA
        out     %al, $PIC2_DATA
        mov     $LAPIC_BASE, %ebx
        movl    $(SVR_ENABLE | VEC_SPURIOUS), LAPIC_SVR(%ebx)
        movl    $LVT_MASKED, LAPIC_LVT_LINT0(%ebx)
        movl    $LVT_MASKED, LAPIC_LVT_LINT1(%ebx)
        movl    $(LVT_MASKED | 0xFE), LAPIC_LVT_ERROR(%ebx)
        movl    $(LVT_MASKED | VEC_TIMER), LAPIC_LVT_TIMER(%ebx)
        mov     $VEC_TIMER, %eax
        mov     $timer_isr, %edx
        call    set_gate
        mov     $VEC_SPURIOUS, %eax
        mov     $spurious_isr, %edx
        call    set_gate
        lidt    idt_ptr

        /* The trampoline goes to its page below 1 MiB. */
        mov     $trampoline, %esi
        mov     $TRAMPOLINE, %edi
        mov     $(trampoline_end - trampoline), %ecx
        cld
        rep movsb

        cmpl    $1, ncpus
        jbe     no_aps

        /* INIT-SIPI-SIPI. With a shorthand the destination field (ICR high) is not used;
           it is written first all the same, as a targeted IPI needs: the low half sends. */
        movl    $0, LAPIC_ICR_HI(%ebx)
        movl    $ICR_INIT_ALL_BUT_SELF, LAPIC_ICR_LO(%ebx)
        call    icr_wait
        movl    $ICR_INIT_DEASSERT_ALL, LAPIC_ICR_LO(%ebx)
        call    icr_wait
        mov     $10000, %eax
        call    delay_us
        movl    $ICR_STARTUP_ALL_BUT_SELF, LAPIC_ICR_LO(%ebx)
        call    icr_wait
        mov     $200, %eax
        call    delay_us
        movl    $ICR_STARTUP_ALL_BUT_SELF, LAPIC_ICR_LO(%ebx)
        call    icr_wait

        /* Wait for every AP to check in: up to 100 ms, 100 us at a time. */
        mov     ncpus, %edi
        dec     %edi                    /* EDI = APs expected */
        mov     $1000, %esi
wait_aps:
        cmp     %edi, TRAMPOLINE + (ap_count - trampoline)
        jae     aps_in
        mov     $100, %eax
        call    delay_us
        dec     %esi
        jnz     wait_aps
aps_in:
        mov     TRAMPOLINE + (ap_count - trampoline), %eax
        mov     %eax, started
        mov     $msg_started, %esi
        call    ser_puts
        call    ser_dec32
        mov     $msg_started_end, %esi
        call    ser_puts
        cmp     %edi, %eax
        je      1f
        incl    problems
1:      call    print_apic_ids

        /* The illegal one, on purpose: STARTUP to self. The local APIC does not send it. */
        movl    $ICR_BAD_STARTUP_SELF, LAPIC_ICR_LO(%ebx)
        call    icr_wait
        mov     $200, %eax
        call    delay_us
        mov     TRAMPOLINE + (ap_count - trampoline), %eax
        cmp     started, %eax
        je      2f
        incl    problems
        mov     $msg_bad_entered, %esi
        call    ser_puts
        jmp     done
2:      mov     $msg_bad_ignored, %esi
        call    ser_puts
        mov     $ICR_BAD_STARTUP_SELF, %eax
        call    ser_hex32
        mov     $msg_bad_ignored_end, %esi
        call    ser_puts
        jmp     done

no_aps:
        mov     $msg_no_aps, %esi
        call    ser_puts
done:
        mov     $msg_pass, %esi
        cmpl    $0, problems
        je      3f
        mov     $msg_fail, %esi
3:      call    ser_puts
        mov     problems, %eax          /* 0 = PASS: multiboot.S writes it to isa-debug-exit */
        pop     %edi
        pop     %esi
        pop     %ebx
        ret

/* icr_wait: until the ICR's delivery status is idle again. */
icr_wait:
        testl   $ICR_BUSY, LAPIC_BASE + LAPIC_ICR_LO
        jz      1f
        pause
        jmp     icr_wait
1:      ret

/* delay_us: sleeps EAX microseconds on the LAPIC timer, one-shot. */
delay_us:
        push    %eax
        imul    $1000, %eax, %eax       /* divide by 1 on a 1 GHz bus: counts are ns */
        movl    $0, timer_fired
        movl    $TIMER_DIVIDE_1, LAPIC_BASE + LAPIC_TIMER_DCR
        movl    $VEC_TIMER, LAPIC_BASE + LAPIC_LVT_TIMER     /* one-shot, unmasked */
        mov     %eax, LAPIC_BASE + LAPIC_TIMER_ICR
1:      sti                             /* STI's shadow covers HLT: no wake-up is lost */
        hlt
        cli
        cmpl    $0, timer_fired
        je      1b
        movl    $(LVT_MASKED | VEC_TIMER), LAPIC_BASE + LAPIC_LVT_TIMER
        pop     %eax
        ret

/* print_apic_ids: "asm-ipi: APIC IDs 1 2 3 checked in" from the trampoline's bitmap. */
print_apic_ids:
        push    %eax
        push    %ecx
        push    %edx
        mov     $msg_ids, %esi
        call    ser_puts
        mov     TRAMPOLINE + (ap_ids - trampoline), %edx
        xor     %ecx, %ecx
4:      bt      %ecx, %edx
        jnc     5f
        mov     $' ', %al
        call    ser_putc
        mov     %ecx, %eax
        call    ser_dec32
5:      inc     %ecx
        cmp     $32, %ecx
        jb      4b
        mov     $msg_ids_end, %esi
        call    ser_puts
        pop     %edx
        pop     %ecx
        pop     %eax
        ret

/* set_gate: IDT entry EAX -> handler EDX, a 32-bit interrupt gate (SDM vol. 3, 6.11). */
set_gate:
        lea     idt(, %eax, 8), %eax
        mov     %dx, (%eax)             /* offset 15:0 */
        movw    $SEL_CODE32, 2(%eax)
        movw    $0x8E00, 4(%eax)        /* present, DPL 0, 32-bit interrupt gate */
        shr     $16, %edx
        mov     %dx, 6(%eax)            /* offset 31:16 */
        ret

timer_isr:
        movl    $1, timer_fired
        movl    $0, LAPIC_BASE + LAPIC_EOI
        iret

spurious_isr:                           /* no EOI for the spurious vector (SDM 11.9) */
        iret

/*
 * The AP side, copied to TRAMPOLINE. A STARTUP with vector 0x08 starts the AP in real mode
 * at CS:IP = 0x0800:0000 (SDM vol. 3, 11.6.1: the vector is the page number). Position
 * independent: data through DS = CS. Each AP counts itself in, sets the bit of its initial
 * APIC ID (CPUID leaf 1, EBX bits 31:24), and halts for good (IF = 0 after the STARTUP).
 */
        .code16
trampoline:
        cli
        mov     %cs, %ax
        mov     %ax, %ds
        mov     $1, %eax
        cpuid
        shr     $24, %ebx
        cmp     $32, %ebx
        jae     6f
        lock btsl %ebx, (ap_ids - trampoline)
6:      lock incl (ap_count - trampoline)
ap_halt:
        hlt
        jmp     ap_halt
        .align 4
ap_count:
        .long   0
ap_ids:
        .long   0
trampoline_end:
        .code32

        .section .rodata
msg_hello:            .asciz "asm-ipi: INIT-SIPI-SIPI from assembly\n"
msg_cpus:             .asciz "asm-ipi: fw_cfg NB_CPUS = "
msg_cpus_end:         .asciz "\n"
msg_no_aps:           .asciz "asm-ipi: no APs to start\n"
msg_started:          .asciz "asm-ipi: "
msg_started_end:      .asciz " APs started\n"
msg_ids:              .asciz "asm-ipi: APIC IDs"
msg_ids_end:          .asciz " checked in\n"
msg_bad_ignored:      .asciz "asm-ipi: illegal ICR "
msg_bad_ignored_end:  .asciz " (STARTUP to self) ignored\n"
msg_bad_entered:      .asciz "asm-ipi: illegal STARTUP to self entered the trampoline\n"
msg_pass:             .asciz "PASS\n"
msg_fail:             .asciz "FAIL\n"

        .section .data
        .align 4
idt_ptr:
        .word   256 * 8 - 1
        .long   idt

        .section .bss
        .align 8
idt:            .skip 256 * 8
ncpus:          .skip 4
started:        .skip 4
problems:       .skip 4
timer_fired:    .skip 4

        .section .note.GNU-stack, "", @progbits
