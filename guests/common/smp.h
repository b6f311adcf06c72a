/*
 * SMP runtime for 64-bit guests (common/smp.c, common/trampoline.S, common/isr64.S):
 *
 *  - the local APIC in xAPIC mode (MMIO at 0xFEE00000) or x2APIC mode (MSRs 0x800-0x8FF),
 *    behind one pair of accessors, and IPIs through the ICR (SDM vol. 3, 11.6);
 *  - the platform: the ACPI MADT (processor local APIC / x2APIC entries, the IOAPIC, ISA
 *    interrupt source overrides) and fw_cfg's CPU count;
 *  - a 64-bit IDT shared by every CPU, with a C handler per vector;
 *  - AP start-up: INIT, SIPI, SIPI (SDM vol. 3, 9.4.4.1) through a real-mode trampoline
 *    copied to SMP_TRAMPOLINE; each AP goes 16 -> 32 -> 64-bit on the BSP's page tables,
 *    on its own stack, checks in, and then serves smp_call() requests from the BSP;
 *  - delays with the LAPIC timer (one-shot, HLT until it fires).
 *
 * Conventions: "cpu" is an index into smp_apic_ids[], which holds the APIC IDs of the MADT
 * sorted ascending, so per-CPU results printed in index order are printed by APIC ID. Only
 * the BSP prints; APs record results in memory. Every C file that contains interrupt
 * handlers is built with -mgeneral-regs-only: the stubs save only the general registers.
 */
#ifndef HYPERSTEP_GUEST_SMP_H
#define HYPERSTEP_GUEST_SMP_H

#define SMP_MAX_CPUS     1024
#define SMP_TRAMPOLINE   0x8000      /* page aligned, below 1 MiB: SIPI vector 0x08 */
#define SMP_AP_STACKS    0x01000000  /* 16 MiB: one SMP_AP_STACK_SIZE stack per AP, by arrival */
#define SMP_AP_STACK_SIZE 0x2000

/* Vectors the runtime owns. Guests use 0x40..0xDF for their own tests. */
#define VEC_CALL     0x30   /* smp_call(): low priority class, so pending test IPIs go first */
#define VEC_TIMER    0xEE   /* smp_delay_us() */
#define VEC_SPURIOUS 0xFF

/* ---- local APIC registers (SDM vol. 3, table 11-1; x2APIC MSR = 0x800 + offset / 16) ---- */
#define LAPIC_BASE       0xFEE00000u
#define LAPIC_ID         0x020
#define LAPIC_VER        0x030
#define LAPIC_TPR        0x080
#define LAPIC_APR        0x090
#define LAPIC_PPR        0x0A0
#define LAPIC_EOI        0x0B0
#define LAPIC_LDR        0x0D0
#define LAPIC_DFR        0x0E0
#define LAPIC_SVR        0x0F0
#define LAPIC_ISR        0x100   /* 8 registers, 0x10 apart */
#define LAPIC_TMR        0x180
#define LAPIC_IRR        0x200
#define LAPIC_ESR        0x280
#define LAPIC_ICR_LO     0x300
#define LAPIC_ICR_HI     0x310
#define LAPIC_LVT_TIMER  0x320
#define LAPIC_LVT_THERM  0x330
#define LAPIC_LVT_PERF   0x340
#define LAPIC_LVT_LINT0  0x350
#define LAPIC_LVT_LINT1  0x360
#define LAPIC_LVT_ERROR  0x370
#define LAPIC_TIMER_ICR  0x380
#define LAPIC_TIMER_CCR  0x390
#define LAPIC_TIMER_DCR  0x3E0
#define LAPIC_SELF_IPI   0x3F0   /* x2APIC only */

#define SVR_ENABLE       0x100
#define LVT_MASKED       (1u << 16)
#define LVT_PERIODIC     (1u << 17)
#define LVT_TSC_DEADLINE (2u << 17)

/* ICR low word (SDM vol. 3, 11.6.1) */
#define ICR_FIXED        (0u << 8)
#define ICR_LOWEST       (1u << 8)
#define ICR_SMI          (2u << 8)
#define ICR_NMI          (4u << 8)
#define ICR_INIT         (5u << 8)
#define ICR_STARTUP      (6u << 8)
#define ICR_LOGICAL      (1u << 11)
#define ICR_BUSY         (1u << 12)  /* delivery status, xAPIC only */
#define ICR_ASSERT       (1u << 14)
#define ICR_LEVEL        (1u << 15)
#define ICR_SELF         (1u << 18)
#define ICR_ALL          (2u << 18)
#define ICR_OTHERS       (3u << 18)

#define MSR_APIC_BASE    0x1B
#define MSR_TSC_DEADLINE 0x6E0
#define APIC_BASE_BSP    (1u << 8)
#define APIC_BASE_EXTD   (1u << 10)
#define APIC_BASE_EN     (1u << 11)

#ifndef __ASSEMBLER__
#include <stdint.h>

