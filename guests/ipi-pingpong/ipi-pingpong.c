/*
 * ipi-pingpong: two CPUs (the BSP and the AP with the next APIC ID) bounce fixed IPIs in
 * physical destination mode. Run with -smp 2 (more CPUs are started but stay idle).
 *
 * The BSP sends vector 0x50 to the AP; the AP's handler sends vector 0x51 back and EOIs;
 * the BSP's handler sends the next 0x50, until "rounds=N" round trips (command line,
 * default 1000; the benchmark asks for more). A shared `ball` carries the round number:
 * each side folds what it saw into a checksum, and checks in every handler that the
 * vector is in service (ISR) and that the PPR is at its priority class (SDM vol. 3,
 * 11.8.3.1). Only counts and checksums are printed.
 *
 * Built twice: as ipi-pingpong (xAPIC, MMIO) and, with PINGPONG_X2APIC, as
 * ipi-pingpong-x2apic (x2APIC: the ICR is one 64-bit MSR write, EOI an MSR write), which
 * needs CPUID.1:ECX[21]: `-cpu qemu64,+x2apic` (QEMU 7.2 TCG cannot: use -accel kvm) or
 * Hyperstep's --x2apic.
 */
#include "rt.h"
#include "smp.h"

#ifndef PINGPONG_X2APIC
#define PINGPONG_X2APIC 0
#define NAME "ipi-pingpong"
#else
#define NAME "ipi-pingpong-x2apic"
#endif

#define VEC_PING 0x50   /* BSP -> AP */
#define VEC_PONG 0x51   /* AP -> BSP */

static uint32_t rounds, bsp_id, ap_id;
static volatile uint32_t ball;
static volatile uint32_t bsp_count, ap_count, bsp_sum, ap_sum, bad_state;

static void check_in_service(unsigned vector) {
    if (!lapic_vector_bit(LAPIC_ISR, vector) || (lapic_read(LAPIC_PPR) & 0xF0) != (vector & 0xF0)) bad_state++;
}

static void ping(struct isr_frame *f) {       /* on the AP */
    (void)f;
    check_in_service(VEC_PING);
    uint32_t seen = ball;
    ap_sum = ap_sum * 33 + seen;
    ap_count++;
    ball = seen + 1;
    lapic_send_ipi(bsp_id, ICR_FIXED | VEC_PONG);
    lapic_eoi();
}

static void pong(struct isr_frame *f) {       /* on the BSP */
    (void)f;
    check_in_service(VEC_PONG);
    uint32_t seen = ball;
    bsp_sum = bsp_sum * 33 + seen;
    bsp_count++;
    if (bsp_count < rounds) {
        ball = seen + 1;
        lapic_send_ipi(ap_id, ICR_FIXED | VEC_PING);
    }
    lapic_eoi();
}

int main64(void);
int main64(void) {
    if (!smp_init(PINGPONG_X2APIC)) { con_printf("FAIL\n"); return 1; }
    if (smp_ncpus < 2) { con_printf(NAME ": needs 2 CPUs, the MADT lists %u\nFAIL\n", smp_ncpus); return 1; }
    rounds = cmdline_uint("rounds", 1000);
    if (rounds == 0) rounds = 1;
    isr_set(VEC_PING, ping);
    isr_set(VEC_PONG, pong);
    unsigned n = smp_boot();
    unsigned ap = smp_bsp == 0 ? 1 : 0;
    bsp_id = smp_apic_ids[smp_bsp];
    ap_id = smp_apic_ids[ap];
    con_printf(NAME ": %u CPUs checked in; APIC %u <-> APIC %u, %s, vectors 0x%x and 0x%x, %u rounds\n", n, bsp_id, ap_id,
               lapic_x2apic ? "x2APIC" : "xAPIC", VEC_PING, VEC_PONG, rounds);
    if (n != smp_ncpus) { con_printf("FAIL\n"); return 1; }

    ball = 0;
    lapic_send_ipi(ap_id, ICR_FIXED | VEC_PING);
    while (bsp_count < rounds) __asm__ volatile("sti; hlt; cli" ::: "memory");

    con_printf(NAME ": %u round trips\n", bsp_count);
    con_printf(NAME ": AP handled %u, checksum %08x; BSP handled %u, checksum %08x\n", ap_count, ap_sum, bsp_count, bsp_sum);
    con_printf(NAME ": vector in service and PPR at its class in every handler: %s\n", bad_state ? "no" : "yes");
    /* The same fold done here: what each side must have seen. */
    uint32_t want_ap = 0, want_bsp = 0;
    for (uint32_t i = 0; i < rounds; i++) { want_ap = want_ap * 33 + 2 * i; want_bsp = want_bsp * 33 + 2 * i + 1; }
    int ok = ap_count == rounds && bsp_count == rounds && ap_sum == want_ap && bsp_sum == want_bsp && !bad_state;
    con_printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
