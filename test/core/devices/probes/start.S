# Multiboot v1 entry for the device probe guests: QEMU -kernel loads this ELF32,
# enters at _start in 32-bit protected mode with paging off.
        .section .multiboot, "a"
        .align 4
        .long 0x1BADB002
        .long 0
        .long -0x1BADB002
        .text
        .globl _start
_start:
        mov $stack_top, %esp
        push %ebx
        push %eax
        call probe_main
1:      hlt
        jmp 1b
        .bss
        .align 16
        .space 16384
stack_top:
