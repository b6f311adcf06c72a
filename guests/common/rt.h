/*
 * The C runtime for guests: console output on COM1, a small printf, the memory functions
 * gcc may call on its own (memcpy, memset, memmove, memcmp), and debug_exit. No libc.
 * The same source builds for 32-bit protected mode and for 64-bit long mode.
 *
 * printf conversions: %c %s %d %i %u %x %X %p %%, with flags '-' and '0', a field width,
 * a precision for %s (%.5s), and the length modifiers l, ll, z.
 */
#ifndef HYPERSTEP_GUEST_RT_H
#define HYPERSTEP_GUEST_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void con_putc(char c);
void con_puts(const char *s);               /* no newline added */
int  con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int  con_vprintf(const char *fmt, va_list ap);
int  str_printf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void  *memcpy(void *dst, const void *src, size_t n);
void  *memmove(void *dst, const void *src, size_t n);
void  *memset(void *dst, int c, size_t n);
int    memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int    strcmp(const char *a, const char *b);

/* Port I/O. */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

/* Leave the VM through isa-debug-exit: QEMU exits with status (code << 1) | 1. */
__attribute__((noreturn)) void guest_exit(uint32_t code);

/* Set by common/multiboot.S from EAX/EBX at entry. */
extern uint32_t mb_magic, mb_info;

/* Four words in common/multiboot.S for the 32-bit and 64-bit halves of a mixed image to
   hand results to each other (each half has its own copy of everything else). */
extern uint32_t guest_mailbox[4];

#ifndef __x86_64__
/* From 32-bit protected mode into 64-bit long mode, running `int entry64(void)` there and
   exiting with its return value (common/longmode.S). */
__attribute__((noreturn)) void lm_enter(int (*entry64)(void));
#endif

#endif
