/*
 * ioapic: device interrupts through the I/O APIC to the BSP's local APIC. Default -smp 1
 * (the APs are not started; any -smp prints the same).
 *
 * The 8259s are masked first and the LAPIC software-enabled (SVR, spurious vector 0xFF).
 * The IOAPIC's place, ID and GSI base come from the MADT, and the PIT's IRQ 0 is routed
 * through its interrupt source override (GSI 2 on QEMU's pc).
 *  - Edge: the PIT at about 1 kHz -> GSI 2 -> vector 0x40. The handler checks the vector is
 *    in the ISR and not in the TMR, and masks the pin at the 5th interrupt; while masked
 *    nothing arrives; unmasked, 5 more. (A masked edge may or may not be held pending: QEMU
 *    holds one, the 82093AA datasheet drops it; only "5 more" is counted.)
 *  - Level: the UART's transmitter-empty interrupt (IER bit 1, MCR OUT2) on IRQ 4 ->
 *    GSI 4 -> vector 0x50, level-triggered, active high. In the handler the redirection
 *    entry's remote IRR (bit 14) and the LAPIC's TMR bit are set and IIR says THRE; reading
 *    IIR clears the source; after the EOI (broadcast to the IOAPIC because TMR is set, SDM
 *    vol. 3, 11.8.5) remote IRR is clear. A handler that EOIs with the line still asserted
 *    gets the interrupt again. A masked pin with the line asserted stays quiet until
 *    unmasked, then delivers.
 */
#include "rt.h"
#include "gdt.h"
#include "smp.h"

#define VEC_PIT  0x40
#define VEC_UART 0x50

#define RTE_LEVEL      (1u << 15)
#define RTE_REMOTE_IRR (1u << 14)
#define RTE_LOW        (1u << 13)
#define RTE_MASKED     (1u << 16)

static volatile uint32_t *ioapic;
static unsigned pit_pin, uart_pin, bsp_id, failures;

static uint32_t ioapic_read(uint32_t reg) { ioapic[0] = reg; return ioapic[4]; }
static void ioapic_write(uint32_t reg, uint32_t v) { ioapic[0] = reg; ioapic[4] = v; }
static uint32_t rte_lo(unsigned pin) { return ioapic_read(0x10 + 2 * pin); }
static void rte_set(unsigned pin, uint32_t lo, uint32_t dest) {
    ioapic_write(0x11 + 2 * pin, dest << 24);
    ioapic_write(0x10 + 2 * pin, lo);
}
static void rte_mask(unsigned pin, int masked) {
    uint32_t lo = rte_lo(pin) & ~(RTE_REMOTE_IRR | (1u << 12));
    ioapic_write(0x10 + 2 * pin, masked ? lo | RTE_MASKED : lo & ~RTE_MASKED);
}

static void check(const char *what, int ok) {
    con_printf("ioapic: %s  %s\n", what, ok ? "ok" : "FAIL");
    failures += !ok;
}

/* ---- edge: the PIT ---- */
static volatile uint32_t pit_count, pit_stop_at, pit_bad;
static void on_pit(struct isr_frame *f) {
    (void)f;
    if (!lapic_vector_bit(LAPIC_ISR, VEC_PIT) || lapic_vector_bit(LAPIC_TMR, VEC_PIT)) pit_bad++;
    if (++pit_count == pit_stop_at) rte_mask(pit_pin, 1);
    lapic_eoi();
}

/* ---- level: the UART ---- */
static volatile uint32_t uart_count, uart_bad, uart_leave_asserted;
static void on_uart(struct isr_frame *f) {
    (void)f;
    uart_count++;
    if (!(rte_lo(uart_pin) & RTE_REMOTE_IRR) || !lapic_vector_bit(LAPIC_TMR, VEC_UART) || !lapic_vector_bit(LAPIC_ISR, VEC_UART))
        uart_bad++;
    if (uart_leave_asserted) {
        uart_leave_asserted = 0;           /* EOI with the source still asserted */
    } else {
        if ((inb(COM1 + 2) & 0x0F) != 0x02) uart_bad++;   /* IIR: THR empty; reading it clears it */
        outb(COM1 + 1, 0);                 /* IER: and no more */
    }
    lapic_eoi();
}

static void uart_wait_idle(void) { while (!(inb(COM1 + 5) & 0x40)) cpu_relax(); }   /* LSR.TEMT */
static void uart_raise(void) {
    uart_wait_idle();
    outb(COM1 + 1, 0);
    outb(COM1 + 1, 0x02);                  /* IER.ETBEI with THR empty: interrupt now */
}
static void wait_for(volatile uint32_t *count, uint32_t want) {
    while (*count < want) __asm__ volatile("sti; hlt; cli" ::: "memory");
}

