/*
 * The guest C runtime (see rt.h). Output goes straight to the 16550 at COM1, waiting for
 * the transmit holding register to empty (LSR bit 5) before each byte, which is what real
 * hardware needs and what any UART model accepts.
 */
#include "rt.h"
#include "gdt.h"

#define LSR_THRE 0x20

/* RT_HOSTED: the same runtime inside a Linux process (torture/host builds a reference
   from this machine's CPU); the host program supplies con_putc and guest_exit. */
#ifndef RT_HOSTED
void con_putc(char c) {
    while (!(inb(COM1 + 5) & LSR_THRE)) {
    }
    outb(COM1, (uint8_t)c);
}
#endif

void con_puts(const char *s) {
    while (*s) con_putc(*s++);
}

/* printf core: writes through a sink so the same code serves the console and buffers. */
struct sink {
    char *buf;     /* NULL: console */
    size_t size;
    size_t len;    /* characters produced so far (may exceed size) */
};

static void emit(struct sink *k, char c) {
    if (!k->buf) con_putc(c);
    else if (k->len + 1 < k->size) k->buf[k->len] = c;
    k->len++;
}

/* Digits of v in the given base, least significant first; returns the count. The 64-bit
   division is what pulls __udivdi3/__umoddi3 into 32-bit images (common/libgcc32.c). */
static int to_digits(char *out, unsigned long long v, unsigned base, int upper) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        out[n++] = digits[v % base];
        v /= base;
    } while (v);
    return n;
}

static void emit_padded(struct sink *k, const char *s, int n, int width, int left, char pad, int neg) {
    int total = n + neg;
    if (!left && pad == ' ')
        for (; total < width; total++) emit(k, ' ');
    if (neg) emit(k, '-');
    if (!left && pad == '0')
        for (; total < width; total++) emit(k, '0');
    for (int i = 0; i < n; i++) emit(k, s[i]);
    if (left)
        for (; total < width; total++) emit(k, ' ');
}

static void format(struct sink *k, const char *fmt, va_list ap) {
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(k, *fmt);
            continue;
        }
        fmt++;
        int left = 0;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-') left = 1;
            else if (*fmt == '0') pad = '0';
            else break;
        }
        int width = 0;
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        int precision = -1; /* only used by %s: at most this many characters */
        if (*fmt == '.') {
            precision = 0;
            for (fmt++; *fmt >= '0' && *fmt <= '9'; fmt++) precision = precision * 10 + (*fmt - '0');
        }
        int size = 0; /* 0 int, 1 long, 2 long long, 3 size_t */
        if (*fmt == 'l') {
            size = 1;
            if (*++fmt == 'l') { size = 2; fmt++; }
        } else if (*fmt == 'z') {
            size = 3;
            fmt++;
        }
        char tmp[24], rev[24];
        unsigned long long u = 0;
        int neg = 0, n;
        switch (*fmt) {
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            emit_padded(k, tmp, 1, width, left, ' ', 0);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            int n = 0;
            while (s[n] && (precision < 0 || n < precision)) n++;
            emit_padded(k, s, n, width, left, ' ', 0);
            break;
        }
        case 'd':
        case 'i': {
            long long v = size == 2 ? va_arg(ap, long long)
                        : size == 1 ? va_arg(ap, long)
                        : size == 3 ? (long long)va_arg(ap, size_t)
                        : va_arg(ap, int);
            neg = v < 0;
            u = neg ? 0ULL - (unsigned long long)v : (unsigned long long)v;
            n = to_digits(rev, u, 10, 0);
            for (int i = 0; i < n; i++) tmp[i] = rev[n - 1 - i];
            emit_padded(k, tmp, n, width, left, pad, neg);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'p':
            if (*fmt == 'p') u = (uintptr_t)va_arg(ap, void *);
            else if (size == 2) u = va_arg(ap, unsigned long long);
            else if (size == 1) u = va_arg(ap, unsigned long);
            else if (size == 3) u = va_arg(ap, size_t);
            else u = va_arg(ap, unsigned);
            n = to_digits(rev, u, *fmt == 'u' ? 10 : 16, *fmt == 'X');
            for (int i = 0; i < n; i++) tmp[i] = rev[n - 1 - i];
            emit_padded(k, tmp, n, width, left, pad, 0);
            break;
        case '%':
            emit(k, '%');
            break;
        case 0:
            return;
        default: /* unknown conversion: show it rather than guess */
            emit(k, '%');
            emit(k, *fmt);
            break;
        }
    }
}

int con_vprintf(const char *fmt, va_list ap) {
    struct sink k = {0, 0, 0};
    format(&k, fmt, ap);
    return (int)k.len;
}

int con_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = con_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int str_printf(char *buf, size_t size, const char *fmt, ...) {
    struct sink k = {buf, size, 0};
    va_list ap;
    va_start(ap, fmt);
    format(&k, fmt, ap);
    va_end(ap);
    if (size) buf[k.len < size ? k.len : size - 1] = 0;
    return (int)k.len;
}

/* The memory functions are written as plain loops; -fno-builtin-* on this file keeps gcc
   from turning them back into calls to themselves. */
void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

int strcmp(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

#ifndef RT_HOSTED
void guest_exit(uint32_t code) {
    outl(DEBUG_EXIT, code);
    for (;;) __asm__ volatile("cli; hlt");
}
#endif
