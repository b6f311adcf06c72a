/*
 * SMP runtime for 64-bit guests: see smp.h. Built with -mgeneral-regs-only (its code runs in
 * interrupt handlers, whose stubs save only the general registers).
 */
#include "rt.h"
#include "gdt.h"
#include "smp.h"

/* ================================ local APIC ================================ */
int lapic_x2apic;

static volatile uint32_t *lapic_reg(uint32_t reg) { return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg); }

uint32_t lapic_read(uint32_t reg) {
    if (lapic_x2apic) return (uint32_t)rdmsr(0x800 + (reg >> 4));
    return *lapic_reg(reg);
}

void lapic_write(uint32_t reg, uint32_t v) {
    if (lapic_x2apic) wrmsr(0x800 + (reg >> 4), v);
    else *lapic_reg(reg) = v;
}

uint32_t lapic_id(void) {
    uint32_t id = lapic_read(LAPIC_ID);
    return lapic_x2apic ? id : id >> 24;
}

/* x2APIC: EOI must be written with 0 (SDM vol. 3, 11.12.1.2: anything else #GPs). */
void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

void lapic_send_ipi(uint32_t dest, uint32_t icr_lo) {
    if (lapic_x2apic) {
        /* One 64-bit write: the destination is ICR bits 63:32 (SDM vol. 3, 11.12.9). */
        wrmsr(0x830, ((uint64_t)dest << 32) | icr_lo);
        return;
    }
    /* xAPIC: the high half first, the low half sends (SDM vol. 3, 11.6.1); then wait for
       the delivery status to go idle before the ICR may be written again. */
    lapic_write(LAPIC_ICR_HI, dest << 24);
    lapic_write(LAPIC_ICR_LO, icr_lo);
    while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY) cpu_relax();
}

