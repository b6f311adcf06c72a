/*
 * quirk-deferred-irr-ack: a second fixed IPI with a vector that is still in service is held
 * in IRR and delivered after the EOI. Demo for the `deferred-irr-ack` quirk (FreeBSD bug
 * 215972, review "vmm/svm: use special state for LAPIC interrupt injected as virtual
 * interrupt"). Run with -smp 2 (more CPUs are started but stay idle).
 *
 * What the guest does (the BSP is vCPU 0, the AP with the next APIC ID is vCPU 1):
 *  1. The BSP sends a fixed IPI, vector 0x50, physical destination, to the AP.
 *  2. The AP's handler for 0x50 counts the run. On its first run, with 0x50 still in
 *     service (no EOI yet), it sets `entered` in memory and spins on the memory flag
 *     `second_sent`. Until that flag is set the handler touches neither the local APIC nor
 *     anything else a hypervisor intercepts: plain loads and stores only, no PAUSE, no
 *     I/O, no MSR, no CPUID.
 *  3. The BSP waits (bounded, 100 ms of LAPIC timer) for `entered`, sends a second fixed
 *     IPI with the same vector 0x50 to the AP, and sets `second_sent`.
 *  4. The AP's handler reads its ISR and IRR bits for 0x50 (its first local APIC accesses
 *     since entry), then EOIs and returns (IRET, IF=1 again).
 *  5. The BSP waits (bounded, 100 ms) for a second run, then prints the bits the AP saw and
 *     the number of runs.
 *
 * Hardware (SDM vol. 3, 11.8.4 "Interrupt Acceptance for Fixed Interrupts"): the first IPI
 * moved 0x50 from IRR to ISR when the AP took it; the second one is accepted into IRR while
 * 0x50 is in service ("...the second interrupt is held in the IRR until the first is
 * handled"), and is delivered when the EOI clears the ISR bit. In the handler ISR[0x50]=1
 * and IRR[0x50]=1; the handler runs twice. QEMU 7.2 TCG does the same. Output (-smp 2):
 *
 *   quirk-deferred-irr-ack: 2 CPUs checked in; APIC 0 -> APIC 1, vector 0x50
 *   quirk-deferred-irr-ack: the AP is in its handler (no EOI yet); sending 0x50 again
 *   quirk-deferred-irr-ack: in the handler: ISR[0x50]=1 IRR[0x50]=1
 *   quirk-deferred-irr-ack: handler runs: 2 (want 2)
 *   PASS                                            (isa-debug-exit 0, QEMU status 1)
 *
 * With the quirk (the buggy SVM path): when the AP takes the first IPI the vector is
 * injected but its IRR bit is left set until the vCPU's next VM exit (bhyve acknowledged
 * the virtual interrupt only then). The second IPI finds IRR[0x50] already set and
 * collapses into it: an IPI that hardware would have delivered is lost. Hyperstep's
 * invariant ipi-lost stops the VM right there (stop reason invariant, CLI status 18), so
 * the output ends after the second line. With the invariant silenced: the handler's first
 * LAPIC access (the ISR read, an MMIO exit) completes the deferred acknowledge and clears
 * IRR[0x50]; the handler sees ISR[0x50]=1 IRR[0x50]=0, its EOI leaves nothing to deliver,
 * and it runs once:
 *
 *   quirk-deferred-irr-ack: in the handler: ISR[0x50]=1 IRR[0x50]=0
 *   quirk-deferred-irr-ack: handler runs: 1 (want 2)
 *   FAIL: the second IPI collapsed into the unacknowledged IRR bit and was lost
 *                                                   (isa-debug-exit 2, status 5)
 *
 * The verdict rests on the run count; the IRR line shows why.
 */
#include "rt.h"
#include "smp.h"

#define NAME "quirk-deferred-irr-ack"
#define VEC  0x50

static volatile uint32_t runs, entered, second_sent, isr_seen, irr_seen;

/* On the AP. Between entry and `second_sent` only memory is touched (see the header). */
static void on_ipi(struct isr_frame *f) {
    (void)f;
    uint32_t n = ++runs;
    if (n == 1) {
        entered = 1;
        while (!second_sent) { }
        isr_seen = (uint32_t)lapic_vector_bit(LAPIC_ISR, VEC);
        irr_seen = (uint32_t)lapic_vector_bit(LAPIC_IRR, VEC);
    }
    lapic_eoi();
}

int main64(void);
int main64(void) {
    if (!smp_init(0)) { con_printf("FAIL\n"); return 1; }
    if (smp_ncpus < 2) { con_printf(NAME ": needs 2 CPUs, the MADT lists %u\nFAIL\n", smp_ncpus); return 1; }
    isr_set(VEC, on_ipi);
    unsigned n = smp_boot();
    uint32_t ap_id = smp_apic_ids[smp_bsp == 0 ? 1 : 0];
    con_printf(NAME ": %u CPUs checked in; APIC %u -> APIC %u, vector 0x%x\n", n, smp_apic_ids[smp_bsp], ap_id, VEC);
    if (n != smp_ncpus) { con_printf("FAIL\n"); return 1; }

    lapic_send_ipi(ap_id, ICR_FIXED | VEC);
    if (!smp_wait_at_least(&entered, 1, 100)) {
        con_printf("FAIL: the AP never entered its handler\n");
        return 3;
    }
    con_printf(NAME ": the AP is in its handler (no EOI yet); sending 0x%x again\n", VEC);
    lapic_send_ipi(ap_id, ICR_FIXED | VEC);
    second_sent = 1;

    smp_wait_at_least(&runs, 2, 100);
    con_printf(NAME ": in the handler: ISR[0x%x]=%u IRR[0x%x]=%u\n", VEC, isr_seen, VEC, irr_seen);
    con_printf(NAME ": handler runs: %u (want 2)\n", runs);
    if (runs != 2) {
        con_printf("FAIL: %s\n", runs < 2 ? "the second IPI collapsed into the unacknowledged IRR bit and was lost"
                                          : "the handler ran more often than IPIs were sent");
        return 2;
    }
    if (!isr_seen || !irr_seen) {
        con_printf("FAIL: 0x%x not in service, or the second IPI not pending, inside the handler\n", VEC);
        return 2;
    }
    con_printf("PASS\n");
    return 0;
}
