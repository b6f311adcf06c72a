/*
 * quirk-ept-invalidate-no-wait: readers on three CPUs watch a guest-physical page that the
 * HOST remaps while they run. Demo for the `ept-invalidate-no-wait` quirk (FreeBSD review
 * "Make pmap_invalidate_ept() wait synchronously for guest exits": an invalidation that
 * returns before every vCPU has left the guest lets a vCPU keep using its old translation).
 * Run with -smp 4.
 *
 * The remap is done by the host test (Machine.remapGuestPage), not by the guest; run alone
 * (QEMU, or Hyperstep without a host test) nothing is remapped and the guest says so.
 *
 * Fixed guest-physical layout (identity-mapped by common/longmode.S; outside the image):
 *   EPT_DATA  0x00400000  the page the host remaps; the BSP fills it with the word
 *                         0x21444C4F ("OLD!") before the readers start.
 *   EPT_CTRL  0x00401000  control page, never remapped:
 *     +0 magic       0x31545045 ("EPT1"), written last by the BSP: the layout is ready
 *     +4 ready       readers that entered their loop (each adds 1 with LOCK XADD)
 *     +8 generation  0; the host writes 1 after remapping EPT_DATA
 *     +12 readers    number of readers (3 at -smp 4)
 *     +16 looping    readers that are in the measured loop (each adds 1 just before it,
 *                    after its last exit)
 *
 * What the guest does:
 *  1. The BSP boots the APs, fills EPT_DATA, writes the control page (magic last) and runs
 *     reader() on vCPUs 1..3 in parallel (smp_call_all: VEC_CALL handlers, IF=0).
 *  2. Each reader adds 1 to `ready`, waits until all readers are ready (at most 1 s of
 *     its LAPIC timer, polled: exits are fine before the measured loop), then repeats at
 *     most 100000 times: g = generation; d = the first word of EPT_DATA (two plain loads,
 *     in this order: x86 does not reorder loads with loads). Once g != 0 it counts the read
 *     as "after", and as "stale" if d is still 0x21444C4F; it stops after 1000 "after"
 *     reads. The loop has no exits (no I/O, MSR, CPUID, PAUSE, LAPIC access), so a vCPU
 *     holding a stale translation keeps it for the whole loop.
 *  3. The BSP collects the counts and prints them.
 *
 * The host test: run the VM in slices; once magic == 0x31545045 and looping == readers
 * (0x401010 == 0x40100C), call remapGuestPage(0x400000, page) with a 4 KiB page whose first
 * word is not 0x21444C4F, then write 1 to generation (0x401008); run on to the end. The
 * remap must happen within 100000 reads of each reader (under a million instructions per
 * reader). Every reader is then inside its exit-free loop, holding the translation.
 *
 * Hardware-correct behaviour (the invalidation waits until every vCPU that may hold the old
 * translation has exited): no vCPU ever reads the old contents after it has observed the
 * new generation. Output (-smp 4), with the host remap:
 *
 *   quirk-ept-invalidate-no-wait: 4 CPUs checked in; readers APIC 1, 2, 3
 *   quirk-ept-invalidate-no-wait: data page 0x400000 (old word 0x21444c4f), control page 0x401000
 *   quirk-ept-invalidate-no-wait: host remap seen by 3 of 3 readers
 *   quirk-ept-invalidate-no-wait: reads after the new generation: 3000, of the old contents: 0
 *   PASS                                            (isa-debug-exit 0, status 1)
 *
 * and without one (QEMU; Hyperstep run alone; this is expected.out):
 *
 *   quirk-ept-invalidate-no-wait: 4 CPUs checked in; readers APIC 1, 2, 3
 *   quirk-ept-invalidate-no-wait: data page 0x400000 (old word 0x21444c4f), control page 0x401000
 *   quirk-ept-invalidate-no-wait: no host remap within 100000 reads per reader (generation stayed 0)
 *   PASS
 *
 * With the quirk the readers, which never exit, keep reading the old page after the remap
 * returned: Hyperstep's invariant stale-translation stops the VM at the first such read
 * (stop reason invariant; the output ends after the second line). With the invariant
 * silenced, every read after the new generation is stale:
 *
 *   quirk-ept-invalidate-no-wait: reads after the new generation: 3000, of the old contents: 3000
 *   FAIL: a vCPU read the old page after observing the new generation (stale translation)
 *                                                   (isa-debug-exit 2, status 5)
 */