void lapic_setup(void) {
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
    lapic_write(LAPIC_LVT_ERROR, LVT_MASKED | 0xFE);
    lapic_write(LAPIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
}

int cpu_has_x2apic(void) {
    uint32_t r[4];
    cpuid(1, 0, r);
    return (r[2] >> 21) & 1;
}

int x2apic_enable(void) {
    if (!cpu_has_x2apic()) return 0;
    /* xAPIC -> x2APIC is a legal transition (SDM vol. 3, figure 11-27): set EXTD with EN. */
    uint64_t base = rdmsr(MSR_APIC_BASE);
    wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
    lapic_x2apic = 1;
    return 1;
}

int lapic_vector_bit(uint32_t reg, unsigned vector) {
    return (lapic_read(reg + 0x10 * (vector / 32)) >> (vector % 32)) & 1;
}

/* ================================ platform ================================ */
struct platform platform;

static int sum_ok(const uint8_t *p, unsigned n) {
    uint8_t s = 0;
    for (unsigned i = 0; i < n; i++) s += p[i];
    return s == 0;
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void madt_entries(const uint8_t *madt, uint32_t len) {
    struct platform *t = &platform;
    for (unsigned i = 0; i < 16; i++) t->isa_gsi[i] = i;
    for (uint32_t off = 44; off + 2 <= len; off += madt[off + 1]) {
        const uint8_t *e = madt + off;
        if (e[1] < 2) break;
        switch (e[0]) {
        case 0: /* processor local APIC: flags bit 0 = enabled (ACPI 6.x, 5.2.12.2) */
            t->lapic_entries++;
            if ((rd32(e + 4) & 1) && t->ncpus < SMP_MAX_CPUS) t->apic_ids[t->ncpus++] = e[3];
            break;
        case 9: /* processor local x2APIC: ID at 4, flags at 8 (ACPI 6.x, 5.2.12.12) */
            t->x2apic_entries++;
            if ((rd32(e + 8) & 1) && t->ncpus < SMP_MAX_CPUS) t->apic_ids[t->ncpus++] = rd32(e + 4);
            break;
        case 1: /* IOAPIC */
            if (!t->ioapics++) {
                t->ioapic_id = e[2];
                t->ioapic_addr = rd32(e + 4);
                t->ioapic_gsi_base = rd32(e + 8);
            }
            break;
        case 2: /* interrupt source override: bus, source, GSI, flags */
            if (e[2] == 0 && e[3] < 16) {
                t->isa_gsi[e[3]] = rd32(e + 4);
                t->isa_flags[e[3]] = (uint16_t)(e[8] | e[9] << 8);
            }
            break;
        }
    }
}

int acpi_read_madt(void) {
    const uint8_t *rsdp = 0;
    for (uintptr_t a = 0xE0000; a < 0x100000; a += 16)
        if (!memcmp((const void *)a, "RSD PTR ", 8) && sum_ok((const uint8_t *)a, 20)) { rsdp = (const uint8_t *)a; break; }
    if (!rsdp) { con_printf("acpi: no RSDP in 0xE0000-0xFFFFF\n"); return 0; }
    /* ACPI 2.0+ may give an XSDT (64-bit entries); QEMU's pc gives revision 0 and an RSDT. */
    const uint8_t *sdt;
    unsigned esize;
    if (rsdp[15] >= 2 && rd32(rsdp + 24) && !rd32(rsdp + 28)) { sdt = (const uint8_t *)(uintptr_t)rd32(rsdp + 24); esize = 8; }
    else { sdt = (const uint8_t *)(uintptr_t)rd32(rsdp + 16); esize = 4; }
    uint32_t len = rd32(sdt + 4);
    if (!sum_ok(sdt, len)) { con_printf("acpi: bad RSDT/XSDT checksum\n"); return 0; }
    for (uint32_t off = 36; off + esize <= len; off += esize) {
        const uint8_t *t = (const uint8_t *)(uintptr_t)rd32(sdt + off);
        if (memcmp(t, "APIC", 4)) continue;
        uint32_t mlen = rd32(t + 4);
        if (!sum_ok(t, mlen)) { con_printf("acpi: bad MADT checksum\n"); return 0; }
        madt_entries(t, mlen);
        return 1;
    }
    con_printf("acpi: no MADT\n");
    return 0;
}

static void fw_cfg_select(uint16_t key) { outw(0x510, key); }

int fw_cfg_present(void) {
    char sig[4];
    fw_cfg_select(0x0000);
    for (int i = 0; i < 4; i++) sig[i] = (char)inb(0x511);
    return !memcmp(sig, "QEMU", 4);
}

unsigned fw_cfg_cpu_count(void) {
    fw_cfg_select(0x0005); /* FW_CFG_NB_CPUS, 16 bits little-endian */
    unsigned lo = inb(0x511);
    return lo | (unsigned)inb(0x511) << 8;
}

/* ================================ interrupts ================================ */
struct idt_gate { uint16_t off0, sel; uint8_t ist, type; uint16_t off1; uint32_t off2, zero; } __attribute__((packed));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr;
static isr_fn handlers[256];
extern const uint8_t isr_stubs[];

void idt_load(void) { __asm__ volatile("lidt %0" : : "m"(idtr)); }

void isr_set(unsigned vector, isr_fn fn) { handlers[vector & 0xFF] = fn; }

void idt_init(void) {
    for (unsigned v = 0; v < 256; v++) {
        uint64_t a = (uint64_t)(uintptr_t)(isr_stubs + 16 * v);
        idt[v] = (struct idt_gate){ (uint16_t)a, SEL_CODE64, 0, 0x8E, (uint16_t)(a >> 16), (uint32_t)(a >> 32), 0 };
    }
    idtr.limit = sizeof idt - 1;
    idtr.base = (uint64_t)(uintptr_t)idt;
    idt_load();
}

void isr_dispatch(struct isr_frame *f);
void isr_dispatch(struct isr_frame *f) {
    unsigned v = (unsigned)f->vector;
    if (handlers[v]) { handlers[v](f); return; }
    if (v == VEC_SPURIOUS) return; /* no EOI for a spurious interrupt (SDM vol. 3, 11.9) */
    con_printf("unexpected vector %u (error %lx) at %lx on APIC %u\nFAIL\n", v, (unsigned long)f->error,
               (unsigned long)f->rip, lapic_id());
    guest_exit(0x7F);
}

/* ================================ SMP ================================ */
unsigned smp_ncpus, smp_bsp;
uint32_t smp_apic_ids[SMP_MAX_CPUS];
volatile uint32_t smp_checked_in;

extern const uint8_t smp_trampoline_start[], smp_trampoline_end[];
extern const uint8_t smp_trampoline_entries_off[]; /* an absolute symbol: the offset */
extern uint32_t smp_ap_cr3, smp_ap_cr4;

static volatile uint32_t seen[SMP_MAX_CPUS];      /* check-ins per CPU */
static volatile uint8_t long_mode_ok[SMP_MAX_CPUS];
static volatile uint32_t unknown_aps;

struct call_slot { smp_fn fn; void *arg; volatile uint32_t done; };
static struct call_slot calls[SMP_MAX_CPUS];

void sort_u32(uint32_t *a, unsigned n) {
    for (unsigned i = 1; i < n; i++) { /* insertion sort: MADTs are nearly sorted already */
        uint32_t x = a[i];
        unsigned j = i;
        while (j && a[j - 1] > x) { a[j] = a[j - 1]; j--; }
        a[j] = x;
    }
}

int smp_index_of(uint32_t apic_id) {
    unsigned lo = 0, hi = smp_ncpus;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (smp_apic_ids[mid] == apic_id) return (int)mid;
        if (smp_apic_ids[mid] < apic_id) lo = mid + 1; else hi = mid;
    }
    return -1;
}

unsigned smp_cpu(void) {
    int i = smp_index_of(lapic_id());
    return i < 0 ? 0 : (unsigned)i;
}

static void call_handler(struct isr_frame *f) {
    (void)f;
    unsigned cpu = smp_cpu();
    struct call_slot *c = &calls[cpu];
    c->fn(cpu, c->arg);
    __atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
    lapic_eoi();
}

static volatile uint32_t timer_fired[SMP_MAX_CPUS];
static void timer_handler(struct isr_frame *f) {
    (void)f;
    timer_fired[smp_cpu()] = 1;
    lapic_eoi();
}

int smp_init(int x2apic) {
    if (!acpi_read_madt()) return 0;
    smp_ncpus = platform.ncpus;
    memcpy(smp_apic_ids, platform.apic_ids, smp_ncpus * sizeof smp_apic_ids[0]);
    sort_u32(smp_apic_ids, smp_ncpus);
    /* Mask the 8259s: SeaBIOS leaves LINT0 in ExtINT mode with the PIT running. */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    int need_x2 = smp_ncpus && smp_apic_ids[smp_ncpus - 1] > 0xFE;
    if (x2apic || need_x2) {
        if (!x2apic_enable()) {
            con_printf("smp: x2APIC %s but CPUID.1:ECX[21] is clear\n", need_x2 ? "needed (an APIC ID above 254)" : "asked for");
            return 0;
        }
    }
    idt_init();
    isr_set(VEC_CALL, call_handler);
    isr_set(VEC_TIMER, timer_handler);
    lapic_setup();
    int bsp = smp_index_of(lapic_id());
    if (bsp < 0) { con_printf("smp: the BSP's APIC ID %u is not in the MADT\n", lapic_id()); return 0; }
    smp_bsp = (unsigned)bsp;
    seen[smp_bsp] = 1;
    long_mode_ok[smp_bsp] = 1;
    smp_checked_in = 1;
    return 1;
}

/* The AP's 64-bit C entry (from common/trampoline.S), on its own stack. */
void smp_ap_entry(uint32_t slot) __attribute__((noreturn));
void smp_ap_entry(uint32_t slot) {
    idt_load();
    if (lapic_x2apic) {
        /* The AP's APIC comes out of INIT in xAPIC mode; every CPU must use the same mode. */
        uint64_t base = rdmsr(MSR_APIC_BASE);
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
    }
    lapic_setup();
    /* The APIC ID from CPUID: leaf 0xB's x2APIC ID when the leaf exists (needed above 255),
       else the initial APIC ID in leaf 1 EBX[31:24] (SDM vol. 3, 9.4.5 / 11.12.8). */
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max_leaf = r[0];
    cpuid(1, 0, r);
    uint32_t id = r[1] >> 24;
    if (max_leaf >= 0xB) {
        cpuid(0xB, 0, r);
        if ((r[2] >> 8) & 0xFF) id = r[3];
    }
    int cpu = smp_index_of(id);
    uint64_t efer = rdmsr(0xC0000080);
    uintptr_t sp = (uintptr_t)&r;
    uintptr_t lo = SMP_AP_STACKS + (uintptr_t)slot * SMP_AP_STACK_SIZE;
    int ok = ((efer >> 10) & 1) && sp > lo && sp < lo + SMP_AP_STACK_SIZE && id == lapic_id();
    if (cpu < 0) {
        atomic_inc(&unknown_aps);
    } else {
        long_mode_ok[cpu] = (uint8_t)ok;
        atomic_inc(&seen[cpu]);
    }
    atomic_inc(&smp_checked_in);
    for (;;) __asm__ volatile("sti; hlt; cli" ::: "memory");
}

void smp_delay_us(uint32_t us) {
    unsigned cpu = smp_cpu();
    timer_fired[cpu] = 0;
    lapic_write(LAPIC_TIMER_DCR, 0xB);                 /* divide by 1 */
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER);           /* one-shot, unmasked */
    lapic_write(LAPIC_TIMER_ICR, us * 1000u);
    while (!timer_fired[cpu]) __asm__ volatile("sti; hlt; cli" ::: "memory");
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
}

