/*
 * quirk-spurious-rendezvous: IOAPIC redirection changes aimed at one CPU while others
 * run. Demo for the `spurious-rendezvous` quirk (FreeBSD review D37390: a vCPU that only
 * checks "is a rendezvous pending" and not "am I in its requested set" exits for nothing).
 * Run with -smp 4.
 *
 * The guest cannot see VM exits, so it prints the same with and without the quirk; the
 * difference is in Hyperstep's exit counts (`--stats`, Vmm.exitCount(vcpu, 'RENDEZVOUS')).
 *
 * What the guest does (vCPU i is the CPU with the i-th smallest APIC ID; vCPU 0 the BSP):
 *  1. The BSP boots the APs and runs spin() on vCPUs 1, 2 and 3 (smp_call_async, in their
 *     VEC_CALL handlers, IF=0): each loop iteration executes CPUID (leaf 0, an exit on VMX
 *     and SVM alike, so the vCPU re-enters the guest often, as in the bhyve bug), counts,
 *     and executes PAUSE (QEMU's round-robin TCG switches CPUs on it).
 *     vCPU 1 is kept running too, so that a rendezvous aimed at it stays open until it
 *     gets to it. The BSP waits (bounded) until all three counted at least 100 times.
 *  2. IOAPIC (address from the MADT) pin 20 (no device is wired to it on QEMU's pc or on
 *     Hyperstep), always masked. Writes, in this order (IOREGSEL then IOWIN each):
 *       reg 0x11+2*20 (RTE 20 high) = 1 << 24      destination APIC ID 1, physical
 *       reg 0x10+2*20 (RTE 20 low)  = 0x00010060   masked, edge, fixed, vector 0x60
 *     then 8 times: RTE 20 low = 0x00018060 (level) or 0x00010060 (edge), alternating,
 *     starting with level and ending with edge; after each write the BSP reads the entry
 *     back (trigger bit 15 must hold the new mode) and waits (bounded) until each spinner
 *     counted 200 more times, so the spinners run while the change is being handled.
 *     Each of the 8 writes changes the trigger mode of an entry whose destination is vCPU
 *     1 only: in bhyve (vioapic_write -> vm_smp_rendezvous ... vioapic_update_tmr) and in
 *     Hyperstep that is one rendezvous each, requested set {vCPU 1}, initiator vCPU 0.
 *  3. The BSP stops the spinners, waits for them, and prints.
 *
 * Output, hardware (QEMU 7.2 TCG: no rendezvous at all) and Hyperstep with or without the
 * quirk (-smp 4):
 *
 *   quirk-spurious-rendezvous: 4 CPUs checked in; APICs 1, 2, 3 spinning (CPUID in the loop)
 *   quirk-spurious-rendezvous: IOAPIC pin 20 -> APIC 1, vector 0x60, masked: 8 trigger-mode changes, read back ok
 *   quirk-spurious-rendezvous: spinners kept counting through every change: yes
 *   PASS                                            (isa-debug-exit 0, status 1)
 *
 * What the test checks in Hyperstep's exit statistics (`hyperstep run ... --vcpus 4
 * --stats`, or Vmm.exitCount(v, 'RENDEZVOUS')): without the quirk only vCPU 1 takes
 * RENDEZVOUS exits, 8 (one per change); vCPUs 0, 2 and 3 take none. With the quirk vCPUs
 * 2 and 3 take RENDEZVOUS exits too (spurious: they are in no requested set), and so does
 * vCPU 0, the initiator. How many depends on the seeded schedule (whether a vCPU reaches
 * an instruction boundary while a rendezvous is still open, i.e. before vCPU 1 got its
 * turn); measured: default seed vCPU 0/1/2/3 = 8/8/5/3, and seeds 1..8 all give at least 2
 * on each of vCPUs 2 and 3. The guest's own output is the same in every case.
 */
#include "rt.h"
#include "smp.h"

#define NAME     "quirk-spurious-rendezvous"
#define PIN      20
#define VEC      0x60
#define CHANGES  8