static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
/* Let pending interrupts in for one instruction, then close again. */
static inline void irq_window(void) { __asm__ volatile("sti; nop; cli" ::: "memory"); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* ---- local APIC ---- */
extern int lapic_x2apic;                 /* 1 once x2apic_enable() switched this CPU's APIC */
uint32_t lapic_read(uint32_t reg);
void     lapic_write(uint32_t reg, uint32_t v);
uint32_t lapic_id(void);                 /* the full APIC ID (xAPIC: ID register bits 31:24) */
void     lapic_eoi(void);
/* Sends an IPI: dest is the destination field (xAPIC: 8 bits, x2APIC: 32 bits); waits until
   the xAPIC reports the ICR idle (delivery status), as the SDM asks before the next write. */
void     lapic_send_ipi(uint32_t dest, uint32_t icr_lo);
/* SVR enable with VEC_SPURIOUS, TPR 0, every LVT masked. */
void     lapic_setup(void);
int      cpu_has_x2apic(void);
/* Switches this CPU's APIC to x2APIC mode (SDM vol. 3, 11.12.1); 0 if not advertised. */
int      x2apic_enable(void);
/* Bit `vector` of one of the 256-bit registers (LAPIC_ISR / LAPIC_TMR / LAPIC_IRR). */
int      lapic_vector_bit(uint32_t reg, unsigned vector);

/* ---- platform ---- */
struct platform {
    unsigned ncpus;                       /* enabled processor entries */
    unsigned lapic_entries, x2apic_entries;
    uint32_t apic_ids[SMP_MAX_CPUS];      /* MADT order */
    uint32_t ioapic_addr, ioapic_gsi_base;
    unsigned ioapic_id, ioapics;
    uint32_t isa_gsi[16];                 /* ISA IRQ -> GSI (identity unless overridden) */
    uint16_t isa_flags[16];               /* MPS INTI flags of the override, 0 = bus default */
};
extern struct platform platform;
/* Finds the RSDP in 0xE0000-0xFFFFF and walks RSDT/XSDT -> MADT into `platform`; returns 0 and
   prints why on failure. */
int      acpi_read_madt(void);
/* fw_cfg: 1 if the "QEMU" signature is there; key 0x05 (FW_CFG_NB_CPUS). */
int      fw_cfg_present(void);
unsigned fw_cfg_cpu_count(void);

/* ---- interrupts ---- */
struct isr_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};
typedef void (*isr_fn)(struct isr_frame *f);
void idt_init(void);                      /* builds the IDT and loads it on this CPU */
void idt_load(void);                      /* loads it on an AP */
void isr_set(unsigned vector, isr_fn fn); /* NULL: unexpected (exceptions stop the guest) */

/* ---- SMP ---- */
extern unsigned smp_ncpus;                /* CPUs known (MADT), after smp_init() */
extern uint32_t smp_apic_ids[SMP_MAX_CPUS]; /* sorted ascending */
extern unsigned smp_bsp;                  /* index of the BSP */
extern volatile uint32_t smp_checked_in;  /* CPUs running our code, BSP included */

/* Reads the MADT, sorts the IDs, sets up the BSP's LAPIC (in x2APIC mode if `x2apic` or if an
   ID does not fit in 8 bits) and the IDT. Returns 0 on failure (already printed). */
int      smp_init(int x2apic);
/* Starts every AP of the MADT with INIT, SIPI, SIPI and waits (bounded) until they checked
   in. Returns the number of CPUs that checked in, BSP included. */
unsigned smp_boot(void);
unsigned smp_trampoline_entries(void);    /* times an AP entered the trampoline */
unsigned smp_unknown_aps(void);           /* APs whose APIC ID is not in the MADT */
int      smp_ap_long_mode_ok(unsigned cpu); /* the AP saw EFER.LMA and its own stack */
unsigned smp_cpu(void);                   /* this CPU's index (from its APIC ID) */
int      smp_index_of(uint32_t apic_id);  /* -1 if not in the MADT */
/* Runs fn(cpu, arg) on AP `cpu` from its VEC_CALL handler (interrupts off) and waits for it. */
typedef void (*smp_fn)(unsigned cpu, void *arg);
void     smp_call(unsigned cpu, smp_fn fn, void *arg);
void     smp_call_all(smp_fn fn, void *arg); /* every AP, in parallel; waits for all */
void     smp_call_async(unsigned cpu, smp_fn fn, void *arg); /* smp_call() without the wait */
void     smp_call_wait(unsigned cpu);
/* Waits (HLT) for `us` microseconds of LAPIC timer on this CPU (1 GHz bus clock as QEMU and
   Hyperstep; correctness never depends on it). Uses VEC_TIMER and the LVT timer. */
void     smp_delay_us(uint32_t us);
/* Spins until *p >= want or about `ms` milliseconds of LAPIC timer passed; returns *p >= want. */
int      smp_wait_at_least(volatile uint32_t *p, uint32_t want, uint32_t ms);

/* ---- multiboot command line ---- */
/* The value of "key=N" on the command line, or `dflt`. */
uint32_t cmdline_uint(const char *key, uint32_t dflt);
int      cmdline_flag(const char *word);

/* ---- misc ---- */
void     sort_u32(uint32_t *a, unsigned n);
static inline uint32_t atomic_inc(volatile uint32_t *p) { return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST); }

#endif /* __ASSEMBLER__ */

#endif
