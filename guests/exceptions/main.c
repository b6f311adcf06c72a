/*
 * exceptions: provokes the CPU exceptions through IDTs of our own and prints what each
 * handler saw: vector, error code, CR2, and where the faulting (or, for traps, the next)
 * instruction is, relative to a label so the output does not depend on the link.
 *
 * Compiled twice: the 32-bit half (protected mode, IDT of 8-byte gates, a 32-bit TSS,
 * 32-bit paging) and the 64-bit half (IA-32e mode, 16-byte gates, a 64-bit TSS with RSP0
 * and IST1 for #DF, 4-level paging with NX). Cases where QEMU departs from the SDM (see
 * the notes on QEMU as the reference) are left out: WRMSR/RDMSR of unknown MSRs, a
 * non-canonical stack access, reserved-bit page faults, and INT n through a DPL0 gate
 * from ring 3 in long mode.
 */
#include "gdt.h"
#include "rt.h"

typedef unsigned long word;

/* The frame common/stubs*.S build: general registers, EFLAGS seen inside the handler,
   vector, error code, then what the CPU pushed. */
#ifdef __x86_64__
struct frame {
    word r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    word hflags, vector, error, ip, cs, flags, sp, ss;
};
#define MODE "64-bit long mode"
#else
struct frame {
    word edi, esi, ebp, esp_, ebx, edx, ecx, eax, es, ds;
    word hflags, vector, error, ip, cs, flags, sp, ss; /* sp, ss: only from ring 3 */
};
#define MODE "32-bit protected mode"
#endif

#define EFLAGS_IF 0x200

/* What the handler recorded, one entry per exception during a probe. */
struct rec {
    word vector, error, ip, cs, sp, ss, hflags, cr2, where;
};
static struct rec recs[4];
static int nrec;

int exc_handler(struct frame *f);
int exc_handler(struct frame *f) {
    struct rec *r = &recs[nrec < 4 ? nrec++ : 3];
    word cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    r->vector = f->vector, r->error = f->error, r->ip = f->ip, r->cs = f->cs;
    r->sp = f->sp, r->ss = f->ss, r->hflags = f->hflags, r->cr2 = cr2;
    r->where = (word)(uintptr_t)f;
    /* INT 0x80 plays system call: go back to the caller. Everything else ends the probe. */
    return f->vector == 0x80;
}

/* From stubs32.S / stubs64.S. */
extern const word isr_table[34];
int probe_call(void (*fn)(void));
int probe_user(void (*fn)(void), void *stack);
#define SEQ(name) extern char name[], name##_at[]
SEQ(t_div0); SEQ(t_ud2); SEQ(t_int3); SEQ(t_gp_sel); SEQ(t_np); SEQ(t_gp_limit);
SEQ(t_pf_read); SEQ(t_pf_write); SEQ(u_int80); SEQ(u_hlt); SEQ(u_pf_sup); SEQ(u_pf_wnp);
SEQ(u_user_ok);
extern char u_cli_at[];
#ifdef __x86_64__
SEQ(t_gp_canon); SEQ(t_pf_nx); SEQ(t_df_gate); SEQ(t_df_stack);
#else
SEQ(t_idiv); SEQ(t_int3b); SEQ(t_into); SEQ(t_bound); SEQ(t_gp_sys); SEQ(t_gp_ss); SEQ(u_int81);
#endif

static uint8_t kstack[8192] __attribute__((aligned(16)));      /* TSS.(E|R)SP0 */
static uint8_t ist1_stack[4096] __attribute__((aligned(16)));  /* TSS.IST1 (#DF) */
static uint8_t user_stack[4096] __attribute__((aligned(16)));
static uint8_t test_pages[5][4096] __attribute__((aligned(4096)));
extern uint64_t gdt[];

/* ---- descriptors ---------------------------------------------------------------------- */
/* Segment descriptor (SDM vol. 3, 3.4.5): access = P DPL S type, flags = G D/B L AVL. */
static uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
    uint32_t lo = (limit & 0xFFFF) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xFF) | ((uint32_t)access << 8) | (limit & 0xF0000) |
                  ((uint32_t)(flags & 0xF) << 20) | (base & 0xFF000000);
    return ((uint64_t)hi << 32) | lo;
}

static void load_tr(void) {
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

#ifdef __x86_64__
struct gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, reserved;
};
struct __attribute__((packed)) tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap;
};
#define GATE_CODE SEL_CODE64
#else
struct gate {
    uint16_t off_lo, sel;
    uint8_t zero, type;
    uint16_t off_hi;
};
struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap;
};
#define GATE_CODE SEL_CODE32
#endif

