/* Port I/O and serial printing for the device probe guests (freestanding, 32-bit). */
#ifndef PROBE_IO_H
#define PROBE_IO_H
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

static inline void outb(u16 p, u8 v) { __asm__ volatile("outb %0,%1" ::"a"(v), "Nd"(p)); }
static inline void outw(u16 p, u16 v) { __asm__ volatile("outw %0,%1" ::"a"(v), "Nd"(p)); }
static inline void outl(u16 p, u32 v) { __asm__ volatile("outl %0,%1" ::"a"(v), "Nd"(p)); }
static inline u8 inb(u16 p) { u8 v; __asm__ volatile("inb %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline u16 inw(u16 p) { u16 v; __asm__ volatile("inw %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline u32 inl(u16 p) { u32 v; __asm__ volatile("inl %1,%0" : "=a"(v) : "Nd"(p)); return v; }

static void putc_(char c) { while (!(inb(0x3FD) & 0x20)) {} outb(0x3F8, (u8)c); }
static void puts_(const char *s) { while (*s) putc_(*s++); }
static void hex(u32 v, int digits) {
  for (int i = digits - 1; i >= 0; i--) putc_("0123456789abcdef"[(v >> (i * 4)) & 15]);
}
static void kv(const char *k, u32 v, int digits) { puts_(k); puts_("="); hex(v, digits); puts_("\n"); }
static void dump(const char *k, const u8 *p, u32 n) {
  puts_(k); puts_(":");
  for (u32 i = 0; i < n; i++) { if (i % 32 == 0) puts_("\n "); hex(p[i], 2); }
  puts_("\n");
}
static void qemu_exit(u32 code) { outl(0xF4, code); }
#endif
