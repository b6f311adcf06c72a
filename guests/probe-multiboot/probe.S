/*
 * probe-multiboot: a multiboot v1 kernel that reports, on COM1, exactly what the boot
 * loader handed it: the registers at entry, the multiboot information structure, the
 * memory map, the command lines, the module list and the modules' first bytes. It exists
 * to pin down what QEMU's -kernel does, so that core/loader can do the same byte for byte
 * (test/core/loader/qemu-parity.test.ts replays the captured dumps against our loader).
 *
 * Built twice from this file (see Makefile): probe.elf (ELF32, multiboot flags 0x3, loaded
 * by program headers) and probe-aout.bin (flat file, flags 0x10003: the a.out kludge
 * address fields say where it goes).
 *
 * Output format, one item per line:
 *   R <name> <hex32>            a register (or a word of GDTR/IDTR) at entry
 *   M <addr> <len>              a memory dump header, followed by lines of up to 32 bytes
 *   <hex bytes>                 ...
 *   E                           end; then the guest writes 0 to isa-debug-exit (port 0xf4)
 */

#define MB_MAGIC 0x1BADB002
#ifdef AOUT
#define MB_FLAGS 0x00010003
#else
#define MB_FLAGS 0x00000003
#endif

#define COM1 0x3f8

        .section .multiboot, "a"
        .align 4
mb_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)
#ifdef AOUT
        .long mb_header         /* header_addr */
        .long _load_start       /* load_addr */
        .long _load_end         /* load_end_addr */
        .long _bss_end          /* bss_end_addr */
        .long _start            /* entry_addr */
#endif

        .text
        .code32
        .globl _start
        .type _start, @function
_start:
        /* Save everything before touching anything. */
        movl %eax, saved_eax
        movl %ebx, saved_ebx
        movl %ecx, saved_ecx
        movl %edx, saved_edx
        movl %esi, saved_esi
        movl %edi, saved_edi
        movl %esp, saved_esp
        movl %ebp, saved_ebp
        movl $stack_top, %esp
        pushfl
        popl saved_eflags
        movw %cs, saved_cs
        movw %ds, saved_ds
        movw %es, saved_es
        movw %fs, saved_fs
        movw %gs, saved_gs
        movw %ss, saved_ss
        movl %cr0, %eax
        movl %eax, saved_cr0
        movl %cr4, %eax
        movl %eax, saved_cr4
        sgdt saved_gdtr
        sidt saved_idtr
        movzwl saved_gdtr, %eax
        movl %eax, saved_gdt_limit
        movl saved_gdtr+2, %eax
        movl %eax, saved_gdt_base
        movzwl saved_idtr, %eax
        movl %eax, saved_idt_limit
        movl saved_idtr+2, %eax
        movl %eax, saved_idt_base
        movl saved_ebx, %eax
        movl %eax, mbi

        /* Registers, in a fixed order. */
        movl $reg_names, %esi
        movl $saved_regs, %edi
1:      cmpb $0, (%esi)
        je 2f
        movb $'R', %al
        call putc
        movb $' ', %al
        call putc
        call puts               /* name; esi advances past the NUL */
        movb $' ', %al
        call putc
        movl (%edi), %eax
        call puthex32
        call newline
        addl $4, %edi
        jmp 1b
2:
        /* The multiboot information structure (88 bytes, as QEMU builds it). */
        movl mbi, %esi
        movl $88, %ecx
        call dump

        /* The memory map: mmap_addr (+48), mmap_length (+44). */
        movl mbi, %ebx
        movl 48(%ebx), %esi
        movl 44(%ebx), %ecx
        call dump

        /* The page holding the module list, the command lines and the boot loader name:
         * from mods_addr (+24) to the end of its page. */
        movl mbi, %ebx
        movl 24(%ebx), %esi
        movl %esi, %ecx
        addl $0xfff, %ecx
        andl $0xfffff000, %ecx
        subl %esi, %ecx
        jnz 3f
        movl $4096, %ecx
3:      call dump

        /* Kernel tail: from _end to the page boundary (QEMU pads the image to a page). */
        movl $_end, %esi
        movl %esi, %ecx
        addl $0xfff, %ecx
        andl $0xfffff000, %ecx
        subl %esi, %ecx
        jz 4f
        call dump
4:
        /* Each module: its first 64 bytes (or fewer) and its padding to the page end. */
        movl mbi, %ebx
        movl 20(%ebx), %ebp     /* mods_count */
        movl 24(%ebx), %edi     /* mods_addr */
5:      testl %ebp, %ebp
        jz 7f
        movl (%edi), %esi       /* mod_start */
        movl 4(%edi), %ecx      /* mod_end */
        subl %esi, %ecx
        cmpl $64, %ecx
        jbe 6f
        movl $64, %ecx
