/*
 * Multiboot v1 entry shared by every guest: the header QEMU's -kernel (and Hyperstep's
 * loader) look for, the 32-bit entry point, the common GDT, the stack, and debug_exit.
 *
 * Contract with the guest: the guest defines `guest_main(magic, info)` (cdecl, 32-bit
 * protected mode, flat segments, paging off, interrupts off, COM1 initialised). Its
 * return value is written to isa-debug-exit, so QEMU exits with status (value << 1) | 1:
 * return 0 for PASS.
 *
 * Assembled both into ELF32 images (as --32) and, for images that also hold 64-bit code,
 * into ELF64 objects that the Makefile links and converts to ELF32 (.code32 keeps this
 * file 32-bit code either way).
 */
#include "gdt.h"

        .code32

/* Multiboot header (Multiboot spec 0.6.96, 3.1): must lie in the first 8 KiB of the file,
   4-byte aligned. Flags: bit 0 = page-align modules, bit 1 = provide memory info. No
   a.out kludge (bit 16): the loader uses the ELF program headers. */
#define MB_FLAGS 0x00000003
        .section .multiboot, "a"
        .align 4
        .long MB_HEADER_MAGIC
        .long MB_FLAGS
        .long -(MB_HEADER_MAGIC + MB_FLAGS)

        .section .text.boot, "ax"
        .globl _start
        .type _start, @function
_start:
        cli
        cld
        mov     %eax, %edx              /* keep the boot magic: rep stos below uses EAX */
        /* The loader's GDT lives in memory we do not own (SeaBIOS/option ROM): load ours
           before touching any segment register (Multiboot spec 3.2: "the OS image must
           create its own GDT as soon as it needs to load segment registers"). */
        lgdt    gdt_ptr
        ljmp    $SEL_CODE32, $1f
1:      mov     $SEL_DATA32, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        /* Zero .bss ourselves rather than trust every loader to honour p_memsz. EBX (the
           multiboot information pointer) and EDX survive rep stosl. */
        mov     $__bss_start, %edi
        mov     $__bss_end, %ecx
        sub     %edi, %ecx
        shr     $2, %ecx                /* link.ld aligns both ends to 16 */
        xor     %eax, %eax
        rep stosl
        mov     $stack_top, %esp
        mov     %edx, mb_magic
        mov     %ebx, mb_info
        call    serial_init
        push    %ebx
        push    %edx
        call    guest_main
        /* fall through with the exit value in EAX */

/* debug_exit: EAX = value for isa-debug-exit (port 0xF4). Never returns: if no exit
   device is present the CPU halts with interrupts off. Callable from 32-bit code with the
   value in EAX, or as cdecl debug_exit(value) after loading EAX from the stack. */
        .globl debug_exit
        .type debug_exit, @function
debug_exit:
        mov     $DEBUG_EXIT, %dx
        out     %eax, %dx
2:      cli
        hlt
        jmp     2b

        .globl debug_exit_c
        .type debug_exit_c, @function
debug_exit_c:
        mov     4(%esp), %eax
        jmp     debug_exit

        .section .data
        .align 16
        .globl gdt
/* Descriptors with the accessed bit already set, so loading a selector never writes the
   GDT (SDM vol. 3, 3.4.5.1: the processor sets it on load otherwise). */
gdt:
        .quad 0                         /* 0x00 null */
        .quad 0x00CF9B000000FFFF        /* 0x08 code32: base 0, limit 4 GiB, DPL0, D=1 */
        .quad 0x00CF93000000FFFF        /* 0x10 data:   base 0, limit 4 GiB, DPL0, B=1 */
        .quad 0x00AF9B000000FFFF        /* 0x18 code64: L=1, D=0, DPL0 */
        .quad 0x00CFFB000000FFFF        /* 0x20 user code32, DPL3 */
        .quad 0x00CFF3000000FFFF        /* 0x28 user data, DPL3 */
        .quad 0x00AFFB000000FFFF        /* 0x30 user code64, DPL3 */
        .quad 0x00009B000000FFFF        /* 0x38 code16: base 0, limit 0xFFFF, byte granular */
        .quad 0x000093000000FFFF        /* 0x40 data16: base 0, limit 0xFFFF */
        .quad 0, 0                      /* 0x48 TSS (16 bytes in long mode), filled by guests */
        .quad 0, 0, 0, 0                /* 0x58..0x70: spare, for guests' own descriptors */
gdt_end:
        .align 4
        .word 0
        .globl gdt_ptr
gdt_ptr:
        .word gdt_end - gdt - 1
        .long gdt
        .long 0                         /* upper half of the base for a 64-bit LGDT */

        .globl mb_magic, mb_info, guest_mailbox
mb_magic: .long 0
mb_info:  .long 0
guest_mailbox: .long 0, 0, 0, 0

        .section .bss
        .align 16
        .globl stack_bottom, stack_top
stack_bottom:
        .skip 16384
stack_top:

        .section .note.GNU-stack, "", @progbits
