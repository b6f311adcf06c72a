/*
 * quirk-async-init-suspend: an INIT takes effect at once, so a STARTUP sent right after it
 * finds the AP in wait-for-SIPI and restarts it. Demo for the `async-init-suspend` quirk (a
 * VMM that suspends the INIT's target asynchronously, so the SIPI can find it still
 * running and is dropped). Run with -smp 2 (more CPUs are started but stay idle).
 *
 * What the guest does (the BSP is vCPU 0, the AP with the next APIC ID is vCPU 1):
 *  1. The BSP boots the AP (INIT, SIPI, SIPI through common/trampoline.S: one trampoline
 *     entry, two check-ins counting the BSP) and makes it busy: busy() runs in the AP's
 *     VEC_CALL handler (smp_call_async) and counts in memory forever, with no exits (plain
 *     loads and stores, no PAUSE). The BSP waits (bounded) until the count passed 1000.
 *  2. The BSP sends INIT (ICR low 0x00004500: INIT, edge, assert, physical) and at once,
 *     with no delay in between (only the ICR idle poll), STARTUP vector 0x08 (ICR low
 *     0x00000608) to the AP.
 *  3. The BSP waits (bounded, 100 ms of LAPIC timer) for the AP to check in again: the
 *     trampoline counts its entries (a word in the trampoline page), the AP's 64-bit entry
 *     increments smp_checked_in.
 *  4. It checks that busy() stopped (its count does not move over 1 ms) and that the
 *     restarted AP serves smp_call() again, reporting its APIC ID.
 *
 * Hardware (SDM vol. 3, 9.4.4.1 and table 9-1 "IA-32 Processor States Following Power-up,
 * Reset, or INIT"): the INIT resets the AP into wait-for-SIPI; the STARTUP that follows
 * starts it at 0x08000 (CS 0x0800, IP 0). QEMU 7.2 TCG does the same. Output (-smp 2):
 *
 *   quirk-async-init-suspend: 2 CPUs checked in; APIC 1 busy counting
 *   quirk-async-init-suspend: INIT then STARTUP 0x08 to APIC 1, no delay
 *   quirk-async-init-suspend: trampoline entries 2 (want 2), check-ins 3
 *   quirk-async-init-suspend: the count loop stopped: yes
 *   quirk-async-init-suspend: the restarted AP answers a call: APIC 1
 *   PASS                                            (isa-debug-exit 0, status 1)
 *
 * With the quirk: the INIT only marks the AP "INIT pending"; the AP keeps running until
 * its next exit or scheduling point (busy() has no exits). The STARTUP arrives while the
 * AP is still active, is ignored as a STARTUP to a running processor is, and the INIT then
 * parks the AP in wait-for-SIPI for good. Hyperstep's invariant sipi-lost stops the VM at
 * the STARTUP (stop reason invariant, CLI status 18; the output ends after the second
 * line). With the invariant silenced the BSP times out and prints:
 *
 *   quirk-async-init-suspend: trampoline entries 1 (want 2), check-ins 2
 *   FAIL: the STARTUP found the AP still running (INIT not yet taken) and was dropped
 *                                                   (isa-debug-exit 2, status 5)
 */
#include "rt.h"
#include "smp.h"

#define NAME "quirk-async-init-suspend"

static volatile uint32_t busy_count, answered_id;

static void busy(unsigned cpu, void *arg) {   /* on the AP, in its VEC_CALL handler */
    (void)cpu;
    (void)arg;
    for (;;) busy_count++;
}

static void answer(unsigned cpu, void *arg) {
    (void)cpu;
    (void)arg;
    answered_id = lapic_id();
}

int main64(void);
int main64(void) {
    if (!smp_init(0)) { con_printf("FAIL\n"); return 1; }
    if (smp_ncpus < 2) { con_printf(NAME ": needs 2 CPUs, the MADT lists %u\nFAIL\n", smp_ncpus); return 1; }
    unsigned n = smp_boot();
    unsigned ap = smp_bsp == 0 ? 1 : 0;
    uint32_t ap_id = smp_apic_ids[ap];
    if (n != smp_ncpus) { con_printf(NAME ": %u of %u CPUs checked in\nFAIL\n", n, smp_ncpus); return 1; }

    smp_call_async(ap, busy, 0);
    if (!smp_wait_at_least(&busy_count, 1000, 100)) { con_printf(NAME ": the AP never started counting\nFAIL\n"); return 3; }
    con_printf(NAME ": %u CPUs checked in; APIC %u busy counting\n", n, ap_id);

    unsigned entries = smp_trampoline_entries();
    uint32_t checked = smp_checked_in;
    con_printf(NAME ": INIT then STARTUP 0x%02x to APIC %u, no delay\n", SMP_TRAMPOLINE >> 12, ap_id);
    lapic_send_ipi(ap_id, ICR_INIT | ICR_ASSERT);
    lapic_send_ipi(ap_id, ICR_STARTUP | (SMP_TRAMPOLINE >> 12));
    smp_wait_at_least(&smp_checked_in, checked + 1, 100);
    unsigned entries_after = smp_trampoline_entries();
    con_printf(NAME ": trampoline entries %u (want %u), check-ins %u\n", entries_after, entries + 1, smp_checked_in);
    if (entries_after != entries + 1 || smp_checked_in != checked + 1) {
        con_printf("FAIL: the STARTUP found the AP still running (INIT not yet taken) and was dropped\n");
        return 2;
    }

    uint32_t before = busy_count;
    smp_delay_us(1000);
    int stopped = busy_count == before;
    con_printf(NAME ": the count loop stopped: %s\n", stopped ? "yes" : "no");
    smp_call(ap, answer, 0);
    con_printf(NAME ": the restarted AP answers a call: APIC %u\n", answered_id);
    if (!stopped || answered_id != ap_id) { con_printf("FAIL\n"); return 2; }
    con_printf("PASS\n");
    return 0;
}