#include "rt.h"
#include "smp.h"

#define NAME      "quirk-ept-invalidate-no-wait"
#define EPT_DATA  0x00400000u
#define EPT_CTRL  0x00401000u
#define OLD_WORD  0x21444C4Fu   /* "OLD!" */
#define MAGIC     0x31545045u   /* "EPT1" */
#define LIMIT     100000u
#define AFTER     1000u

struct ept_ctrl { uint32_t magic, ready, generation, readers, looping; };
#define CTRL ((volatile struct ept_ctrl *)(uintptr_t)EPT_CTRL)

struct result { uint32_t after, stale, never_ready; };
static volatile struct result results[SMP_MAX_CPUS];

static void reader(unsigned cpu, void *arg) {   /* on vCPUs 1..3, in their VEC_CALL handlers */
    (void)arg;
    volatile struct ept_ctrl *c = CTRL;
    volatile uint32_t *data = (volatile uint32_t *)(uintptr_t)EPT_DATA;
    uint32_t after = 0, stale = 0;
    __atomic_add_fetch(&c->ready, 1, __ATOMIC_SEQ_CST);
    /* Bounded by this CPU's LAPIC timer (its polling exits, which is fine before the loop). */
    results[cpu].never_ready = !smp_wait_at_least(&c->ready, c->readers, 1000);
    __atomic_add_fetch(&c->looping, 1, __ATOMIC_SEQ_CST);
    for (uint32_t i = 0; i < LIMIT; i++) {
        uint32_t g = c->generation;
        uint32_t d = *data;
        if (g) {
            after++;
            if (d == OLD_WORD) stale++;
            if (after == AFTER) break;
        }
    }
    results[cpu].after = after;
    results[cpu].stale = stale;
}

int main64(void);
int main64(void) {
    if (!smp_init(0)) { con_printf("FAIL\n"); return 1; }
    if (smp_ncpus < 4 || smp_bsp != 0) {
        con_printf(NAME ": needs 4 CPUs with the BSP lowest (the MADT lists %u)\nFAIL\n", smp_ncpus);
        return 1;
    }
    unsigned n = smp_boot();
    if (n != smp_ncpus) { con_printf(NAME ": %u of %u CPUs checked in\nFAIL\n", n, smp_ncpus); return 1; }
    con_printf(NAME ": %u CPUs checked in; readers APIC %u, %u, %u\n", n, smp_apic_ids[1], smp_apic_ids[2], smp_apic_ids[3]);

    volatile uint32_t *data = (volatile uint32_t *)(uintptr_t)EPT_DATA;
    for (unsigned i = 0; i < 1024; i++) data[i] = OLD_WORD;
    volatile struct ept_ctrl *c = CTRL;
    c->ready = 0;
    c->looping = 0;
    c->generation = 0;
    c->readers = smp_ncpus - 1;
    __atomic_store_n(&c->magic, MAGIC, __ATOMIC_SEQ_CST);
    con_printf(NAME ": data page 0x%x (old word 0x%x), control page 0x%x\n", EPT_DATA, OLD_WORD, EPT_CTRL);

    smp_call_all(reader, 0);

    uint32_t seen = 0, after = 0, stale = 0, not_ready = 0;
    for (unsigned i = 1; i < smp_ncpus; i++) {
        seen += results[i].after != 0;
        after += results[i].after;
        stale += results[i].stale;
        not_ready += results[i].never_ready;
    }
    if (not_ready) { con_printf(NAME ": %u readers never saw the others ready\nFAIL\n", not_ready); return 3; }
    if (!seen) {
        con_printf(NAME ": no host remap within %u reads per reader (generation stayed 0)\nPASS\n", LIMIT);
        return 0;
    }
    con_printf(NAME ": host remap seen by %u of %u readers\n", seen, smp_ncpus - 1);
    con_printf(NAME ": reads after the new generation: %u, of the old contents: %u\n", after, stale);
    if (stale) {
        con_printf("FAIL: a vCPU read the old page after observing the new generation (stale translation)\n");
        return 2;
    }
    con_printf("PASS\n");
    return 0;
}
