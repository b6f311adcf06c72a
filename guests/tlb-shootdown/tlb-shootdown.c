/*
 * tlb-shootdown: the TLB shootdown of an operating system that changes a mapping shared by
 * all CPUs. Default -smp 4 (works with 2 to 64).
 *
 * All CPUs share the BSP's 64-bit page tables (common/longmode.S, with the 2 MiB page at
 * 1 GiB split into 4 KiB pages here). Every CPU first reads the page at WINDOW, so each has
 * the translation to frame A cached. The BSP then points the PTE at frame B, invalidates
 * its own entry with INVLPG and sends a shootdown IPI to all-excluding-self; each AP's
 * handler does INVLPG and acknowledges. After all acks every CPU reads the page again and
 * writes its APIC ID through it: each must see B, and frame B must hold the writes (SDM
 * vol. 3, 4.10.5 "Propagation of Paging-Structure Changes to Multiple Processors"). A
 * second round maps frame A back and invalidates with a CR3 reload instead.
 */
#include "rt.h"
#include "smp.h"

#define WINDOW      0x40000000ull   /* 1 GiB: lm_pd entry 512 */
#define VEC_INVLPG  0x60
#define VEC_CR3     0x61
#define MARK_A      0xAAAAAAAAu
#define MARK_B      0xBBBBBBBBu

extern uint64_t lm_pd[];
static uint64_t pt[512] __attribute__((aligned(4096)));
static volatile uint32_t frame_a[1024] __attribute__((aligned(4096)));
static volatile uint32_t frame_b[1024] __attribute__((aligned(4096)));
static volatile uint32_t seen[SMP_MAX_CPUS], acks;
static volatile uint64_t shoot_va;
static unsigned failures;

static void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static void reload_cr3(void) {
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

static void shoot_invlpg(struct isr_frame *f) { (void)f; invlpg(shoot_va); atomic_inc(&acks); lapic_eoi(); }
static void shoot_cr3(struct isr_frame *f) { (void)f; reload_cr3(); atomic_inc(&acks); lapic_eoi(); }

/* Runs on every CPU: read the window, then write this CPU's APIC ID through it. */
static void touch(unsigned cpu, void *arg) {
    (void)arg;
    volatile uint32_t *w = (volatile uint32_t *)WINDOW;
    seen[cpu] = w[0];
    w[16 + cpu] = smp_apic_ids[cpu];
}

static const char *letter(uint32_t v) { return v == MARK_A ? "A" : v == MARK_B ? "B" : "?"; }

static void touch_all(void) {
    for (unsigned i = 0; i < smp_ncpus; i++) seen[i] = 0;
    touch(smp_bsp, 0);
    smp_call_all(touch, 0);
}

/* Remaps WINDOW to `frame`, invalidates locally the same way the IPI handler will, and
   waits for every AP's acknowledgement. */
static void remap_and_shoot(volatile uint32_t *frame, unsigned vector, const char *how) {
    pt[0] = (uint64_t)(uintptr_t)frame | 3;
    if (vector == VEC_INVLPG) invlpg(WINDOW); else reload_cr3();
    shoot_va = WINDOW;
    acks = 0;
    lapic_send_ipi(0, ICR_OTHERS | ICR_FIXED | vector);
    int ok = smp_wait_at_least(&acks, smp_ncpus - 1, 1000);
    con_printf("tlb-shootdown: PTE -> frame %s, %s, shootdown IPI 0x%x to all-excluding-self, %u acks\n",
               frame == frame_a ? "A" : "B", how, vector, acks);
    failures += !ok || acks != smp_ncpus - 1;
}

static void report(volatile uint32_t *frame, uint32_t want) {
    touch_all();
    for (unsigned i = 0; i < smp_ncpus; i++) {
        int ok = seen[i] == want && frame[16 + i] == smp_apic_ids[i];
        con_printf("tlb-shootdown: cpu %u sees %s%s\n", smp_apic_ids[i], letter(seen[i]), ok ? "" : "  FAIL");
        failures += !ok;
    }
}

int main64(void);
int main64(void) {
    if (!smp_init(0)) { con_printf("FAIL\n"); return 1; }
    if (smp_ncpus < 2 || smp_ncpus > 64) { con_printf("tlb-shootdown: needs 2 to 64 CPUs, the MADT lists %u\nFAIL\n", smp_ncpus); return 1; }
    frame_a[0] = MARK_A;
    frame_b[0] = MARK_B;
    /* Split the 2 MiB page at WINDOW: a page table whose first entry is frame A, the rest
       identity like before. Done before the APs start, so they load it with CR3. */
    for (unsigned i = 0; i < 512; i++) pt[i] = (WINDOW + 4096ull * i) | 3;
    pt[0] = (uint64_t)(uintptr_t)frame_a | 3;
    lm_pd[WINDOW >> 21] = (uint64_t)(uintptr_t)pt | 3;
    reload_cr3();
    isr_set(VEC_INVLPG, shoot_invlpg);
    isr_set(VEC_CR3, shoot_cr3);
    unsigned n = smp_boot();
    con_printf("tlb-shootdown: %u CPUs checked in, page 0x%llx -> frame A\n", n, WINDOW);
    if (n != smp_ncpus) { con_printf("FAIL\n"); return 1; }

    touch_all();
    con_printf("tlb-shootdown: every CPU read the page:");
    for (unsigned i = 0; i < smp_ncpus; i++) {
        con_printf(" %s", letter(seen[i]));
        failures += seen[i] != MARK_A || frame_a[16 + i] != smp_apic_ids[i];
    }
    con_printf("\n");

    remap_and_shoot(frame_b, VEC_INVLPG, "INVLPG");
    report(frame_b, MARK_B);
    remap_and_shoot(frame_a, VEC_CR3, "CR3 reload");
    for (unsigned i = 0; i < smp_ncpus; i++) frame_a[16 + i] = 0;
    report(frame_a, MARK_A);

    con_printf("%s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}
