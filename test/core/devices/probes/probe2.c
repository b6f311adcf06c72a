/* Second device probe: behaviours that must be observed without printing in between
 * (UART loopback/THRE, port 0x61 refresh toggling, PIT channel 2, fw_cfg access sizes). */
#include "io.h"

static const char *names[512];
static u32 vals[512];
static int nrec;
static void rec(const char *k, u32 v) { names[nrec] = k; vals[nrec++] = v; }

static void uart(void) {
  rec("ier0", inb(0x3F9)); rec("lcr0", inb(0x3FB)); rec("mcr0", inb(0x3FC));
  outb(0x3FB, 0x80); rec("dll", inb(0x3F8)); rec("dlm", inb(0x3F9)); rec("lcr_dlab", inb(0x3FB));
  rec("iir_dlab", inb(0x3FA)); outb(0x3F8, 0x01); outb(0x3F9, 0x00);
  rec("dll_w", inb(0x3F8));
  outb(0x3FB, 0x03); rec("ier_after_dlab", inb(0x3F9));
  outb(0x3F9, 0xFF); rec("ier_ff", inb(0x3F9));
  rec("iir_ier_ff", inb(0x3FA)); rec("iir_ier_ff2", inb(0x3FA));
  outb(0x3F9, 0x00);
  outb(0x3F9, 0x02); rec("iir_thre1", inb(0x3FA)); rec("iir_thre2", inb(0x3FA));
  outb(0x3F8, 'x'); rec("iir_thre3", inb(0x3FA)); rec("lsr_thre3", inb(0x3FD));
  outb(0x3F9, 0x00); rec("iir_after_ier0", inb(0x3FA));
  outb(0x20, 0x0A); rec("pic_irr_after_thre", inb(0x20));
  /* Loopback: MCR bit 4; MSR reflects MCR outputs. */
  outb(0x3FC, 0x1F); rec("msr_loop1F", inb(0x3FE)); rec("msr_loop1F_2", inb(0x3FE));
  outb(0x3FC, 0x10); rec("msr_loop10", inb(0x3FE));
  outb(0x3FC, 0x1F); rec("msr_loop1F_b", inb(0x3FE));
  outb(0x3F8, 'Z'); rec("lsr_loop", inb(0x3FD)); rec("iir_loop", inb(0x3FA));
  outb(0x3F9, 0x01); rec("iir_loop_rx", inb(0x3FA));
  rec("rbr_loop", inb(0x3F8)); rec("lsr_loop2", inb(0x3FD)); rec("iir_loop2", inb(0x3FA));
  outb(0x3F8, 'a'); outb(0x3F8, 'b'); rec("rbr_a", inb(0x3F8)); rec("rbr_b", inb(0x3F8)); rec("rbr_empty", inb(0x3F8));
  outb(0x3FA, 0x07); outb(0x3F8, 'c'); rec("iir_fifo_rx", inb(0x3FA)); rec("lsr_fifo_rx", inb(0x3FD));
  outb(0x3FA, 0xC7); outb(0x3F8, 'd'); rec("iir_fifoC_1byte", inb(0x3FA));
  for (int i = 0; i < 20; i++) outb(0x3F8, (u8)('A' + i));
  rec("lsr_overrun", inb(0x3FD)); rec("lsr_overrun2", inb(0x3FD)); rec("iir_full", inb(0x3FA));
  outb(0x3FA, 0x03); rec("lsr_flushed", inb(0x3FD));
  outb(0x3F9, 0x00); outb(0x3FA, 0x00);
  outb(0x3FC, 0x1D); rec("msr_loop1D", inb(0x3FE)); rec("msr_loop1D_2", inb(0x3FE));
  outb(0x3FC, 0x03); rec("msr_back", inb(0x3FE)); rec("msr_back2", inb(0x3FE));
  rec("mcr_back", inb(0x3FC));
  outb(0x3FC, 0xFF); rec("mcr_ff", inb(0x3FC)); outb(0x3FC, 0x08);
  outb(0x3FB, 0xFF); rec("lcr_ff", inb(0x3FB)); outb(0x3FB, 0x03);
  outb(0x3FD, 0xFF); rec("lsr_w", inb(0x3FD));
  outb(0x3FE, 0xFF); rec("msr_w", inb(0x3FE));
  rec("iir_end", inb(0x3FA)); rec("lsr_end", inb(0x3FD));
}