static struct gate idt[256] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));

/* type: 0x8E interrupt gate, 0x8F trap gate, |0x60 for DPL3 (SDM vol. 3, 6.11). */
static void set_gate(int vec, word handler, uint8_t type, uint8_t ist) {
    struct gate *g = &idt[vec];
    g->off_lo = (uint16_t)handler;
    g->sel = GATE_CODE;
    g->type = type;
#ifdef __x86_64__
    g->ist = ist;
    g->off_mid = (uint16_t)(handler >> 16);
    g->off_hi = (uint32_t)(handler >> 32);
    g->reserved = 0;
#else
    (void)ist;
    g->zero = 0;
    g->off_hi = (uint16_t)(handler >> 16);
#endif
}

static void setup_idt_tss(void) {
    for (int v = 0; v < 32; v++) set_gate(v, isr_table[v], 0x8E, 0);
    set_gate(0x80, isr_table[32], 0xEE, 0);  /* DPL3: INT 0x80 allowed from ring 3 */
    set_gate(0x81, isr_table[33], 0x8E, 0);  /* DPL0 */
    struct {
        uint16_t limit;
        word base;
    } __attribute__((packed)) idtr = {sizeof idt - 1, (word)(uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));

    memset(&tss, 0, sizeof tss);
    uint32_t tss_base = (uint32_t)(uintptr_t)&tss;
#ifdef __x86_64__
    set_gate(8, isr_table[8], 0x8E, 1);      /* #DF on IST1 */
    tss.rsp[0] = (uint64_t)(uintptr_t)(kstack + sizeof kstack);
    tss.ist[0] = (uint64_t)(uintptr_t)(ist1_stack + sizeof ist1_stack);
    tss.iomap = sizeof tss;
    /* 16-byte system descriptor: the second half holds base bits 63:32 (zero here). */
    gdt[SEL_TSS / 8] = descriptor(tss_base, sizeof tss - 1, 0x89, 0);
    gdt[SEL_TSS / 8 + 1] = 0;
#else
    tss.esp0 = (uint32_t)(uintptr_t)(kstack + sizeof kstack);
    tss.ss0 = SEL_DATA32;
    tss.iomap = sizeof tss;
    gdt[SEL_TSS / 8] = descriptor(tss_base, sizeof tss - 1, 0x89, 0);
#endif
    load_tr();
    /* A data segment marked not present, and a 32-bit code segment of 4 KiB. */
    gdt[SEL_SPARE0 / 8] = descriptor(0, 0xFFFFF, 0x13, 0xC);
    gdt[SEL_SPARE1 / 8] = descriptor(0, 0xFFF, 0x9B, 0x4);
}

/* ---- paging ----------------------------------------------------------------------------- */
/* Test pages at 0x800000: +0 not present, +0x1000 read-only supervisor, +0x2000 read/write
   supervisor, +0x3000 read/write user, +0x4000 (64-bit only) execute-disable. Everything
   below is identity-mapped with user access, so ring 3 can run the image's code. */
#define PG_P  0x001
#define PG_RW 0x002
#define PG_US 0x004
#define CR0_WP 0x10000
#define CR0_PG 0x80000000ul

static word read_cr0(void) {
    word v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
static void write_cr0(word v) {
    __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

#ifdef __x86_64__
extern uint64_t lm_pml4[], lm_pd[];
static uint64_t pt_low[512] __attribute__((aligned(4096)));
static uint64_t pt_test[512] __attribute__((aligned(4096)));

static void setup_paging(void) {
    for (int i = 0; i < 512; i++) pt_low[i] = ((uint64_t)i << 12) | PG_P | PG_RW | PG_US;
    pt_test[0] = 0;
    pt_test[1] = (uintptr_t)test_pages[1] | PG_P;
    pt_test[2] = (uintptr_t)test_pages[2] | PG_P | PG_RW;
    pt_test[3] = (uintptr_t)test_pages[3] | PG_P | PG_RW | PG_US;
    pt_test[4] = (uintptr_t)test_pages[4] | PG_P | PG_RW | (1ULL << 63); /* XD */
    lm_pd[0] = (uintptr_t)pt_low | PG_P | PG_RW | PG_US;   /* was a 2 MiB supervisor page */
    lm_pd[4] = (uintptr_t)pt_test | PG_P | PG_RW | PG_US;  /* 0x800000 */
    /* IA32_EFER.NXE makes bit 63 the execute-disable bit (SDM vol. 3, 4.5). */
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xC0000080));
    lo |= 0x800;
    __asm__ volatile("wrmsr" : : "a"(lo), "d"(hi), "c"(0xC0000080));
    write_cr0(read_cr0() | CR0_WP);
    __asm__ volatile("mov %0, %%cr3" : : "r"((word)(uintptr_t)lm_pml4) : "memory");
}
#else
static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt_low[1024] __attribute__((aligned(4096)));
static uint32_t pt_test[1024] __attribute__((aligned(4096)));

