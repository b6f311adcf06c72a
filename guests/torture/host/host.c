/*
 * The torture tests as a Linux program without libc, to record what this machine's CPU
 * computes (the hardware reference in ../reference.h). Built and run by
 * `make torture-reference`, as a 32-bit and as a 64-bit static executable. It prints
 * one "REF|name|tag|checksum" line per checksum.
 *
 * The tests run in ring 3 here and in ring 0 in the guest; nothing they fold depends on
 * that (POPF cannot change IF or IOPL in ring 3, but only arithmetic flags are folded).
 */
#include "../harness.h"

static char out[8192];
static unsigned out_len;

static long sys_write(int fd, const void *p, unsigned long n) {
    long r;
#ifdef __x86_64__
    __asm__ volatile("syscall" : "=a"(r) : "a"(1L), "D"((long)fd), "S"(p), "d"(n) : "rcx", "r11", "memory");
#else
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(4L), "b"(fd), "c"(p), "d"(n) : "memory");
#endif
    return r;
}

static void flush(void) {
    unsigned done = 0;
    while (done < out_len) {
        long n = sys_write(1, out + done, out_len - done);
        if (n <= 0) break;
        done += (unsigned)n;
    }
    out_len = 0;
}

void con_putc(char c) {
    out[out_len++] = c;
    if (out_len == sizeof out) flush();
}

void guest_exit(uint32_t code) {
    flush();
#ifdef __x86_64__
    __asm__ volatile("syscall" : : "a"(60L), "D"((long)code));
#else
    __asm__ volatile("int $0x80" : : "a"(1L), "b"(code));
#endif
    for (;;) {
    }
}

int host_main(void);
int host_main(void) {
    guest_exit(torture_run() ? 1 : 0);
}

/* Process entry: the kernel leaves the stack 16-byte aligned; a call makes it look like
   any function entry to the C code. */
__asm__(".text\n.globl _start\n_start:\n\tand $-16, %" 
#ifdef __x86_64__
        "rsp"
#else
        "esp"
#endif
        "\n\tcall host_main\n\thlt\n");
