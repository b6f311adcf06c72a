/*
 * platform: what a kernel finds on the PC platform, and the timer interrupt path.
 * Reads fw_cfg (signature, CPU count, RAM size), finds the ACPI RSDP in the BIOS area and
 * walks RSDT -> MADT (local APICs, IOAPIC, overrides), reads the CMOS memory-size bytes,
 * then programs the PIT for a 1 kHz rate generator, remaps and unmasks IRQ 0 on the PIC,
 * and sleeps in HLT until ten timer interrupts have arrived, checking the PIC's in-service
 * register from inside the handler. Everything printed is the same on QEMU and on real
 * hardware with SeaBIOS: no times, only counts and table contents.
 */
#include "rt.h"
#include "gdt.h"

static unsigned failures;
static void check(const char *what, int ok) {
    con_printf("%s  %s\n", what, ok ? "ok" : "FAIL");
    failures += !ok;
}

/* ---- fw_cfg ---------------------------------------------------------------------------------- */
static void fw_cfg_select(uint16_t key) { __asm__ volatile("outw %0, %1" : : "a"(key), "Nd"((uint16_t)0x510)); }
static void fw_cfg_read(uint16_t key, void *buf, unsigned n) {
    fw_cfg_select(key);
    for (unsigned i = 0; i < n; i++) ((uint8_t *)buf)[i] = inb(0x511);
}

/* ---- ACPI -------------------------------------------------------------------------------------- */
static int sum_ok(const uint8_t *p, unsigned n) {
    uint8_t s = 0;
    for (unsigned i = 0; i < n; i++) s += p[i];
    return s == 0;
}

static void acpi(void) {
    const uint8_t *rsdp = 0;
    for (uint32_t a = 0xe0000; a < 0x100000; a += 16)
        if (!memcmp((const void *)a, "RSD PTR ", 8) && sum_ok((const uint8_t *)a, 20)) { rsdp = (const uint8_t *)a; break; }
    if (!rsdp) { check("acpi: RSDP found", 0); return; }
    char oem[7];
    memcpy(oem, rsdp + 9, 6);
    oem[6] = 0;
    con_printf("acpi: RSDP revision %u, OEM \"%s\"\n", rsdp[15], oem);
    const uint8_t *rsdt = (const uint8_t *)*(const uint32_t *)(rsdp + 16);
    uint32_t len = *(const uint32_t *)(rsdt + 4);
    check("acpi: RSDT signature and checksum", !memcmp(rsdt, "RSDT", 4) && sum_ok(rsdt, len));
    const uint8_t *madt = 0;
    for (uint32_t off = 36; off < len; off += 4) {
        const uint8_t *t = (const uint8_t *)*(const uint32_t *)(rsdt + off);
        if (!memcmp(t, "APIC", 4)) madt = t;
    }
    if (!madt) { check("acpi: MADT listed in the RSDT", 0); return; }
    uint32_t mlen = *(const uint32_t *)(madt + 4);
    check("acpi: MADT checksum", sum_ok(madt, mlen));
    con_printf("acpi: MADT local APIC address %08x, flags %x\n", *(const uint32_t *)(madt + 36), *(const uint32_t *)(madt + 40));
    for (uint32_t off = 44; off + 2 <= mlen; off += madt[off + 1]) {
        const uint8_t *e = madt + off;
        switch (e[0]) {
        case 0: con_printf("acpi:   LAPIC processor %u, APIC id %u, flags %x\n", e[2], e[3], *(const uint32_t *)(e + 4)); break;
        case 1: con_printf("acpi:   IOAPIC id %u at %08x, GSI base %u\n", e[2], *(const uint32_t *)(e + 4), *(const uint32_t *)(e + 8)); break;
        case 2: con_printf("acpi:   override IRQ %u -> GSI %u, flags %x\n", e[3], *(const uint32_t *)(e + 4), *(const uint16_t *)(e + 8)); break;
        case 4: con_printf("acpi:   local APIC NMI processor %x, LINT%u, flags %x\n", e[2], e[5], *(const uint16_t *)(e + 3)); break;
        default: con_printf("acpi:   entry type %u, length %u\n", e[0], e[1]); break;
        }
        if (e[1] == 0) break;
    }
}

