/* Dumps what a -kernel guest sees of the PC platform devices after SeaBIOS, so the
 * device models under core/devices can be checked against QEMU (qemu-facts.test.ts
 * runs it and compares). Output: "key=hex" lines and "name:" hex dumps. */
#include "io.h"

static void uart(void) {
  /* Registers as left by SeaBIOS and the multiboot option ROM (behaviour: probe2.c). */
  for (int r = 1; r < 8; r++) { puts_("uart"); hex(r, 1); kv("", inb(0x3F8 + r), 2); }
}

static void pic(void) {
  kv("pic_m_mask", inb(0x21), 2); kv("pic_s_mask", inb(0xA1), 2);
  outb(0x20, 0x0A); kv("pic_m_irr", inb(0x20), 2); outb(0x20, 0x0B); kv("pic_m_isr", inb(0x20), 2);
  kv("pic_m_isr_again", inb(0x20), 2);
  outb(0xA0, 0x0A); kv("pic_s_irr", inb(0xA0), 2); outb(0xA0, 0x0B); kv("pic_s_isr", inb(0xA0), 2);
  outb(0x20, 0x0A); outb(0xA0, 0x0A);
  kv("elcr0", inb(0x4D0), 2); kv("elcr1", inb(0x4D1), 2);
  outb(0x20, 0x0C); kv("pic_m_poll", inb(0x20), 2);
}

static void misc(void) {
  kv("p61", inb(0x61), 2); kv("p92", inb(0x92), 2); kv("p80", inb(0x80), 2);
  kv("pF4b", inb(0xF4), 2); kv("pF4w", inw(0xF4), 4); kv("pF4l", inl(0xF4), 8);
  kv("pF5b", inb(0xF5), 2);
  outb(0x80, 0x55); kv("p80_after", inb(0x80), 2);
  kv("p81", inb(0x81), 2);
}

static void pit(void) {
  outb(0x43, 0xE2 | 0x0C); /* read-back status only, channels 0,1,2 -> 0xEE */
  kv("pit_st0", inb(0x40), 2); kv("pit_st1", inb(0x41), 2); kv("pit_st2", inb(0x42), 2);
  kv("pit_ctrl_read", inb(0x43), 2);
}

static u8 cmos(u8 i) { outb(0x70, i); return inb(0x71); }
static void rtc(void) {
  u8 buf[128];
  for (int i = 0; i < 128; i++) buf[i] = cmos((u8)i);
  dump("cmos", buf, 128);
  kv("p70", inb(0x70), 2);
  outb(0x70, 0x8C); kv("p70_nmi", inb(0x70), 2); kv("regC", inb(0x71), 2);
}

static void fw_cfg_select(u16 key) { outw(0x510, key); }
static void fw_cfg_read(u8 *buf, u32 n) { for (u32 i = 0; i < n; i++) buf[i] = inb(0x511); }
static void fwcfg(void) {
  u8 b[64];
  fw_cfg_select(0); fw_cfg_read(b, 8); dump("fw_sig", b, 8);
  fw_cfg_select(1); fw_cfg_read(b, 8); dump("fw_id", b, 8);
  fw_cfg_select(3); fw_cfg_read(b, 12); dump("fw_ram", b, 12);
  fw_cfg_select(5); fw_cfg_read(b, 4); dump("fw_cpus", b, 4);
  fw_cfg_select(0x0f); fw_cfg_read(b, 4); dump("fw_maxcpus", b, 4);
  fw_cfg_select(0x19); fw_cfg_read(b, 4);
  u32 n = ((u32)b[0] << 24) | ((u32)b[1] << 16) | ((u32)b[2] << 8) | b[3];
  kv("fw_files", n, 8);
  for (u32 i = 0; i < n; i++) {
    fw_cfg_read(b, 64);
    puts_(" size="); hex(((u32)b[0] << 24) | ((u32)b[1] << 16) | ((u32)b[2] << 8) | b[3], 8);
    puts_(" sel="); hex(((u32)b[4] << 8) | b[5], 4); puts_(" "); puts_((const char *)b + 8); puts_("\n");
  }
  fw_cfg_select(0x7777); fw_cfg_read(b, 4); dump("fw_bad", b, 4);
  kv("fw_sel_read", inw(0x510), 4);
  kv("fw_dma_hi", inl(0x514), 8); kv("fw_dma_lo", inl(0x518), 8);
  fw_cfg_select(0); kv("fw_w_read", inw(0x511), 4);
  fw_cfg_select(0); kv("fw_l_read", inl(0x511), 8);
}

static u32 rd32(const u8 *p) { return p[0] | (p[1] << 8) | (p[2] << 16) | ((u32)p[3] << 24); }
static void acpi(void) {
  const u8 *rsdp = 0;
  for (u32 a = 0xE0000; a < 0x100000; a += 16) {
    const u8 *p = (const u8 *)a;
    if (p[0] == 'R' && p[1] == 'S' && p[2] == 'D' && p[3] == ' ' && p[4] == 'P' && p[5] == 'T' && p[6] == 'R') { rsdp = p; break; }
  }
  kv("rsdp_at", (u32)rsdp, 8);
  if (!rsdp) return;
  dump("rsdp", rsdp, rsdp[15] >= 2 ? 36 : 20);
  const u8 *rsdt = (const u8 *)rd32(rsdp + 16);
  kv("rsdt_at", (u32)rsdt, 8);
  dump("rsdt", rsdt, rd32(rsdt + 4));
  u32 n = (rd32(rsdt + 4) - 36) / 4;
  for (u32 i = 0; i < n; i++) {
    const u8 *t = (const u8 *)rd32(rsdt + 36 + 4 * i);
    puts_("table "); putc_(t[0]); putc_(t[1]); putc_(t[2]); putc_(t[3]);
    puts_(" at="); hex((u32)t, 8); puts_(" len="); hex(rd32(t + 4), 8); puts_("\n");
    if (t[0] == 'A' && t[1] == 'P' && t[2] == 'I' && t[3] == 'C') dump("madt", t, rd32(t + 4));
    if (t[0] == 'F' && t[1] == 'A' && t[2] == 'C' && t[3] == 'P') dump("facp", t, rd32(t + 4) < 140 ? rd32(t + 4) : 140);
  }
}

void probe_main(u32 magic, u32 mbi) {
  kv("magic", magic, 8); kv("mbi", mbi, 8);
  misc();
  pic();
  pit();
  rtc();
  fwcfg();
  acpi();
  uart();
  puts_("done\n");
  qemu_exit(0);
}