int main64(void);
int main64(void) {
    if (!smp_init(0)) { con_printf("FAIL\n"); return 1; }   /* masks the 8259s, enables the LAPIC */
    isr_set(VEC_PIT, on_pit);
    isr_set(VEC_UART, on_uart);
    bsp_id = smp_apic_ids[smp_bsp];
    const struct platform *p = &platform;
    con_printf("ioapic: MADT: IOAPIC id %u at 0x%08x, GSI base %u; ISA IRQ 0 -> GSI %u, IRQ 4 -> GSI %u\n",
               p->ioapic_id, p->ioapic_addr, p->ioapic_gsi_base, p->isa_gsi[0], p->isa_gsi[4]);
    if (!p->ioapics) { con_printf("FAIL\n"); return 1; }
    ioapic = (volatile uint32_t *)(uintptr_t)p->ioapic_addr;
    uint32_t id = ioapic_read(0) >> 24 & 0x0F, ver = ioapic_read(1);
    unsigned entries = (ver >> 16 & 0xFF) + 1;
    char what[160];
    str_printf(what, sizeof what, "ID register %u, version 0x%02x, %u redirection entries", id, ver & 0xFF, entries);
    check(what, id == p->ioapic_id && entries >= 16);
    pit_pin = p->isa_gsi[0] - p->ioapic_gsi_base;
    uart_pin = p->isa_gsi[4] - p->ioapic_gsi_base;
    for (unsigned pin = 0; pin < entries; pin++) rte_set(pin, RTE_MASKED, 0);

    /* Edge. ISA interrupts are active high and edge triggered; an override's flags could
       say otherwise (MPS INTI flags: polarity bits 1:0, trigger bits 3:2, 3 = low/level). */
    uint32_t lo = VEC_PIT | RTE_MASKED;
    if ((p->isa_flags[0] & 3) == 3) lo |= RTE_LOW;
    if ((p->isa_flags[0] >> 2 & 3) == 3) lo |= RTE_LEVEL;
    rte_set(pit_pin, lo, bsp_id);
    int readback = (rte_lo(pit_pin) & ~(1u << 12)) == lo && (ioapic_read(0x11 + 2 * pit_pin) >> 24) == bsp_id;
    outb(0x43, 0x34);                      /* PIT channel 0, lobyte/hibyte, mode 2 */
    outb(0x40, 1193 & 0xFF);
    outb(0x40, 1193 >> 8);
    pit_stop_at = 5;
    rte_mask(pit_pin, 0);
    wait_for(&pit_count, 5);
    str_printf(what, sizeof what, "edge, PIT IRQ 0 -> GSI %u -> vector 0x%x: entry reads back, 5 interrupts, in ISR and not in TMR",
               p->isa_gsi[0], VEC_PIT);
    check(what, readback && pit_count == 5 && !pit_bad && (rte_lo(pit_pin) & RTE_MASKED));
    smp_delay_us(20000);
    check("edge: pin masked for 20 ms: no interrupt", pit_count == 5);
    pit_stop_at = 10;
    rte_mask(pit_pin, 0);
    wait_for(&pit_count, 10);
    smp_delay_us(5000);
    check("edge: unmasked again: 5 more, then masked", pit_count == 10 && !pit_bad);

    /* Level. */
    uart_wait_idle();
    outb(COM1 + 4, 0x0B);                  /* MCR: DTR | RTS | OUT2 (gates the IRQ on a PC) */
    rte_set(uart_pin, VEC_UART | RTE_LEVEL, bsp_id);
    int after_eoi_ok = 1;
    for (uint32_t round = 1; round <= 3; round++) {
        uart_raise();
        wait_for(&uart_count, round);
        after_eoi_ok &= !(rte_lo(uart_pin) & RTE_REMOTE_IRR) && !lapic_vector_bit(LAPIC_ISR, VEC_UART);
    }
    str_printf(what, sizeof what, "level, UART IRQ 4 (THRE) -> GSI %u -> vector 0x%x, 3 times: "
               "remote IRR and TMR set in the handler, IIR says THRE, remote IRR clear after EOI", p->isa_gsi[4], VEC_UART);
    check(what, uart_count == 3 && !uart_bad && after_eoi_ok);

    uart_count = 0;
    uart_leave_asserted = 1;
    uart_raise();
    wait_for(&uart_count, 2);
    smp_delay_us(2000);
    check("level: source still asserted at the first EOI: delivered again, 2 entries",
          uart_count == 2 && !uart_bad && !(rte_lo(uart_pin) & RTE_REMOTE_IRR));

    uart_count = 0;
    rte_mask(uart_pin, 1);
    uart_raise();
    smp_delay_us(5000);
    int quiet = uart_count == 0 && !(rte_lo(uart_pin) & RTE_REMOTE_IRR);
    rte_mask(uart_pin, 0);
    wait_for(&uart_count, 1);
    smp_delay_us(2000);
    check("level: pin masked with the line asserted: no interrupt for 5 ms; unmasked: 1 interrupt",
          quiet && uart_count == 1 && !uart_bad);

    rte_mask(uart_pin, 1);
    outb(COM1 + 1, 0);
    outb(COM1 + 4, 0x03);
    con_printf("%s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}