static void paging_on(void) {
    for (int i = 0; i < 1024; i++) pt_low[i] = ((uint32_t)i << 12) | PG_P | PG_RW | PG_US;
    pt_test[1] = (uintptr_t)test_pages[1] | PG_P;
    pt_test[2] = (uintptr_t)test_pages[2] | PG_P | PG_RW;
    pt_test[3] = (uintptr_t)test_pages[3] | PG_P | PG_RW | PG_US;
    pd[0] = (uintptr_t)pt_low | PG_P | PG_RW | PG_US;
    pd[2] = (uintptr_t)pt_test | PG_P | PG_RW | PG_US;     /* 0x800000 */
    __asm__ volatile("mov %0, %%cr3" : : "r"(pd) : "memory");
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

static void paging_off(void) {
    write_cr0(read_cr0() & ~(CR0_PG | CR0_WP));
}
#endif

/* ---- probes ---------------------------------------------------------------------------- */
enum {
    CHK_IF0 = 1,     /* handler runs with IF=0 (interrupt gate) */
    CHK_IF1 = 2,     /* handler runs with IF=1 (trap gate) */
    CHK_IST = 4,     /* handler frame on the IST1 stack */
    NO_IP = 8,       /* saved IP not architecturally defined (#DF): not printed */
    AT_ABS = 16,     /* `at` is an absolute address, not a label */
};

struct probe {
    const char *what;
    void (*fn)(void);  /* 0: check another record of the previous probe */
    int user;
    int rec;           /* which exception of the probe this line checks */
    unsigned vector;
    long error;        /* -1: the vector pushes no error code */
    const char *at_name;
    const char *at;
    unsigned at_off;
    word cr2;          /* checked and printed for #PF */
    unsigned flags;
};

static unsigned failures;

static void run(const struct probe *p) {
    if (p->fn) {
        nrec = 0;
        if (p->user) probe_user(p->fn, user_stack + sizeof user_stack);
        else probe_call(p->fn);
    }
    con_printf("  %-30s", p->what);
    if (nrec <= p->rec) {
        con_printf(" no exception  FAIL\n");
        failures++;
        return;
    }
    const struct rec *r = &recs[p->rec];
    int ok = r->vector == p->vector;
    con_printf(" vector %3u", (unsigned)r->vector);
    if (p->error < 0) {
        con_printf(", no error code");
    } else {
        con_printf(", error %04lx", r->error);
        ok &= r->error == (word)p->error;
    }
    if (p->cr2) {
        con_printf(", CR2 %08lx", r->cr2);
        ok &= r->cr2 == p->cr2;
    }
    if (!(p->flags & NO_IP)) {
        word off = r->ip - (word)(uintptr_t)p->at;
        if (p->flags & AT_ABS) con_printf(", at %08lx", r->ip);
        else if (off < 64) con_printf(", at %s+%lu", p->at_name, off);
        else con_printf(", at %08lx (not %s)", r->ip, p->at_name);
        ok &= off == p->at_off;
    }
    if (p->user) {
        /* From ring 3 the CPU switched to the TSS stack and saved the user SS:rSP. */
        int on_kstack = r->where >= (word)(uintptr_t)kstack && r->where < (word)(uintptr_t)(kstack + sizeof kstack);
        con_printf(", from CS %02lx", r->cs);
        ok &= (r->cs & 3) == 3 && on_kstack && r->ss == (SEL_UDATA32 | 3);
    }
    if (p->flags & (CHK_IF0 | CHK_IF1)) {
        int ifl = (r->hflags & EFLAGS_IF) != 0;
        con_printf(", IF=%d in handler", ifl);
        ok &= ifl == ((p->flags & CHK_IF1) != 0);
    }
    if (p->flags & CHK_IST) {
        int on_ist = r->where >= (word)(uintptr_t)ist1_stack && r->where < (word)(uintptr_t)(ist1_stack + sizeof ist1_stack);
        con_printf(on_ist ? ", on IST1" : ", NOT on IST1");
        ok &= on_ist;
    }
    con_printf(ok ? "  ok\n" : "  FAIL\n");
    failures += !ok;
}

#define P(what, fn, user, rec, vec, err, at, off, cr2, flags) \
    {what, fn, user, rec, vec, err, #at, at, off, cr2, flags}

#ifndef __x86_64__
int main64(void);

static const struct probe probes32[] = {
    P("#DE div by zero", (void (*)(void))t_div0, 0, 0, 0, -1, t_div0_at, 0, 0, 0),
    P("#DE idiv overflow", (void (*)(void))t_idiv, 0, 0, 0, -1, t_idiv_at, 0, 0, 0),
    P("#UD ud2", (void (*)(void))t_ud2, 0, 0, 6, -1, t_ud2_at, 0, 0, 0),
    P("#BP int3, interrupt gate", (void (*)(void))t_int3, 0, 0, 3, -1, t_int3_at, 1, 0, CHK_IF0),
};
static const struct probe probes32_trap[] = {
    P("#BP int3, trap gate", (void (*)(void))t_int3, 0, 0, 3, -1, t_int3_at, 1, 0, CHK_IF1),
    P("#BP int $3 (CD 03)", (void (*)(void))t_int3b, 0, 0, 3, -1, t_int3b_at, 2, 0, 0),
    P("#OF into with OF=1", (void (*)(void))t_into, 0, 0, 4, -1, t_into_at, 1, 0, 0),
    P("#BR bound out of range", (void (*)(void))t_bound, 0, 0, 5, -1, t_bound_at, 0, 0, 0),
    P("#GP mov ds, 0ffb (past limit)", (void (*)(void))t_gp_sel, 0, 0, 13, 0x0FF8, t_gp_sel_at, 0, 0, 0),
    P("#GP mov ds, TSS selector", (void (*)(void))t_gp_sys, 0, 0, 13, SEL_TSS, t_gp_sys_at, 0, 0, 0),
    P("#NP mov ds, not-present seg", (void (*)(void))t_np, 0, 0, 11, SEL_SPARE0, t_np_at, 0, 0, 0),
    P("#GP mov ss, null", (void (*)(void))t_gp_ss, 0, 0, 13, 0, t_gp_ss_at, 0, 0, 0),
    P("#GP ljmp past CS limit", (void (*)(void))t_gp_limit, 0, 0, 13, 0, t_gp_limit_at, 0, 0, 0),
    P("ring 3: int $0x80 (DPL3 gate)", (void (*)(void))u_int80, 1, 0, 0x80, -1, u_int80_at, 2, 0, 0),
    P("ring 3: cli after IRET back", 0, 1, 1, 13, 0, u_cli_at, 0, 0, 0),
    P("ring 3: hlt", (void (*)(void))u_hlt, 1, 0, 13, 0, u_hlt_at, 0, 0, 0),
    P("ring 3: int $0x81 (DPL0 gate)", (void (*)(void))u_int81, 1, 0, 13, 0x81 * 8 + 2, u_int81_at, 0, 0, 0),
};
static const struct probe probes32_paging[] = {
    P("#PF read, not present", (void (*)(void))t_pf_read, 0, 0, 14, 0, t_pf_read_at, 0, 0x800010, 0),
    P("#PF write, read-only (WP=1)", (void (*)(void))t_pf_write, 0, 0, 14, 3, t_pf_write_at, 0, 0x801020, 0),
    P("ring 3: #PF read supervisor", (void (*)(void))u_pf_sup, 1, 0, 14, 5, u_pf_sup_at, 0, 0x802030, 0),
    P("ring 3: #PF write not present", (void (*)(void))u_pf_wnp, 1, 0, 14, 6, u_pf_wnp_at, 0, 0x800040, 0),
    P("ring 3: user page, no fault", (void (*)(void))u_user_ok, 1, 0, 6, -1, u_user_ok_at, 0, 0, 0),
};

#define RUN_ALL(t) for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) run(&t[i])

int guest_main(uint32_t magic, uint32_t info) {
    (void)magic, (void)info;
    /* Mask both 8259 PICs: the probes set IF=1, and no device interrupt may arrive. */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    con_printf("exceptions: " MODE ", IDT of 8-byte gates, 32-bit TSS (ESP0 for ring 3)\n");
    setup_idt_tss();
    RUN_ALL(probes32);
    set_gate(3, isr_table[3], 0x8F, 0);
    RUN_ALL(probes32_trap);
    con_printf("exceptions: 32-bit paging, CR0.WP=1, test pages at 00800000..00803fff\n");
    paging_on();
    RUN_ALL(probes32_paging);
    paging_off();
    guest_mailbox[0] = failures;
    lm_enter(main64);
}
#else
static const struct probe probes64[] = {
    P("#DE div by zero", (void (*)(void))t_div0, 0, 0, 0, -1, t_div0_at, 0, 0, 0),
    P("#UD ud2", (void (*)(void))t_ud2, 0, 0, 6, -1, t_ud2_at, 0, 0, 0),
    P("#BP int3, interrupt gate", (void (*)(void))t_int3, 0, 0, 3, -1, t_int3_at, 1, 0, CHK_IF0),
};
static const struct probe probes64_trap[] = {
    P("#BP int3, trap gate", (void (*)(void))t_int3, 0, 0, 3, -1, t_int3_at, 1, 0, CHK_IF1),
    P("#GP non-canonical address", (void (*)(void))t_gp_canon, 0, 0, 13, 0, t_gp_canon_at, 0, 0, 0),
    P("#GP mov ds, 0ffb (past limit)", (void (*)(void))t_gp_sel, 0, 0, 13, 0x0FF8, t_gp_sel_at, 0, 0, 0),
    P("#NP mov ds, not-present seg", (void (*)(void))t_np, 0, 0, 11, SEL_SPARE0, t_np_at, 0, 0, 0),
    P("#GP ljmp past compat CS limit", (void (*)(void))t_gp_limit, 0, 0, 13, 0, t_gp_limit_at, 0, 0, 0),
    P("#PF read, not present", (void (*)(void))t_pf_read, 0, 0, 14, 0, t_pf_read_at, 0, 0x800010, 0),
    P("#PF write, read-only (WP=1)", (void (*)(void))t_pf_write, 0, 0, 14, 3, t_pf_write_at, 0, 0x801020, 0),
    P("#PF fetch from XD page (NXE)", (void (*)(void))t_pf_nx, 0, 0, 14, 0x11, (char *)0x804000, 0, 0x804000, AT_ABS),
    P("ring 3: int $0x80 (DPL3 gate)", (void (*)(void))u_int80, 1, 0, 0x80, -1, u_int80_at, 2, 0, 0),
    P("ring 3: cli after IRETQ back", 0, 1, 1, 13, 0, u_cli_at, 0, 0, 0),
    P("ring 3: hlt", (void (*)(void))u_hlt, 1, 0, 13, 0, u_hlt_at, 0, 0, 0),
    P("ring 3: #PF read supervisor", (void (*)(void))u_pf_sup, 1, 0, 14, 5, u_pf_sup_at, 0, 0x802030, 0),
    P("ring 3: #PF write not present", (void (*)(void))u_pf_wnp, 1, 0, 14, 6, u_pf_wnp_at, 0, 0x800040, 0),
    P("ring 3: user page, no fault", (void (*)(void))u_user_ok, 1, 0, 6, -1, u_user_ok_at, 0, 0, 0),
};
static const struct probe probe_df_gate =
    P("#DF: #DE, gate not present", (void (*)(void))t_df_gate, 0, 0, 8, 0, t_df_gate_at, 0, 0, NO_IP | CHK_IST);
static const struct probe probe_df_stack =
    P("#DF: #UD, unmapped stack", (void (*)(void))t_df_stack, 0, 0, 8, 0, t_df_stack_at, 0, 0, NO_IP | CHK_IST);

#define RUN_ALL(t) for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) run(&t[i])

int main64(void) {
    con_printf("exceptions: " MODE ", IDT of 16-byte gates, 64-bit TSS (RSP0, IST1 for #DF)\n");
    setup_idt_tss();
    setup_paging();
    con_printf("exceptions: 4-level paging, CR0.WP=1, EFER.NXE=1, test pages at 00800000..00804fff\n");
    RUN_ALL(probes64);
    set_gate(3, isr_table[3], 0x8F, 0);
    RUN_ALL(probes64_trap);
    idt[0].type &= 0x7F; /* P=0: delivering #DE raises #NP, a second contributory fault */
    run(&probe_df_gate);
    idt[0].type |= 0x80;
    run(&probe_df_stack);
    unsigned total = failures + guest_mailbox[0];
    con_printf(total ? "FAIL\n" : "PASS\n");
    return total ? 1 : 0;
}
#endif
