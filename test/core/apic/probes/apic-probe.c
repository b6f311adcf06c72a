/* Prints what a -kernel guest sees of the BSP's local APIC and of the IOAPIC under
 * QEMU, for qemu-facts.test.ts, which replays the same accesses on our models and
 * compares (key=hex lines). Built with ../../devices/probes/{start.S,link.ld,io.h}.
 * Each step leaves the state as it found it where later steps depend on it. */
#include "../../devices/probes/io.h"
#define LAPIC 0xFEE00000u
#define IOAPIC 0xFEC00000u
static u32 rd(u32 off) { return *(volatile u32 *)(LAPIC + off); }
static void wr(u32 off, u32 v) { *(volatile u32 *)(LAPIC + off) = v; }
static u32 io_rd(u32 i) { *(volatile u32 *)IOAPIC = i; return *(volatile u32 *)(IOAPIC + 0x10); }
static void io_wr(u32 i, u32 v) { *(volatile u32 *)IOAPIC = i; *(volatile u32 *)(IOAPIC + 0x10) = v; }
static u32 rdmsr_lo(u32 m) { u32 lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(m)); return lo; }
/* Writes `v` to `off`, prints what reads back, restores `restore`. */
static void mask(const char *k, u32 off, u32 v, u32 restore) { wr(off, v); kv(k, rd(off), 8); wr(off, restore); }

void probe_main(void) {
  /* State SeaBIOS leaves on the BSP. */
  kv("apic_base", rdmsr_lo(0x1b), 8);
  kv("svr", rd(0xf0), 8); kv("lint0", rd(0x350), 8); kv("lint1", rd(0x360), 8);
  kv("lvt_timer", rd(0x320), 8); kv("lvt_error", rd(0x370), 8);
  kv("dfr", rd(0xe0), 8); kv("ldr", rd(0xd0), 8); kv("tpr", rd(0x80), 8);
  /* Constants and write masks. */
  kv("ver", rd(0x30), 8);
  mask("tpr_fff", 0x80, 0xfff, 0);
  mask("ldr_ff", 0xd0, 0xffffffff, 0);
  mask("dfr_0", 0xe0, 0, 0xffffffff);
  mask("svr_ff", 0xf0, 0xffffffff, 0x1ff);
  mask("dcr_ff", 0x3e0, 0xffffffff, 0);
  mask("id_w", 0x20, 0x05000000, 0);
  mask("lvt_error_ff", 0x370, 0xffffffff, 0x10000);
  mask("lvt_timer_ff", 0x320, 0xffffffff, 0x10000);
  mask("icr_high_ff", 0x310, 0xffffffff, 0);
  wr(0x80, 0x35); kv("apr_tpr35", rd(0x90), 8); kv("ppr_tpr35", rd(0xa0), 8); wr(0x80, 0);
  /* Access sizes and alignment, reserved offsets. */
  kv("ver_b", *(volatile u8 *)(LAPIC + 0x30), 2);
  kv("ver_w", *(volatile u16 *)(LAPIC + 0x30), 4);
  kv("ver_plus4", *(volatile u32 *)(LAPIC + 0x34), 8);
  kv("rsvd_3f0", rd(0x3f0), 8);
  kv("rsvd_2f0", rd(0x2f0), 8);
  /* A fixed self IPI with vector 5 (illegal). */
  wr(0x300, 0x00040005);
  kv("irr0_after_self5", rd(0x200), 8);
  /* A level-triggered fixed self IPI, vector 0xF0 (the xAPIC sends it edge-triggered). */
  wr(0x300, 0x0004c0f0);
  kv("tmr7_after_level_self", rd(0x1f0), 8);
  kv("irr7_after_level_self", rd(0x270), 8);
  /* IOAPIC. */
  kv("io_id", io_rd(0), 8); kv("io_ver", io_rd(1), 8); kv("io_arb", io_rd(2), 8);
  u32 lo_or = 0, lo_and = 0xffffffff, hi_or = 0;
  for (u32 pin = 0; pin < 24; pin++) { u32 lo = io_rd(0x10 + 2 * pin); lo_or |= lo; lo_and &= lo; hi_or |= io_rd(0x11 + 2 * pin); }
  kv("io_rte_lo_or", lo_or, 8); kv("io_rte_lo_and", lo_and, 8); kv("io_rte_hi_or", hi_or, 8);
  io_wr(0, 0xffffffff); kv("io_id_ff", io_rd(0), 8); io_wr(0, 0);
  io_wr(0x10 + 40, 0xffffffff); kv("io_rte20_lo_ff", io_rd(0x10 + 40), 8); io_wr(0x10 + 40, 0x10000);
  io_wr(0x11 + 40, 0xffffffff); kv("io_rte20_hi_ff", io_rd(0x11 + 40), 8); io_wr(0x11 + 40, 0);
  *(volatile u32 *)IOAPIC = 0xfffffff1; kv("io_regsel", *(volatile u32 *)IOAPIC, 8);
  qemu_exit(0);
}