/* ---- CMOS ---------------------------------------------------------------------------------------- */
static uint8_t cmos(uint8_t reg) { outb(0x70, reg); return inb(0x71); }

/* ---- PIT + PIC + IDT ------------------------------------------------------------------------------ */
struct gate { uint16_t off_lo, sel; uint8_t zero, type; uint16_t off_hi; } __attribute__((packed));
static struct gate idt[256] __attribute__((aligned(8)));
static struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = { sizeof idt - 1, 0 };

volatile uint32_t ticks, isr_in_handler, bad_isr;

void irq0_c(void);
void irq0_c(void) {
    outb(0x20, 0x0b);                   /* OCW3: read ISR */
    uint8_t isr = inb(0x20);
    if (ticks == 0) isr_in_handler = isr;
    if (isr != 0x01) bad_isr++;
    ticks++;
    outb(0x20, 0x20);                   /* non-specific EOI */
}
extern void irq0_stub(void);
__asm__(".text\n.globl irq0_stub\nirq0_stub:\n  pushal\n  cld\n  call irq0_c\n  popal\n  iret\n");

static void set_gate(int vec, void (*fn)(void)) {
    uint32_t a = (uint32_t)fn;
    idt[vec] = (struct gate){ (uint16_t)a, SEL_CODE32, 0, 0x8e, (uint16_t)(a >> 16) };
}

static void timer(void) {
    set_gate(0x20, irq0_stub);
    idtr.base = (uint32_t)idt;
    __asm__ volatile("lidt %0" : : "m"(idtr));
    /* ICW1-4: edge, cascade, vectors 20h/28h, 8086 mode; then mask everything but IRQ 0. */
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, 0x20); outb(0xa1, 0x28);
    outb(0x21, 0x04); outb(0xa1, 0x02);
    outb(0x21, 0x01); outb(0xa1, 0x01);
    outb(0x21, 0xfe); outb(0xa1, 0xff);
    /* PIT channel 0, lobyte/hibyte, mode 2 (rate generator), 1193 -> about 1 kHz. */
    outb(0x43, 0x34);
    outb(0x40, 1193 & 0xff);
    outb(0x40, 1193 >> 8);
    uint32_t halts = 0;
    __asm__ volatile("sti");
    while (ticks < 10) { __asm__ volatile("hlt"); halts++; }
    __asm__ volatile("cli");
    outb(0x21, 0xff);
    con_printf("pit: %u timer interrupts through the PIC woke HLT (ISR in handler %02x)\n", ticks, isr_in_handler);
    check("pit: every handler saw IRQ 0 in service", bad_isr == 0 && isr_in_handler == 1);
    check("pit: the CPU slept between interrupts", halts >= 10);
    /* Channel 0 latch: the count is counting down from 1193. */
    outb(0x43, 0x00);
    uint16_t c = inb(0x40);
    c |= (uint16_t)inb(0x40) << 8;
    check("pit: latched count below the divisor", c <= 1193);
}

int guest_main(uint32_t magic, uint32_t info);
int guest_main(uint32_t magic, uint32_t info) {
    (void)magic; (void)info;
    char sig[5] = {0};
    fw_cfg_read(0x0000, sig, 4);
    uint16_t ncpu = 0;
    uint64_t ram = 0;
    fw_cfg_read(0x0005, &ncpu, 2);
    fw_cfg_read(0x0003, &ram, 8);
    con_printf("fw_cfg: signature \"%s\", %u CPU(s), RAM %u MiB\n", sig, ncpu, (uint32_t)(ram >> 20));
    check("fw_cfg: signature is QEMU", !memcmp(sig, "QEMU", 4));
    acpi();
    uint32_t ext = cmos(0x30) | (uint32_t)cmos(0x31) << 8;
    uint32_t above16 = cmos(0x34) | (uint32_t)cmos(0x35) << 8;
    con_printf("cmos: base %u KiB, extended %u KiB, above 16 MiB %u x 64 KiB\n",
               cmos(0x15) | (uint32_t)cmos(0x16) << 8, ext, above16);
    timer();
    con_printf(failures ? "FAIL\n" : "PASS\n");
    return failures ? 1 : 0;
}
