/* Third device probe: port 0x61 refresh toggling, fw_cfg access widths and DMA, PIC poll. */
#include "io.h"

static const char *names[256];
static u32 vals[256];
static int nrec;
static void rec(const char *k, u32 v) { names[nrec] = k; vals[nrec++] = v; }

struct dma { u32 control, length; u32 addr_hi, addr_lo; } __attribute__((aligned(16)));
static struct dma d;
static u8 buf[16];
static u32 bswap(u32 v) { return __builtin_bswap32(v); }

void probe_main(u32 magic, u32 mbi) {
  (void)magic; (void)mbi;
  u32 t = 0;
  for (int i = 0; i < 8; i++) t = (t << 4) | (inb(0x61) >> 4 & 1);
  rec("p61_toggles", t);
  t = 0;
  for (int i = 0; i < 8; i++) { for (volatile int j = 0; j < 2000; j++) {} t = (t << 4) | (inb(0x61) >> 4 & 1); }
  rec("p61_toggles_slow", t);
  /* fw_cfg widths */
  outw(0x510, 0); (void)inw(0x511); rec("fw_after_inw", inb(0x511));
  outw(0x510, 0); (void)inl(0x510); rec("fw_after_inl", inb(0x511));
  outl(0x510, 5); rec("fw_outl_sel5", inb(0x511));
  outw(0x510, 0); outb(0x510, 5); rec("fw_outb_sel5", inb(0x511));
  outw(0x510, 0); outb(0x511, 5); rec("fw_outb511", inb(0x511));
  /* DMA read of the signature, then skip+read of NB_CPUS with select */
  d.control = bswap(0x02); d.length = bswap(6); d.addr_hi = 0; d.addr_lo = bswap((u32)buf);
  outw(0x510, 0);
  outl(0x514, 0); outl(0x518, bswap((u32)&d));
  rec("dma_ctl", bswap(d.control)); rec("dma_len", bswap(d.length)); rec("dma_addr", bswap(d.addr_lo));
  for (int i = 0; i < 6; i++) rec("dma_buf", buf[i]);
  rec("after_dma_pio", inb(0x511));
  d.control = bswap((5u << 16) | 0x08 | 0x02); d.length = bswap(2); d.addr_lo = bswap((u32)buf);
  outl(0x514, 0); outl(0x518, bswap((u32)&d));
  rec("dma2_ctl", bswap(d.control)); rec("dma2_b0", buf[0]); rec("dma2_b1", buf[1]);
  d.control = bswap(0x10); d.length = bswap(2); d.addr_lo = bswap((u32)buf);
  outl(0x514, 0); outl(0x518, bswap((u32)&d));
  rec("dma_write_ctl", bswap(d.control));
  /* PIC poll with an unmasked pending IRQ: unmask IRQ4 (latched at boot) */
  outb(0x21, 0xA8); outb(0x20, 0x0C); rec("pic_poll", inb(0x20));
  outb(0x20, 0x0B); rec("pic_isr_after_poll", inb(0x20));
  outb(0x20, 0x0A); rec("pic_irr_after_poll", inb(0x20));
  outb(0x21, 0xB8);
  /* ICW1 resets edge IRR */
  rec("pic_irr_before", inb(0x20));
  outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
  rec("pic_mask_after_init", inb(0x21)); rec("pic_irr_after_init", inb(0x20));
  outb(0x21, 0xFF);
  for (int i = 0; i < nrec; i++) { puts_(names[i]); puts_("="); hex(vals[i], 8); puts_("\n"); }
  puts_("done\n");
  qemu_exit(0);
}