#define RTE_LEVEL  (1u << 15)
#define RTE_MASKED (1u << 16)

static volatile uint32_t *ioapic;
static volatile uint32_t stop, counts[4], stopped[4];

static uint32_t ioapic_read(uint32_t reg) { ioapic[0] = reg; return ioapic[4]; }
static void ioapic_write(uint32_t reg, uint32_t v) { ioapic[0] = reg; ioapic[4] = v; }

static void spin(unsigned cpu, void *arg) {    /* on vCPUs 1..3, in their VEC_CALL handlers */
    (void)arg;
    uint32_t r[4];
    while (!stop) {
        cpuid(0, 0, r);
        counts[cpu]++;
        cpu_relax();    /* PAUSE: lets QEMU's single-threaded TCG switch CPUs at once */
    }
    stopped[cpu] = 1;
}

/* Every spinner counts `more` times within about 100 ms each; returns 1 if all did. */
static int spinners_advance(uint32_t more) {
    uint32_t want[4];
    for (unsigned i = 1; i < 4; i++) want[i] = counts[i] + more;
    int ok = 1;
    for (unsigned i = 1; i < 4; i++) ok &= smp_wait_at_least(&counts[i], want[i], 100);
    return ok;
}

int main64(void);
int main64(void) {
    if (!smp_init(0)) { con_printf("FAIL\n"); return 1; }
    if (smp_ncpus < 4 || smp_bsp != 0) {
        con_printf(NAME ": needs 4 CPUs with the BSP lowest (the MADT lists %u)\nFAIL\n", smp_ncpus);
        return 1;
    }
    if (!platform.ioapics) { con_printf(NAME ": no IOAPIC in the MADT\nFAIL\n"); return 1; }
    ioapic = (volatile uint32_t *)(uintptr_t)platform.ioapic_addr;
    unsigned n = smp_boot();
    if (n != smp_ncpus) { con_printf(NAME ": %u of %u CPUs checked in\nFAIL\n", n, smp_ncpus); return 1; }

    for (unsigned i = 1; i < 4; i++) smp_call_async(i, spin, 0);
    for (unsigned i = 1; i < 4; i++) {
        if (!smp_wait_at_least(&counts[i], 100, 100)) { con_printf(NAME ": APIC %u never started spinning\nFAIL\n", smp_apic_ids[i]); return 3; }
    }
    con_printf(NAME ": %u CPUs checked in; APICs %u, %u, %u spinning (CPUID in the loop)\n", n,
               smp_apic_ids[1], smp_apic_ids[2], smp_apic_ids[3]);

    uint32_t dest = smp_apic_ids[1];
    uint32_t lo = RTE_MASKED | VEC;                 /* fixed, physical, active high, edge */
    ioapic_write(0x11 + 2 * PIN, dest << 24);
    ioapic_write(0x10 + 2 * PIN, lo);
    int readback_ok = 1, kept_counting = 1;
    for (unsigned k = 0; k < CHANGES; k++) {
        lo ^= RTE_LEVEL;
        ioapic_write(0x10 + 2 * PIN, lo);
        uint32_t got = ioapic_read(0x10 + 2 * PIN);
        if ((got & (RTE_LEVEL | RTE_MASKED | 0xFF)) != lo) readback_ok = 0;
        kept_counting &= spinners_advance(200);
    }
    if (ioapic_read(0x11 + 2 * PIN) >> 24 != dest) readback_ok = 0;
    con_printf(NAME ": IOAPIC pin %u -> APIC %u, vector 0x%x, masked: %u trigger-mode changes, read back %s\n",
               PIN, dest, VEC, CHANGES, readback_ok ? "ok" : "WRONG");

    stop = 1;
    for (unsigned i = 1; i < 4; i++) kept_counting &= smp_wait_at_least(&stopped[i], 1, 100);
    con_printf(NAME ": spinners kept counting through every change: %s\n", kept_counting ? "yes" : "no");
    if (!readback_ok || !kept_counting) { con_printf("FAIL\n"); return 2; }
    con_printf("PASS\n");
    return 0;
}
