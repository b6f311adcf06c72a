/*
 * ipis: every kind of IPI destination and delivery mode a kernel uses, each checked by
 * counting which CPUs took it. Default -smp 4 (works with 2 to 8 CPUs; the lines list every
 * CPU by APIC ID).
 *
 * Fixed IPIs to each AP by APIC ID; the physical broadcast ID; the shorthands self,
 * all-including-self, all-excluding-self; logical destinations in the flat model (LDR bits
 * 31:24 one per CPU) and the cluster model (DFR model 0000b, cluster in LDR bits 31:28);
 * lowest-priority delivery (only "exactly one of the targets took it" is printed: which one
 * is the chipset's choice and QEMU's differs from the SDM's arbitration); NMI IPIs (vector
 * 2, physical and all-excluding-self); and the TPR holding a fixed IPI pending in IRR until
 * it is lowered (SDM vol. 3, 11.8.3.1).
 *
 * After each send the BSP waits for the expected number of deliveries, then makes every AP
 * run a call through VEC_CALL (0x30): it is below the test vectors, so an AP takes it only
 * after any test vector it still had pending (SDM vol. 3, 11.8.3); only then are the counts
 * read, so an extra delivery would be seen.
 *
 * Built twice: as ipis (xAPIC) and, with IPIS_X2APIC, as ipis-x2apic (x2APIC mode: no flat
 * model and a read-only LDR derived from the ID, so the logical tests use x2APIC cluster
 * addressing, plus the SELF IPI register; needs `-cpu qemu64,+x2apic`, see
 * ../ipis-x2apic/ipis-x2apic.c).
 */
#include "rt.h"
#include "smp.h"

#ifndef IPIS_X2APIC
#define IPIS_X2APIC 0
#define NAME "ipis"
#else
#define NAME "ipis-x2apic"
#endif

#define VEC_TEST 0x40
#define VEC_TPR  0x90

static volatile uint32_t hits[SMP_MAX_CPUS], nmis[SMP_MAX_CPUS];
static unsigned failures;

static void test_handler(struct isr_frame *f) { (void)f; atomic_inc(&hits[smp_cpu()]); lapic_eoi(); }
static void nmi_handler(struct isr_frame *f) { (void)f; atomic_inc(&nmis[smp_cpu()]); }   /* NMIs take no EOI */
static void noop(unsigned cpu, void *arg) { (void)cpu; (void)arg; }

static uint32_t total(volatile uint32_t *c) {
    uint32_t t = 0;
    for (unsigned i = 0; i < smp_ncpus; i++) t += c[i];
    return t;
}

static void reset(void) {
    for (unsigned i = 0; i < smp_ncpus; i++) hits[i] = nmis[i] = 0;
}

/* Waits, with the BSP's interrupts open between polls, until `want` deliveries were counted
   (or about a second of LAPIC timer), then lets every AP drain what it had pending. */
static void settle(volatile uint32_t *c, uint32_t want) {
    lapic_write(LAPIC_TIMER_DCR, 0xA);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
    lapic_write(LAPIC_TIMER_ICR, 1000 * 7812u);
    while (total(c) < want && lapic_read(LAPIC_TIMER_CCR) != 0) { irq_window(); cpu_relax(); }
    lapic_write(LAPIC_TIMER_ICR, 0);
    irq_window();
    smp_call_all(noop, 0);
    irq_window();
}

/* Prints "what: APIC a=n ..." and compares with want(cpu). */
static void report(const char *what, volatile uint32_t *c, int (*want)(unsigned cpu)) {
    int ok = 1;
    con_printf(NAME ": %s:", what);
    for (unsigned i = 0; i < smp_ncpus; i++) {
        con_printf(" %u=%u", smp_apic_ids[i], c[i]);
        ok &= c[i] == (uint32_t)want(i);
    }
    con_printf("  %s\n", ok ? "ok" : "FAIL");
    failures += !ok;
}

static void check(const char *what, int ok) {
    con_printf(NAME ": %s  %s\n", what, ok ? "ok" : "FAIL");
    failures += !ok;
}

static int want_aps(unsigned cpu) { return cpu != smp_bsp; }
static int want_all(unsigned cpu) { (void)cpu; return 1; }
static int want_bsp(unsigned cpu) { return cpu == smp_bsp; }
static int want_odd(unsigned cpu) { return cpu & 1; }
static int want_last(unsigned cpu) { return cpu == smp_ncpus - 1; }
static unsigned count_wanted(int (*want)(unsigned)) {
    unsigned n = 0;
    for (unsigned i = 0; i < smp_ncpus; i++) n += want(i);
    return n;
}

/* One IPI, counted on VEC_TEST. */
static void fixed_test(const char *what, uint32_t dest, uint32_t icr, int (*want)(unsigned)) {
    reset();
    lapic_send_ipi(dest, icr);
    settle(hits, count_wanted(want));
    report(what, hits, want);
}