6:      call dump
        movl 4(%edi), %esi      /* mod_end .. page end */
        movl %esi, %ecx
        addl $0xfff, %ecx
        andl $0xfffff000, %ecx
        subl %esi, %ecx
        jz 8f
        call dump
8:      addl $16, %edi
        decl %ebp
        jmp 5b
7:
        movb $'E', %al
        call putc
        call newline
        movw $0xf4, %dx
        movb $0, %al
        outb %al, %dx
9:      cli
        hlt
        jmp 9b
        .size _start, . - _start

/* dump: esi = address, ecx = length. Prints "M addr len" then 32 bytes per line. */
        .type dump, @function
dump:
        pushl %eax
        pushl %ecx
        pushl %edx
        pushl %esi
        movb $'M', %al
        call putc
        movb $' ', %al
        call putc
        movl %esi, %eax
        call puthex32
        movb $' ', %al
        call putc
        movl %ecx, %eax
        call puthex32
        call newline
        xorl %edx, %edx         /* bytes on this line */
1:      testl %ecx, %ecx
        jz 3f
        movb (%esi), %al
        call puthex8
        incl %esi
        decl %ecx
        incl %edx
        cmpl $32, %edx
        jne 1b
        call newline
        xorl %edx, %edx
        jmp 1b
3:      testl %edx, %edx
        jz 4f
        call newline
4:      popl %esi
        popl %edx
        popl %ecx
        popl %eax
        ret
        .size dump, . - dump

/* puts: esi = NUL-terminated string; returns esi past the NUL. */
        .type puts, @function
puts:
1:      lodsb
        testb %al, %al
        jz 2f
        call putc
        jmp 1b
2:      ret
        .size puts, . - puts

        .type newline, @function
newline:
        movb $'\n', %al
        jmp putc
        .size newline, . - newline

/* puthex32: eax. */
        .type puthex32, @function
puthex32:
        pushl %eax
        roll $8, %eax
        call puthex8
        roll $8, %eax
        call puthex8
        roll $8, %eax
        call puthex8
        roll $8, %eax
        call puthex8
        popl %eax
        ret
        .size puthex32, . - puthex32

/* puthex8: al (preserves eax). */
        .type puthex8, @function
puthex8:
        pushl %eax
        pushl %eax
        shrb $4, %al
        call puthex4
        popl %eax
        call puthex4
        popl %eax
        ret
        .size puthex8, . - puthex8

        .type puthex4, @function
puthex4:
        andb $0xf, %al
        addb $'0', %al
        cmpb $'9', %al
        jbe putc
        addb $('a' - '0' - 10), %al
        /* fall through */
        .size puthex4, . - puthex4

/* putc: al. Waits for THR empty (LSR bit 5), then writes. */
        .type putc, @function
putc:
        pushl %edx
        pushl %eax
        movw $(COM1 + 5), %dx
1:      inb %dx, %al
        testb $0x20, %al
        jz 1b
        popl %eax
        movw $COM1, %dx
        outb %al, %dx
        popl %edx
        ret
        .size putc, . - putc

        .section .rodata
reg_names:
        .asciz "eax"
        .asciz "ebx"
        .asciz "ecx"
        .asciz "edx"
        .asciz "esi"
        .asciz "edi"
        .asciz "esp"
        .asciz "ebp"
        .asciz "eflags"
        .asciz "cs"
        .asciz "ds"
        .asciz "es"
        .asciz "fs"
        .asciz "gs"
        .asciz "ss"
        .asciz "cr0"
        .asciz "cr4"
        .asciz "gdtr.limit"
        .asciz "gdtr.base"
        .asciz "idtr.limit"
        .asciz "idtr.base"
        .byte 0

        .data
        .align 4
        .globl saved_regs
        .type saved_regs, @object
saved_regs:
saved_eax:      .long 0
saved_ebx:      .long 0
saved_ecx:      .long 0
saved_edx:      .long 0
saved_esi:      .long 0
saved_edi:      .long 0
saved_esp:      .long 0
saved_ebp:      .long 0
saved_eflags:   .long 0
saved_cs:       .long 0
saved_ds:       .long 0
saved_es:       .long 0
saved_fs:       .long 0
saved_gs:       .long 0
saved_ss:       .long 0
saved_cr0:      .long 0
saved_cr4:      .long 0
saved_gdt_limit: .long 0
saved_gdt_base: .long 0
saved_idt_limit: .long 0
saved_idt_base: .long 0
        .size saved_regs, . - saved_regs
mbi:            .long 0
/* sgdt/sidt store 6 bytes (limit16, base32); a scratch pair each, split below. */
saved_gdtr:     .word 0
                .long 0
saved_idtr:     .word 0
                .long 0

        .bss
        .align 16
        .type stack, @object
stack:  .skip 4096
stack_top:
        .size stack, . - stack