int smp_wait_at_least(volatile uint32_t *p, uint32_t want, uint32_t ms) {
    /* Poll the current count of a masked one-shot: no interrupt needed, so this also works
       with interrupts off, and the waited-for event ends the wait at once. */
    lapic_write(LAPIC_TIMER_DCR, 0xA);                 /* divide by 128 */
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
    lapic_write(LAPIC_TIMER_ICR, ms * 7812u);
    while (*p < want) {
        if (lapic_read(LAPIC_TIMER_CCR) == 0) return *p >= want;
        cpu_relax();
    }
    lapic_write(LAPIC_TIMER_ICR, 0);
    return 1;
}

unsigned smp_trampoline_entries(void) {
    return *(volatile uint32_t *)(uintptr_t)(SMP_TRAMPOLINE + (uintptr_t)smp_trampoline_entries_off);
}
unsigned smp_unknown_aps(void) { return unknown_aps; }
int smp_ap_long_mode_ok(unsigned cpu) { return long_mode_ok[cpu] && seen[cpu] == 1; }

unsigned smp_boot(void) {
    uint64_t cr3, cr4;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    smp_ap_cr3 = (uint32_t)cr3;
    smp_ap_cr4 = (uint32_t)cr4;
    memcpy((void *)(uintptr_t)SMP_TRAMPOLINE, smp_trampoline_start, (size_t)(smp_trampoline_end - smp_trampoline_start));
    if (smp_ncpus <= 1) return smp_checked_in;
    /* SDM vol. 3, 9.4.4.1 with targeted IPIs, as operating systems do: INIT (assert, then the
       level de-assert that older APICs need), 10 ms, STARTUP, 200 us, STARTUP. All APs go
       through each step together, so the delays are paid once. The second STARTUP is
       ignored by an AP that already left wait-for-SIPI. */
    for (unsigned i = 0; i < smp_ncpus; i++) {
        if (i == smp_bsp) continue;
        lapic_send_ipi(smp_apic_ids[i], ICR_INIT | ICR_LEVEL | ICR_ASSERT);
        lapic_send_ipi(smp_apic_ids[i], ICR_INIT | ICR_LEVEL);
    }
    smp_delay_us(10000);
    for (int round = 0; round < 2; round++) {
        for (unsigned i = 0; i < smp_ncpus; i++)
            if (i != smp_bsp) lapic_send_ipi(smp_apic_ids[i], ICR_STARTUP | (SMP_TRAMPOLINE >> 12));
        if (round == 0) smp_delay_us(200);
    }
    smp_wait_at_least(&smp_checked_in, smp_ncpus, 5000);
    return smp_checked_in;
}