#if !IPIS_X2APIC
/* Logical destinations: every CPU programs its own DFR and LDR (SDM vol. 3, 11.6.2.2). */
struct logical { uint32_t dfr; uint32_t ldr[SMP_MAX_CPUS]; };
static struct logical logical;
static void set_logical(unsigned cpu, void *arg) {
    struct logical *l = arg;
    lapic_write(LAPIC_DFR, l->dfr);
    lapic_write(LAPIC_LDR, l->ldr[cpu]);
}
static int all_ldr_ok;
static void read_logical(unsigned cpu, void *arg) {
    struct logical *l = arg;
    if (lapic_read(LAPIC_LDR) != l->ldr[cpu] || (lapic_read(LAPIC_DFR) | 0x0FFFFFFF) != (l->dfr | 0x0FFFFFFF)) all_ldr_ok = 0;
}
static void program_logical(uint32_t dfr, uint32_t (*ldr)(unsigned cpu)) {
    logical.dfr = dfr;
    for (unsigned i = 0; i < smp_ncpus; i++) logical.ldr[i] = ldr(i);
    set_logical(smp_bsp, &logical);
    smp_call_all(set_logical, &logical);
    all_ldr_ok = 1;
    read_logical(smp_bsp, &logical);
    smp_call_all(read_logical, &logical);
}
static uint32_t flat_ldr(unsigned cpu) { return 1u << (24 + cpu); }
static uint32_t cluster_ldr(unsigned cpu) { return (cpu / 2) << 28 | 1u << (24 + cpu % 2); }
static int want_cluster1(unsigned cpu) { return cpu / 2 == 1; }
static int want_cluster0_member1(unsigned cpu) { return cpu == 1; }
#else
/* x2APIC logical ID: cluster (ID bits 19:4) in LDR bits 31:16, one bit per member below
   (SDM vol. 3, 11.12.10.2), read-only. */
static uint32_t x2_ldr(uint32_t id) { return (id >> 4) << 16 | 1u << (id & 15); }
static int all_ldr_ok;
static void read_x2_ldr(unsigned cpu, void *arg) {
    (void)arg;
    if (lapic_read(LAPIC_LDR) != x2_ldr(smp_apic_ids[cpu])) all_ldr_ok = 0;
}
#endif

/* The TPR test, run by the AP inside a call: raise the TPR above VEC_TPR's class, let the
   BSP send it, see it wait in IRR through an interrupt window, lower the TPR, see it taken. */
static volatile uint32_t tpr_ready, tpr_sent, tpr_pending_in_irr, tpr_held, tpr_taken;
static void tpr_test(unsigned cpu, void *arg) {
    (void)arg;
    lapic_write(LAPIC_TPR, 0xA0);
    tpr_ready = 1;
    while (!tpr_sent) cpu_relax();
    tpr_pending_in_irr = lapic_vector_bit(LAPIC_IRR, VEC_TPR);
    irq_window();
    tpr_held = hits[cpu] == 0;
    lapic_write(LAPIC_TPR, 0);
    /* PPR is now VEC_CALL's class (in service), below VEC_TPR's: it nests in. */
    for (unsigned i = 0; i < 100000 && !hits[cpu]; i++) irq_window();
    tpr_taken = hits[cpu];
}

