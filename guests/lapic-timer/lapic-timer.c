/*
 * lapic-timer: the local APIC timer of the BSP (SDM vol. 3, 11.5.4). Default -smp 1 (the
 * APs are not started; any -smp prints the same).
 *
 * Divide configuration (every encoding reads back), the current count counting down,
 * one-shot (one interrupt, then the current count stays 0), periodic (5 interrupts, then a
 * write of 0 to the initial count stops it), a masked LVT (the count still runs out, no
 * interrupt, nothing in IRR), and TSC-deadline mode when CPUID.1:ECX[24] advertises it.
 *
 * Nothing printed depends on time: counts are polled or counted, never printed. The
 * TSC-deadline line is the same whether the mode works or is not advertised (QEMU 7.2 TCG
 * does not advertise it, Hyperstep does): a broken TSC-deadline mode prints FAIL. With
 * "tsc-deadline" on the command line the mode is required and its line says what was
 * checked (for `-accel kvm -cpu qemu64,+tsc-deadline` or Hyperstep).
 */
#include "rt.h"
#include "smp.h"

#define VEC_ONESHOT  0x40
#define VEC_PERIODIC 0x41
#define VEC_DEADLINE 0x42
#define VEC_MASKED   0x43
#define PERIODIC_TICKS 5

static volatile uint32_t oneshot, periodic, deadline, masked, stopped_ccr;
static unsigned failures;

static uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
/* Lets some time pass without the LAPIC timer (what is checked never depends on how much). */
static void spin_tsc(uint64_t cycles) {
    uint64_t t0 = rdtsc();
    while (rdtsc() - t0 < cycles) cpu_relax();
}
static void wait_for(volatile uint32_t *count, uint32_t want) {
    while (*count < want) __asm__ volatile("sti; hlt; cli" ::: "memory");
}

static void on_oneshot(struct isr_frame *f) { (void)f; oneshot++; lapic_eoi(); }
static void on_deadline(struct isr_frame *f) { (void)f; deadline++; lapic_eoi(); }
static void on_masked(struct isr_frame *f) { (void)f; masked++; lapic_eoi(); }
static void on_periodic(struct isr_frame *f) {
    (void)f;
    if (++periodic == PERIODIC_TICKS) {
        /* "A write of 0 to the initial-count register effectively stops the local APIC
           timer, in both one-shot and periodic mode" (SDM vol. 3, 11.5.4). */
        lapic_write(LAPIC_TIMER_ICR, 0);
        stopped_ccr = lapic_read(LAPIC_TIMER_CCR);
    }
    lapic_eoi();
}

static void check(const char *what, int ok) {
    con_printf("lapic-timer: %s  %s\n", what, ok ? "ok" : "FAIL");
    failures += !ok;
}

static int tsc_deadline(int required) {
    uint32_t r[4];
    cpuid(1, 0, r);
    if (!((r[2] >> 24) & 1)) {
        if (required) check("tsc-deadline: required but CPUID.1:ECX[24] is clear", 0);
        return 1;
    }
    lapic_write(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | VEC_DEADLINE);
    int mode_ok = (lapic_read(LAPIC_LVT_TIMER) & (3u << 17)) == LVT_TSC_DEADLINE;
    /* In TSC-deadline mode the initial count is ignored and the current count reads 0. */
    lapic_write(LAPIC_TIMER_ICR, 1000);
    int counts_ignored = lapic_read(LAPIC_TIMER_CCR) == 0;
    /* Armed then disarmed by writing 0: no interrupt. */
    wrmsr(MSR_TSC_DEADLINE, rdtsc() + 100000);
    wrmsr(MSR_TSC_DEADLINE, 0);
    spin_tsc(300000);
    irq_window();
    int disarm_ok = deadline == 0;
    /* Armed: one interrupt, after which the MSR reads 0 (SDM vol. 3, 11.5.4.1). */
    wrmsr(MSR_TSC_DEADLINE, rdtsc() + 200000);
    wait_for(&deadline, 1);
    int fired_ok = deadline == 1 && rdmsr(MSR_TSC_DEADLINE) == 0;
    spin_tsc(300000);
    irq_window();
    fired_ok &= deadline == 1;
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_DEADLINE);
    int ok = mode_ok && counts_ignored && disarm_ok && fired_ok;
    if (required)
        check("tsc-deadline: mode reads back, initial count ignored, disarmed by 0, 1 interrupt, MSR 0 after it", ok);
    return ok;
}

