/*
 * smp-boot: multiprocessor start-up as an operating system does it. Default -smp 4 (also
 * checked with -smp 1, 2, 8 and 64: expected-smpN.out); works for 1..255 CPUs under QEMU
 * and, in x2APIC mode, for APIC IDs above 254 (Hyperstep up to 1024 vCPUs).
 *
 * The BSP finds the CPUs in the ACPI MADT (processor local APIC and local x2APIC entries),
 * cross-checks the count with fw_cfg key 0x05, copies the real-mode trampoline to 0x8000 and
 * starts every AP with INIT (assert + de-assert), 10 ms, STARTUP, 200 us, STARTUP (SDM vol.
 * 3, 9.4.4.1), each IPI addressed to the AP's APIC ID. Each AP goes 16 -> 32 -> 64-bit on
 * the BSP's page tables with its own stack, reads its APIC ID from CPUID and checks in. The
 * BSP prints counts and the sorted IDs: nothing depends on the order the APs arrive in.
 *
 * Command line: "x2apic" switches every APIC to x2APIC mode first (needs CPUID.1:ECX[21]:
 * `-cpu qemu64,+x2apic` under KVM, `--x2apic` on Hyperstep); IDs above 254 imply it.
 */
#include "rt.h"
#include "smp.h"

int main64(void);
int main64(void) {
    unsigned failures = 0;
    if (!smp_init(cmdline_flag("x2apic"))) { con_printf("FAIL\n"); return 1; }
    con_printf("smp-boot: MADT: %u local APIC entries, %u local x2APIC entries, %u CPUs enabled\n",
               platform.lapic_entries, platform.x2apic_entries, platform.ncpus);
    con_printf("smp-boot: BSP is APIC %u, %s mode\n", smp_apic_ids[smp_bsp], lapic_x2apic ? "x2APIC" : "xAPIC");
    unsigned fw = fw_cfg_present() ? fw_cfg_cpu_count() : 0;
    unsigned n = smp_boot();
    con_printf("smp-boot: %u CPUs from the MADT, fw_cfg says %u, %u checked in\n", smp_ncpus, fw, n);
    failures += n != smp_ncpus || fw != smp_ncpus;

    con_printf("smp-boot: APIC IDs");
    unsigned missing = 0;
    for (unsigned i = 0; i < smp_ncpus; i++) {
        if (i % 16 == 0 && i) con_printf("\nsmp-boot:         ");
        if (smp_ap_long_mode_ok(i)) con_printf(" %u", smp_apic_ids[i]);
        else { con_printf(" (%u)", smp_apic_ids[i]); missing++; }
    }
    con_printf("\n");
    /* One trampoline entry per AP: the second STARTUP must find every AP already running. */
    unsigned entries = smp_trampoline_entries();
    con_printf("smp-boot: trampoline entered %u times for %u APs, %u unknown APs, %u not in 64-bit mode on their stack\n",
               entries, smp_ncpus - 1, smp_unknown_aps(), missing);
    failures += entries != smp_ncpus - 1 || smp_unknown_aps() || missing;
    con_printf("%s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}