void smp_call_async(unsigned cpu, smp_fn fn, void *arg) {
    struct call_slot *c = &calls[cpu];
    c->fn = fn;
    c->arg = arg;
    __atomic_store_n(&c->done, 0, __ATOMIC_SEQ_CST);
    lapic_send_ipi(smp_apic_ids[cpu], ICR_FIXED | VEC_CALL);
}

void smp_call_wait(unsigned cpu) {
    while (!__atomic_load_n(&calls[cpu].done, __ATOMIC_SEQ_CST)) cpu_relax();
}

void smp_call(unsigned cpu, smp_fn fn, void *arg) {
    smp_call_async(cpu, fn, arg);
    smp_call_wait(cpu);
}

void smp_call_all(smp_fn fn, void *arg) {
    for (unsigned i = 0; i < smp_ncpus; i++)
        if (i != smp_bsp && seen[i]) smp_call_async(i, fn, arg);
    for (unsigned i = 0; i < smp_ncpus; i++)
        if (i != smp_bsp && seen[i]) smp_call_wait(i);
}

/* ================================ command line ================================ */
static const char *cmdline(void) {
    if (mb_magic != MB_BOOT_MAGIC) return "";
    const uint32_t *info = (const uint32_t *)(uintptr_t)mb_info;
    if (!(info[0] & MB_INFO_CMDLINE)) return "";
    return (const char *)(uintptr_t)info[4];
}

/* Finds `word` as a whole space-separated token prefix; returns what follows it. */
static const char *find_token(const char *word) {
    const char *s = cmdline();
    size_t n = strlen(word);
    for (const char *p = s; *p; p++) {
        if ((p == s || p[-1] == ' ') && !memcmp(p, word, n)) return p + n;
    }
    return 0;
}

uint32_t cmdline_uint(const char *key, uint32_t dflt) {
    char k[32];
    str_printf(k, sizeof k, "%s=", key);
    const char *p = find_token(k);
    if (!p || *p < '0' || *p > '9') return dflt;
    uint32_t v = 0;
    while (*p >= '0' && *p <= '9') v = v * 10 + (uint32_t)(*p++ - '0');
    return v;
}

int cmdline_flag(const char *word) {
    const char *p = find_token(word);
    return p && (*p == 0 || *p == ' ');
}