static void misc(void) {
  u32 t = 0;
  for (int i = 0; i < 8; i++) t = (t << 4) | (inb(0x61) >> 4 & 1);
  rec("p61_toggles", t);
  outb(0x61, 0x03); rec("p61_w03", inb(0x61));
  outb(0x43, 0xB0); outb(0x42, 0x10); outb(0x42, 0x00); /* ch2 mode 0 count 16 */
  rec("p61_ch2_m0_a", inb(0x61));
  for (volatile int i = 0; i < 100000; i++) {}
  rec("p61_ch2_m0_b", inb(0x61));
  outb(0x61, 0x00); rec("p61_w00", inb(0x61));
  outb(0x61, 0xFF); rec("p61_wFF", inb(0x61)); outb(0x61, 0);
  outb(0x92, 0xFE); rec("p92_wFE", inb(0x92)); outb(0x92, 0x02);
  outb(0x92, 0x0A); rec("p92_w0A", inb(0x92)); outb(0x92, 0x02);
  rec("p20_rd_default", inb(0x20));
  outb(0x43, 0x00); rec("pit0_latched_lo", inb(0x40)); rec("pit0_latched_hi", inb(0x40));
  outb(0x43, 0xE2); rec("pit0_rb_status", inb(0x40)); rec("pit0_rb_status2", inb(0x40));
  outb(0x43, 0xC2); rec("pit0_rb_both_st", inb(0x40)); rec("pit0_rb_both_lo", inb(0x40)); rec("pit0_rb_both_hi", inb(0x40));
  outb(0x43, 0xB4); outb(0x42, 0x34); outb(0x42, 0x12); /* mode 2 binary */
  outb(0x43, 0xE8); rec("pit2_rb_status_new", inb(0x42));
  outb(0x43, 0x71); /* ch1 lohi mode 0 BCD */ outb(0x43, 0xE4); rec("pit1_rb_status_bcd", inb(0x41));
}

static void fwcfg(void) {
  outw(0x510, 0); rec("fw_510b", inb(0x510)); rec("fw_511b", inb(0x511)); rec("fw_511b2", inb(0x511));
  outw(0x511, 5); rec("fw_sel_via511", inb(0x511));
  outb(0x510, 0); rec("fw_after_byte_w", inb(0x511));
  outl(0x510, 0); rec("fw_after_long_w", inb(0x511));
  outw(0x510, 0x24); for (int i = 0; i < 4; i++) rec("fw_bootfail", inb(0x511));
  outw(0x510, 0x25); for (int i = 0; i < 40; i++) rec("fw_e820", inb(0x511));
  outw(0x510, 0x28); for (int i = 0; i < 6; i++) rec("fw_sysstates", inb(0x511));
  outw(0x510, 0x21); for (int i = 0; i < 4; i++) rec("fw_bootorder", inb(0x511));
  outw(0x510, 0x0f); rec("fw_max_lo", inb(0x511)); rec("fw_max_hi", inb(0x511));
  outw(0x510, 0x0e); for (int i = 0; i < 4; i++) rec("fw_boot_dev", inb(0x511));
  outw(0x510, 0x02); for (int i = 0; i < 4; i++) rec("fw_uuid", inb(0x511));
  outw(0x510, 0x04); for (int i = 0; i < 4; i++) rec("fw_nographic", inb(0x511));
  for (int i = 0; i < 8; i++) rec("fw_dma_sig", inb(0x514 + i));
}

static u8 cmos(u8 i) { outb(0x70, i); return inb(0x71); }
static void rtc(void) {
  rec("regA", cmos(0x0A)); rec("regB", cmos(0x0B)); rec("regC", cmos(0x0C)); rec("regD", cmos(0x0D));
  outb(0x70, 0x0A); outb(0x71, 0xFF); rec("regA_wFF", cmos(0x0A)); outb(0x70, 0x0A); outb(0x71, 0x26);
  outb(0x70, 0x0D); outb(0x71, 0x00); rec("regD_w0", cmos(0x0D));
  outb(0x70, 0x0C); outb(0x71, 0xFF); rec("regC_wFF", cmos(0x0C));
  outb(0x70, 0x0B); outb(0x71, 0x06); rec("regB_bin", cmos(0x0B)); rec("hour_bin", cmos(4));
  outb(0x70, 0x0B); outb(0x71, 0x00); rec("hour_12h_bcd", cmos(4));
  outb(0x70, 0x0B); outb(0x71, 0x02); rec("hour_24h", cmos(4));
  outb(0x70, 0x0B); outb(0x71, 0x42); /* PIE */
  u32 spins = 0; while (!(cmos(0x0C) & 0x40) && spins < 10000000) spins++;
  rec("pie_flag_seen_spins_nonzero", spins > 0);
  outb(0x20, 0x0A); rec("pic_irr_m_after_pie", inb(0x20)); outb(0xA0, 0x0A); rec("pic_irr_s_after_pie", inb(0xA0));
  outb(0x70, 0x0B); outb(0x71, 0x02); cmos(0x0C);
  outb(0x70, 0x8F); rec("p71_after_nmi_idx", inb(0x71));
  rec("cmos80", cmos(0x80)); rec("cmos_ff", cmos(0xFF));
}

void probe_main(u32 magic, u32 mbi) {
  (void)magic; (void)mbi;
  puts_("m"); misc(); puts_("f");
  fwcfg(); puts_("r");
  rtc(); puts_("u");
  uart();
  for (int i = 0; i < nrec; i++) { puts_(names[i]); puts_("="); hex(vals[i], 2); puts_("\n"); }
  puts_("done\n");
  qemu_exit(0);
}