int main64(void);
int main64(void) {
    if (!smp_init(IPIS_X2APIC)) { con_printf("FAIL\n"); return 1; }
    if (smp_ncpus < 2 || smp_ncpus > 8) { con_printf(NAME ": needs 2 to 8 CPUs, the MADT lists %u\nFAIL\n", smp_ncpus); return 1; }
    isr_set(VEC_TEST, test_handler);
    isr_set(VEC_TPR, test_handler);
    isr_set(2, nmi_handler);
    unsigned n = smp_boot();
    con_printf(NAME ": %u CPUs checked in, %s mode; counts below are per APIC ID\n", n, lapic_x2apic ? "x2APIC" : "xAPIC");
    if (n != smp_ncpus) { con_printf("FAIL\n"); return 1; }
    uint32_t broadcast = lapic_x2apic ? 0xFFFFFFFFu : 0xFF;

    /* Physical destinations. */
    reset();
    for (unsigned i = 0; i < smp_ncpus; i++) {
        if (i == smp_bsp) continue;
        lapic_send_ipi(smp_apic_ids[i], ICR_FIXED | VEC_TEST);
        settle(hits, total(hits) + 1);
    }
    report("fixed, physical, to each AP in turn", hits, want_aps);
    fixed_test(lapic_x2apic ? "fixed, physical broadcast 0xffffffff" : "fixed, physical broadcast 0xff", broadcast,
               ICR_FIXED | VEC_TEST, want_all);

    /* Shorthands: the destination field is ignored (SDM vol. 3, 11.6.1). */
    fixed_test("shorthand all-including-self", 0, ICR_ALL | ICR_FIXED | VEC_TEST, want_all);
    fixed_test("shorthand all-excluding-self", 0, ICR_OTHERS | ICR_FIXED | VEC_TEST, want_aps);
    fixed_test("shorthand self", 0, ICR_SELF | ICR_FIXED | VEC_TEST, want_bsp);
#if IPIS_X2APIC
    reset();
    lapic_write(LAPIC_SELF_IPI, VEC_TEST);   /* SDM vol. 3, 11.12.11 */
    settle(hits, 1);
    report("SELF IPI register", hits, want_bsp);
#endif

    /* Logical destinations. */
#if !IPIS_X2APIC
    program_logical(0xFFFFFFFF, flat_ldr);
    check("flat model: DFR 0xffffffff, LDR bit 24+i on CPU i, read back", all_ldr_ok);
    uint32_t odd = 0;
    for (unsigned i = 1; i < smp_ncpus; i += 2) odd |= 1u << i;
    char what[80];
    str_printf(what, sizeof what, "fixed, logical flat 0x%02x", odd);
    fixed_test(what, odd, ICR_LOGICAL | ICR_FIXED | VEC_TEST, want_odd);
    fixed_test("fixed, logical flat broadcast 0xff", 0xFF, ICR_LOGICAL | ICR_FIXED | VEC_TEST, want_all);

    /* Lowest priority to every AP: exactly one of them, never the BSP. */
    uint32_t aps = 0xFF & ~(1u << smp_bsp) & ((1u << smp_ncpus) - 1);
    int lp_ok = 1;
    for (int round = 0; round < 3; round++) {
        reset();
        lapic_send_ipi(aps, ICR_LOGICAL | ICR_LOWEST | VEC_TEST);
        settle(hits, 1);
        unsigned takers = 0;
        for (unsigned i = 0; i < smp_ncpus; i++) takers += hits[i] != 0;
        lp_ok &= takers == 1 && total(hits) == 1 && hits[smp_bsp] == 0;
    }
    str_printf(what, sizeof what, "lowest priority, logical flat 0x%02x, 3 times: one AP took each", aps);
    check(what, lp_ok);

    program_logical(0x0FFFFFFF, cluster_ldr);
    check("cluster model: DFR 0x0fffffff, CPU i in cluster i/2 as member bit i%2, read back", all_ldr_ok);
    fixed_test("fixed, logical cluster 1 members 0x3", 0x13, ICR_LOGICAL | ICR_FIXED | VEC_TEST, want_cluster1);
    fixed_test("fixed, logical cluster 0 member 0x2", 0x02, ICR_LOGICAL | ICR_FIXED | VEC_TEST, want_cluster0_member1);
    program_logical(0xFFFFFFFF, flat_ldr);
#else
    all_ldr_ok = 1;
    read_x2_ldr(smp_bsp, 0);
    smp_call_all(read_x2_ldr, 0);
    check("x2APIC LDR = cluster << 16 | 1 << (ID & 15) on every CPU", all_ldr_ok);
    uint32_t odd = 0, aps = 0;   /* IDs below 16: cluster 0 */
    for (unsigned i = 0; i < smp_ncpus; i++) {
        if (i & 1) odd |= x2_ldr(smp_apic_ids[i]);
        if (i != smp_bsp) aps |= x2_ldr(smp_apic_ids[i]);
    }
    char what[80];
    str_printf(what, sizeof what, "fixed, x2APIC logical 0x%08x", odd);
    fixed_test(what, odd, ICR_LOGICAL | ICR_FIXED | VEC_TEST, want_odd);
    int lp_ok = 1;
    for (int round = 0; round < 3; round++) {
        reset();
        lapic_send_ipi(aps, ICR_LOGICAL | ICR_LOWEST | VEC_TEST);
        settle(hits, 1);
        unsigned takers = 0;
        for (unsigned i = 0; i < smp_ncpus; i++) takers += hits[i] != 0;
        lp_ok &= takers == 1 && total(hits) == 1 && hits[smp_bsp] == 0;
    }
    str_printf(what, sizeof what, "lowest priority, x2APIC logical 0x%08x, 3 times: one AP took each", aps);
    check(what, lp_ok);
#endif

    /* NMI: vector 2 whatever the vector field says, no EOI (SDM vol. 3, 11.6.1). */
    reset();
    lapic_send_ipi(smp_apic_ids[smp_ncpus - 1], ICR_NMI);
    settle(nmis, 1);
    report("NMI, physical, to the last AP", nmis, want_last);
    reset();
    lapic_send_ipi(0, ICR_OTHERS | ICR_NMI);
    settle(nmis, smp_ncpus - 1);
    report("NMI, all-excluding-self", nmis, want_aps);

    /* TPR. */
    unsigned ap = smp_bsp == 0 ? 1 : 0;
    reset();
    tpr_ready = tpr_sent = 0;
    /* The AP waits inside the call for the IPI, so start the call without waiting on it. */
    smp_call_async(ap, tpr_test, 0);
    while (!tpr_ready) cpu_relax();
    lapic_send_ipi(smp_apic_ids[ap], ICR_FIXED | VEC_TPR);
    tpr_sent = 1;
    smp_call_wait(ap);
    str_printf(what, sizeof what, "TPR 0xa0 on APIC %u holds vector 0x%x in IRR; TPR 0 lets it in", smp_apic_ids[ap], VEC_TPR);
    check(what, tpr_pending_in_irr && tpr_held && tpr_taken == 1 && total(hits) == 1);

    con_printf("%s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}