int main64(void);
int main64(void) {
    if (!smp_init(0)) { con_printf("FAIL\n"); return 1; }
    isr_set(VEC_ONESHOT, on_oneshot);
    isr_set(VEC_PERIODIC, on_periodic);
    isr_set(VEC_DEADLINE, on_deadline);
    isr_set(VEC_MASKED, on_masked);

    /* Divide configuration: bits 0, 1 and 3 (SDM vol. 3, figure 11-10). */
    static const uint8_t dcr[8] = { 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xB };
    int dcr_ok = 1;
    for (unsigned i = 0; i < 8; i++) {
        lapic_write(LAPIC_TIMER_DCR, dcr[i]);
        dcr_ok &= (lapic_read(LAPIC_TIMER_DCR) & 0xB) == dcr[i];
    }
    check("divide configuration: the 8 encodings read back", dcr_ok);

    /* Counting down, masked so no interrupt comes. */
    lapic_write(LAPIC_TIMER_DCR, 0xB);               /* divide by 1 */
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_MASKED);
    lapic_write(LAPIC_TIMER_ICR, 0x7FFFFFFF);
    uint32_t c1 = lapic_read(LAPIC_TIMER_CCR);
    spin_tsc(10000);
    uint32_t c2 = lapic_read(LAPIC_TIMER_CCR);
    lapic_write(LAPIC_TIMER_ICR, 0);
    check("current count: at most the initial count, then lower", c1 <= 0x7FFFFFFF && c2 < c1 && lapic_read(LAPIC_TIMER_CCR) == 0);

    /* One-shot. */
    lapic_write(LAPIC_TIMER_DCR, 0x3);               /* divide by 16 */
    lapic_write(LAPIC_LVT_TIMER, VEC_ONESHOT);
    int lvt_ok = lapic_read(LAPIC_LVT_TIMER) == VEC_ONESHOT;
    lapic_write(LAPIC_TIMER_ICR, 10000);
    wait_for(&oneshot, 1);
    uint32_t after = lapic_read(LAPIC_TIMER_CCR);
    spin_tsc(1000000);
    irq_window();
    check("one-shot, divide by 16: 1 interrupt, current count 0 after it and no second one",
          lvt_ok && oneshot == 1 && after == 0 && lapic_read(LAPIC_TIMER_CCR) == 0);

    /* Periodic. */
    lapic_write(LAPIC_TIMER_DCR, 0x0);               /* divide by 2 */
    lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | VEC_PERIODIC);
    lvt_ok = lapic_read(LAPIC_LVT_TIMER) == (LVT_PERIODIC | VEC_PERIODIC);
    lapic_write(LAPIC_TIMER_ICR, 100000);
    wait_for(&periodic, PERIODIC_TICKS);
    spin_tsc(2000000);
    irq_window();
    check("periodic, divide by 2: 5 interrupts, then initial count 0 stops it (current count 0, no more)",
          lvt_ok && periodic == PERIODIC_TICKS && stopped_ccr == 0 && lapic_read(LAPIC_TIMER_CCR) == 0);

    /* Masked: the count runs out, nothing is delivered or left in IRR. */
    lapic_write(LAPIC_TIMER_DCR, 0xB);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_MASKED);
    lapic_write(LAPIC_TIMER_ICR, 50000);
    uint64_t t0 = rdtsc();
    while (lapic_read(LAPIC_TIMER_CCR) != 0 && rdtsc() - t0 < 4000000000ull) cpu_relax();
    int ran_out = lapic_read(LAPIC_TIMER_CCR) == 0;
    irq_window();
    check("masked one-shot: counts down to 0, no interrupt, nothing in IRR",
          ran_out && masked == 0 && !lapic_vector_bit(LAPIC_IRR, VEC_MASKED));

    int required = cmdline_flag("tsc-deadline");
    int dl_ok = tsc_deadline(required);
    if (!required) check("tsc-deadline: works when CPUID.1:ECX[24] advertises it (the line is the same when it does not)", dl_ok);

    con_printf("%s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}
