/*
 * quirk-init-broadcast-self: INIT with the all-including-self shorthand is not a valid ICR
 * combination, and nothing happens. Demo for the `init-broadcast-self` quirk (a VMM that
 * honours it and resets every vCPU, the sender included: FreeBSD review D35623). Run with
 * -smp 4 (any N >= 2 works and prints its own count).
 *
 * What the guest does:
 *  1. The BSP starts the APs (INIT, SIPI, SIPI) and parks each one in park(), run from its
 *     VEC_CALL handler with smp_call_async(): a loop that counts (and PAUSEs) until
 *     `release` is set. The BSP waits (bounded) until every AP counted 1000 times.
 *  2. The BSP writes ICR high = 0, ICR low = 0x00084500: INIT (101), edge, level assert,
 *     physical, shorthand all-including-self (10).
 *  3. The BSP, still running, reads its ESR (after the write that latches it), checks
 *     that every AP's counter still advances, sets `release` and waits (bounded) for every
 *     park() to return (it sets left[cpu] on its way out): an AP that had been INITed
 *     would be in wait-for-SIPI and never return. No AP may re-enter the trampoline.
 *
 * Hardware (SDM vol. 3, table "Valid Combinations for the Pentium 4 and Intel Xeon
 * Processors' Local xAPIC Interrupt Command Register": all-including-self is valid with the
 * fixed delivery mode only; with INIT it is invalid): the message is not sent, no ESR bit
 * covers it, the BSP and the APs carry on. Output (-smp 4):
 *
 *   quirk-init-broadcast-self: 4 CPUs checked in; 3 APs parked in a counting loop
 *   quirk-init-broadcast-self: BSP sends INIT, all-including-self (ICR low 0x00084500)
 *   quirk-init-broadcast-self: BSP still running; ESR 0x0
 *   quirk-init-broadcast-self: APs still counting: 3 of 3; returned from their loops: 3 of 3
 *   quirk-init-broadcast-self: trampoline entries 3 (no AP restarted)
 *   PASS                                            (isa-debug-exit 0, status 1)
 *
 * QEMU 7.2 TCG (and KVM) honour the combination: apic_deliver() builds an all-CPUs mask for
 * the shorthand and sends INIT to every CPU, the sender included; the BSP re-enters the
 * BIOS at the reset vector, SeaBIOS finds it has run before, asks for a reset, and with
 * -no-reboot QEMU exits with status 0 after the second line. So QEMU cannot show the
 * hardware behaviour with the ICR write in place. The command-line word
 * `skip-invalid-icr` (QEMU: -append skip-invalid-icr) makes the guest leave out that one
 * ICR write and print exactly the same lines: an ignored message and an unsent one leave
 * the same state behind. expected.out is QEMU's output with it (`make check` passes it);
 * guest.json skips the live comparison (which runs without a command line).
 *
 * With the quirk, Hyperstep delivers the INIT to every vCPU, the BSP included, and stops
 * the VM with stop reason init-bsp ("INIT delivered to the BSP (vCPU 0) by vCPU 0 ...";
 * CLI exit status 10). The output ends after the second line:
 *
 *   quirk-init-broadcast-self: 4 CPUs checked in; 3 APs parked in a counting loop
 *   quirk-init-broadcast-self: BSP sends INIT, all-including-self (ICR low 0x00084500)
 *
 * (The lines after that are printed only by a BSP that survived; the FAIL paths below are
 * for a VMM that honours the INIT on the APs only: APs stopped or restarted.)
 */
#include "rt.h"
#include "smp.h"

#define NAME "quirk-init-broadcast-self"
#define ICR_INIT_ALL_INCLUDING_SELF (ICR_ALL | ICR_ASSERT | ICR_INIT)   /* 0x00084500 */

static volatile uint32_t release;
static volatile uint32_t counts[SMP_MAX_CPUS], left[SMP_MAX_CPUS];

static void park(unsigned cpu, void *arg) {   /* on an AP, in its VEC_CALL handler */
    (void)arg;
    while (!release) {
        counts[cpu]++;
        cpu_relax();    /* PAUSE: lets QEMU's single-threaded TCG switch CPUs at once */
    }
    left[cpu] = 1;
}

/* Every AP's counter reaches at least `want` within about `ms` ms; returns how many did. */
static unsigned aps_counting(const uint32_t *want) {
    unsigned n = 0;
    for (unsigned i = 0; i < smp_ncpus; i++) {
        if (i == smp_bsp) continue;
        n += (unsigned)smp_wait_at_least(&counts[i], want[i], 100);
    }
    return n;
}

int main64(void);
int main64(void) {
    if (!smp_init(0)) { con_printf("FAIL\n"); return 1; }
    if (smp_ncpus < 2) { con_printf(NAME ": needs 2 CPUs, the MADT lists %u\nFAIL\n", smp_ncpus); return 1; }
    unsigned n = smp_boot();
    if (n != smp_ncpus) { con_printf(NAME ": %u of %u CPUs checked in\nFAIL\n", n, smp_ncpus); return 1; }
    unsigned naps = smp_ncpus - 1;
    static uint32_t want[SMP_MAX_CPUS];

    for (unsigned i = 0; i < smp_ncpus; i++) if (i != smp_bsp) smp_call_async(i, park, 0);
    for (unsigned i = 0; i < smp_ncpus; i++) want[i] = 1000;
    if (aps_counting(want) != naps) { con_printf(NAME ": an AP never started counting\nFAIL\n"); return 3; }
    con_printf(NAME ": %u CPUs checked in; %u APs parked in a counting loop\n", n, naps);

    unsigned entries = smp_trampoline_entries();
    con_printf(NAME ": BSP sends INIT, all-including-self (ICR low 0x%08x)\n", ICR_INIT_ALL_INCLUDING_SELF);
    if (!cmdline_flag("skip-invalid-icr")) lapic_send_ipi(0, ICR_INIT_ALL_INCLUDING_SELF);
    lapic_write(LAPIC_ESR, 0);                 /* latch the errors seen so far (SDM 11.5.3) */
    uint32_t esr = lapic_read(LAPIC_ESR);
    con_printf(NAME ": BSP still running; ESR 0x%x\n", esr);

    for (unsigned i = 0; i < smp_ncpus; i++) want[i] = counts[i] + 1000;
    unsigned counting = aps_counting(want);
    release = 1;
    unsigned returned = 0;
    for (unsigned i = 0; i < smp_ncpus; i++) {
        if (i == smp_bsp) continue;
        returned += (unsigned)smp_wait_at_least(&left[i], 1, 100);
    }
    con_printf(NAME ": APs still counting: %u of %u; returned from their loops: %u of %u\n", counting, naps, returned, naps);
    unsigned after = smp_trampoline_entries();
    con_printf(NAME ": trampoline entries %u%s\n", after, after == entries ? " (no AP restarted)" : " (an AP restarted)");
    if (counting != naps || returned != naps || after != entries || esr != 0) {
        con_printf("FAIL: the invalid INIT all-including-self reached the APs\n");
        return 2;
    }
    con_printf("PASS\n");
    return 0;
}
