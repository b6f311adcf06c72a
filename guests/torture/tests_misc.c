/*
 * String instructions (MOVS STOS LODS CMPS SCAS, every size, DF=0 and DF=1, with and
 * without REP/REPE/REPNE), MOV forms, XLAT, LAHF/SAHF/CMC/CLC/STC, LOOP/LOOPE/LOOPNE and
 * JrCXZ (also with the 67h address-size prefix), ENTER/LEAVE with nesting levels,
 * PUSH/POP forms (and PUSHA/POPA), decimal adjust (DAA DAS AAA AAS AAM AAD, 32-bit only),
 * prefixes and multi-byte NOPs.
 */
#include "tests.h"

#define G(low, bits) with_garbage(g, (low), (bits))

/* Register names and the word size, for templates that touch the stack pointer. */
#ifdef __x86_64__
#define WS "8"
#define SP "%%rsp"
#define BP "%%rbp"
#define STR_SI "rsi"
#define STR_DI "rdi"
#else
#define WS "4"
#define SP "%%esp"
#define BP "%%ebp"
#define STR_SI "esi"
#define STR_DI "edi"
#endif

/* Values that are addresses inside `base[0..bytes]` (the end included: an empty stack's
   pointer) are folded as offsets, so checksums do not depend on where the buffers were
   linked. */
static uint64_t rel(word v, const void *base, unsigned bytes) {
    word b = (word)(uintptr_t)base;
    return (v >= b && v <= b + bytes) ? (uint64_t)(v - b) | 0xADD00000u : (uint64_t)v;
}

/* ---- string instructions ------------------------------------------------------------------- */
static uint8_t sbuf[512] __attribute__((aligned(16)));
static uint8_t dbuf[512] __attribute__((aligned(16)));

/* CMPS/SCAS need equal runs to stop on: draw the bytes from a 3-letter alphabet and make
   dbuf mostly a copy of sbuf. */
static void fill_strings(int alphabet) {
    for (unsigned i = 0; i < sizeof sbuf; i++) {
        uint32_t r = rnd32();
        sbuf[i] = alphabet ? (uint8_t)(r % 3) : (uint8_t)r;
        dbuf[i] = alphabet ? ((r >> 8) % 8 ? sbuf[i] : (uint8_t)((r >> 12) % 3)) : (uint8_t)(r >> 8);
    }
}

enum { S_MOVS, S_STOS, S_LODS, S_CMPS, S_SCAS };

#define DEF_STR(fn, KIND, OPS, SZ)                                                             \
    static void fn(void) {                                                                     \
        fill_strings(KIND == S_CMPS || KIND == S_SCAS);                                        \
        for (int i = 0; i < N_ITER / 2; i++) {                                                 \
            uint32_t r = rnd32();                                                              \
            word cnt = r % 24, df = (r >> 5) & 1;                                              \
            word g = (word)rnd64();                                                            \
            word si = (word)(uintptr_t)(sbuf + 192 + (r >> 8) % 128);                          \
            word di = (word)(uintptr_t)(dbuf + 192 + (r >> 16) % 128);                        \
            word ax = (KIND == S_SCAS) ? G(sbuf[(r >> 24) % 256] * 0x0101010101010101ULL, SZ * 8) : g; \
            word fl = flags_in() | (df ? F_DF : 0), c = cnt;                                   \
            __asm__ volatile(FLAGS_PRE OPS FLAGS_POST "\n\tcld"                                \
                             : "+S"(si), "+D"(di), "+c"(c), "+a"(ax), [fl] "+r"(fl)            \
                             : : "cc", "memory");                                              \
            fold(rel(si, sbuf, sizeof sbuf)), fold(rel(di, dbuf, sizeof dbuf));                \
            fold(c), fold(ax), fold(fl & (F_ALL | F_DF));                                      \
            if ((i & 31) == 31) fold_bytes(dbuf, sizeof dbuf);                                 \
        }                                                                                      \
    }

/* Each test runs the REP form then the single form (which continues from where REP
   stopped, with CX left over). */
#define STR_SIZES(name, KIND, rep, op)                                                         \
    DEF_STR(name##_b, KIND, rep " " op "b\n\t" op "b", 1)                                      \
    DEF_STR(name##_w, KIND, rep " " op "w\n\t" op "w", 2)                                      \
    DEF_STR(name##_l, KIND, rep " " op "l\n\t" op "l", 4)                                      \
    ONLY64(DEF_STR(name##_q, KIND, rep " " op "q\n\t" op "q", 8))
STR_SIZES(movs, S_MOVS, "rep", "movs")
STR_SIZES(stos, S_STOS, "rep", "stos")
STR_SIZES(lods, S_LODS, "rep", "lods")
STR_SIZES(cmpse, S_CMPS, "repe", "cmps")
STR_SIZES(cmpsne, S_CMPS, "repne", "cmps")
STR_SIZES(scase, S_SCAS, "repe", "scas")
STR_SIZES(scasne, S_SCAS, "repne", "scas")
#ifdef __x86_64__
/* 67h in 64-bit mode: RSI/RDI/RCX become ESI/EDI/ECX. */
DEF_STR(movs_a32, S_MOVS, "addr32 rep movsb", 1)
DEF_STR(cmps_a32, S_CMPS, "addr32 repe cmpsl", 4)
#endif
/* Segment override on the source (DS can be replaced, ES:rDI cannot). */
DEF_STR(movs_seg, S_MOVS, "rep movsl %%ss:(%%" STR_SI "), %%es:(%%" STR_DI ")", 4)

#define STR_LINE(name, p) \
    RUN_LINE(name, {"b", p##_b}, {"w", p##_w}, {"l", p##_l}, {"q", IF64(p##_q)})

/* ---- MOV forms ------------------------------------------------------------------------------- */
static uint32_t mov_static32;
static uint64_t mov_static64;
static void mov_(void) {
    for (int i = 0; i < N_ITER; i++) {
        word g = (word)rnd64(), s = (word)rnd64(), d, f = flags_in(), fl;
        uint32_t m32 = rnd32();
        uint16_t m16 = (uint16_t)rnd32();
        mov_static32 = rnd32(), mov_static64 = rnd64();
#define MOV1(insn, C, ...)                                                                      \
        d = g, fl = f;                                                                          \
        __asm__ volatile(FLAGS_PRE insn FLAGS_POST : [d] "+" C(d), [fl] "+r"(fl)                \
                         : [s] "Q"(s), [p] "Q"(&m32), [q] "r"(&m16) __VA_ARGS__ : "cc", "memory"); \
        fold(d), fold(fl & F_ALL);
        MOV1("movb %h[s], %b[d]", "Q")
        MOV1("movb %b[s], %h[d]", "Q")
        MOV1("movw %w[s], %w[d]", "r")
        MOV1("movl %k[s], %k[d]", "r")
        MOV1("movw (%[q]), %w[d]", "r")
        MOV1("movl (%[p]), %k[d]", "r")
        MOV1("movb $0x81, %b[d]", "Q")
        MOV1("movw $0x8123, %w[d]", "r")
        MOV1("movl $0x81234567, %k[d]", "r")
        MOV1("movl $0x81234567, (%[p])\n\tmovw %w[s], (%[q])\n\tmovb %h[s], 1(%[p])\n\tmovl (%[p]), %k[d]", "Q")
#ifdef __x86_64__
        MOV1("movq %q[s], %q[d]", "r")
        MOV1("movq $-0x7edcba98, %q[d]", "r")          /* C7: imm32 sign-extended */
        MOV1("movabsq $0x8123456789abcdef, %q[d]", "r")
        MOV1("movabs %c[m64], %%rax", "a", , [m64] "i"(&mov_static64))   /* A1 moffs64 */
        MOV1("movabs %c[m32], %%eax", "a", , [m32] "i"(&mov_static32))
        MOV1(".byte 0x90", "a")                        /* 90: NOP, keeps bits 63:32 */
        MOV1(".byte 0x87, 0xc0", "a")                  /* 87 C0: XCHG EAX,EAX, zero-extends */
#else
        MOV1("movl %c[m32], %%eax", "a", , [m32] "i"(&mov_static32))     /* A1 moffs32 */
        MOV1("movw %w[s], %c[m32]\n\tmovl %c[m32], %k[d]", "r", , [m32] "i"(&mov_static32))
#endif
#undef MOV1
        fold(m32), fold(m16), fold(mov_static32), fold(mov_static64);
    }
}

/* ---- XLAT, LAHF/SAHF, CMC/CLC/STC ------------------------------------------------------------ */
static uint8_t xlat_table[256];
static void xlat_(void) {
    for (unsigned i = 0; i < 256; i++) xlat_table[i] = (uint8_t)rnd32();
    for (int i = 0; i < N_ITER; i++) {
        word g = (word)rnd64(), ax = g;
        __asm__ volatile("xlat" : "+a"(ax) : "b"(xlat_table) : "memory");
        fold(ax);
    }
}

static void lahf_(void) {
    for (int i = 0; i < N_ITER; i++) {
        word g = (word)rnd64(), ax = g, f = flags_in(), fl = f;
        __asm__ volatile(FLAGS_PRE "lahf" FLAGS_POST : "+a"(ax), [fl] "+r"(fl) : : "cc");
        fold(ax), fold(fl & F_ALL);
    }
}

static void sahf_(void) {
    for (int i = 0; i < N_ITER; i++) {
        word g = (word)rnd64(), ax = g, f = flags_in(), fl = f;
        __asm__ volatile(FLAGS_PRE "sahf" FLAGS_POST : "+a"(ax), [fl] "+r"(fl) : : "cc");
        fold(ax), fold(fl & F_ALL);
    }
}

static void cflag_(void) {
    for (int i = 0; i < N_ITER; i++) {
        word f = flags_in(), a = f, b = f, c = f;
        __asm__ volatile("push %[a]\n\tpopf\n\tcmc\n\tpushf\n\tpop %[a]\n\t"
                         "push %[b]\n\tpopf\n\tclc\n\tpushf\n\tpop %[b]\n\t"
                         "push %[c]\n\tpopf\n\tstc\n\tpushf\n\tpop %[c]"
                         : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c) : : "cc");
        fold(a & F_ALL), fold(b & F_ALL), fold(c & F_ALL);
    }
}

/* ---- LOOP family ------------------------------------------------------------------------------ */
/* A counted loop whose body sets ZF when k reaches `limit`; JrCXZ guards the zero count
   (LOOP with rCX = 0 would run 2^32 or 2^64 times). */
/* The short forms (67h) count in CX (32-bit code) or ECX (64-bit code): garbage above
   that must survive or be cleared as the hardware does. */
#ifdef __x86_64__
#define JCX_SHORT "jecxz"
#define A_SHORT "addr32 "
#define JCX_FULL "jrcxz"
#define SHORT_BITS 32
#else
#define JCX_SHORT "jcxz"
#define A_SHORT "addr16 "
#define JCX_FULL "jecxz"
#define SHORT_BITS 16
#endif
#define DEF_LOOP(fn, JCX, LOOPI, CBITS)                                                        \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            uint32_t r = rnd32();                                                              \
            word g = (word)rnd64(), c = G(r % 12, CBITS), k = 0, lim = (r >> 8) % 16;          \
            word f = flags_in(), fl = f;                                                       \
            __asm__ volatile(FLAGS_PRE JCX " 2f\n"                                             \
                             "1:\tinc %[k]\n\tcmp %[k], %[lim]\n\t" LOOPI " 1b\n"              \
                             "2:" FLAGS_POST                                                   \
                             : "+c"(c), [k] "+r"(k), [fl] "+r"(fl) : [lim] "r"(lim) : "cc");   \
            fold(c), fold(k), fold(fl & F_ALL);                                                \
        }                                                                                      \
    }
DEF_LOOP(loop_, JCX_FULL, "loop", MODE_BITS)
DEF_LOOP(loope_, JCX_FULL, "loope", MODE_BITS)
DEF_LOOP(loopne_, JCX_FULL, "loopne", MODE_BITS)
DEF_LOOP(loop_short_, JCX_SHORT, A_SHORT "loop", SHORT_BITS)
DEF_LOOP(loopne_short_, JCX_SHORT, A_SHORT "loopne", SHORT_BITS)

/* ---- ENTER/LEAVE ------------------------------------------------------------------------------ */
/* ENTER runs on a private stack with rBP pointing into a fake chain of frames, so nesting
   levels above 1 copy known values (SDM vol. 2A, ENTER, "nested procedures"). */
static word priv_stack[96], fake_frames[64];
struct frame_state {
    word saved_sp, saved_bp, top, fake_bp, sp1, bp1, sp2, bp2;
};
#define ENTER_LEAVE(N, L)                                                                      \
    __asm__ volatile("mov " SP ", 0(%[st])\n\tmov " BP ", " WS "(%[st])\n\t"                   \
                     "mov 2*" WS "(%[st]), " SP "\n\tmov 3*" WS "(%[st]), " BP "\n\t"          \
                     "enter $" #N ", $" #L "\n\t"                                              \
                     "mov " SP ", 4*" WS "(%[st])\n\tmov " BP ", 5*" WS "(%[st])\n\t"          \
                     "leave\n\t"                                                               \
                     "mov " SP ", 6*" WS "(%[st])\n\tmov " BP ", 7*" WS "(%[st])\n\t"          \
                     "mov " WS "(%[st]), " BP "\n\tmov 0(%[st]), " SP                          \
                     : : [st] "S"(&st) : "memory");                                            \
    fold_frame(&st)

static void fold_frame(const struct frame_state *st) {
    fold(rel(st->sp1, priv_stack, sizeof priv_stack)), fold(rel(st->bp1, priv_stack, sizeof priv_stack));
    fold(rel(st->sp2, priv_stack, sizeof priv_stack)), fold(rel(st->bp2, fake_frames, sizeof fake_frames));
    for (word *p = (word *)st->sp1; p < priv_stack + 96; p++) {
        uint64_t v = rel(*p, priv_stack, sizeof priv_stack);
        fold(v == *p ? rel(*p, fake_frames, sizeof fake_frames) : v);
    }
}

static void enter_(void) {
    struct frame_state st;
    for (int i = 0; i < N_ITER / 4; i++) {
        for (int k = 0; k < 64; k++) fake_frames[k] = (word)rnd64();
        for (int k = 0; k < 96; k++) priv_stack[k] = 0;
        st.top = (word)(uintptr_t)(priv_stack + 96);
        st.fake_bp = (word)(uintptr_t)(fake_frames + 40);
        ENTER_LEAVE(0, 0);
        ENTER_LEAVE(24, 0);
        ENTER_LEAVE(16, 1);
        ENTER_LEAVE(8, 2);
        ENTER_LEAVE(0, 3);
        ENTER_LEAVE(32, 7);
    }
}

/* ---- PUSH/POP --------------------------------------------------------------------------------- */
/* On the private stack: PUSH imm8/imm32/reg/word reg/mem/rSP, POP reg/word reg/mem, and
   POP into a memory operand addressed through rSP (the address is computed after rSP is
   incremented: SDM vol. 2B, POP). */
static void push_(void) {
    struct frame_state st;
    for (int i = 0; i < N_ITER / 2; i++) {
        word v = (word)rnd64(), m = (word)rnd64(), out_a, out_b, out_c;
        for (int k = 0; k < 96; k++) priv_stack[k] = 0;
        st.top = (word)(uintptr_t)(priv_stack + 96);
        st.fake_bp = m;
        __asm__ volatile("mov " SP ", 0(%[st])\n\tmov 2*" WS "(%[st]), " SP "\n\t"
                         "push $-5\n\tpush $0x12345678\n\tpush %[v]\n\tpush " SP "\n\t"
                         "pushw %w[v]\n\tpush 3*" WS "(%[st])\n\t"
                         "pop 4*" WS "(%[st])\n\tpopw %w[b]\n\tpop %[a]\n\t"
                         "push $0x55\n\tpop 0(" SP ")\n\tpop %[c]\n\t"
                         "mov " SP ", 6*" WS "(%[st])\n\tmov 0(%[st]), " SP
                         : [a] "=&r"(out_a), [b] "=&r"(out_b), [c] "=&r"(out_c)
                         : [st] "S"(&st), [v] "r"(v) : "memory");
        fold(rel(out_a, priv_stack, sizeof priv_stack)), fold(out_b & 0xFFFF), fold(out_c);
        fold(st.sp1), fold(rel(st.sp2, priv_stack, sizeof priv_stack));
        for (int k = 80; k < 96; k++) fold(rel(priv_stack[k], priv_stack, sizeof priv_stack));
    }
}

#ifndef __x86_64__
/* PUSHA/POPA: POPA skips the saved ESP slot. */
static word pa_in[8], pa_out[8], pa_sp, pa_bp;
static word pa_stack[32];
static void pusha_(void) {
    for (int i = 0; i < N_ITER / 2; i++) {
        for (int k = 0; k < 8; k++) pa_in[k] = rnd32();
        __asm__ volatile("mov %%esp, %[sp]\n\tmov %%ebp, %[bp]\n\t"
                         "mov %[top], %%esp\n\t"
                         "mov %[i0], %%eax\n\tmov %[i1], %%ecx\n\tmov %[i2], %%edx\n\t"
                         "mov %[i3], %%ebx\n\tmov %[i5], %%ebp\n\tmov %[i6], %%esi\n\t"
                         "mov %[i7], %%edi\n\t"
                         "pusha\n\txorl $0x5a5a5a5a, 4(%%esp)\n\tmovl $0x11111111, 12(%%esp)\n\tpopa\n\t"
                         "mov %%eax, %[o0]\n\tmov %%ecx, %[o1]\n\tmov %%edx, %[o2]\n\t"
                         "mov %%ebx, %[o3]\n\tmov %%esp, %[o4]\n\tmov %%ebp, %[o5]\n\t"
                         "mov %%esi, %[o6]\n\tmov %%edi, %[o7]\n\t"
                         "mov %[bp], %%ebp\n\tmov %[sp], %%esp"
                         : [o0] "=m"(pa_out[0]), [o1] "=m"(pa_out[1]), [o2] "=m"(pa_out[2]),
                           [o3] "=m"(pa_out[3]), [o4] "=m"(pa_out[4]), [o5] "=m"(pa_out[5]),
                           [o6] "=m"(pa_out[6]), [o7] "=m"(pa_out[7]), [sp] "=m"(pa_sp), [bp] "=m"(pa_bp)
                         : [top] "i"(pa_stack + 32), [i0] "m"(pa_in[0]), [i1] "m"(pa_in[1]),
                           [i2] "m"(pa_in[2]), [i3] "m"(pa_in[3]), [i5] "m"(pa_in[5]),
                           [i6] "m"(pa_in[6]), [i7] "m"(pa_in[7])
                         : "eax", "ebx", "ecx", "edx", "esi", "edi", "memory");
        for (int k = 0; k < 8; k++) fold(rel(pa_out[k], pa_stack, sizeof pa_stack));
        for (int k = 24; k < 32; k++) fold(rel(pa_stack[k], pa_stack, sizeof pa_stack));
    }
}

/* ---- decimal adjust (invalid in 64-bit mode) ----------------------------------------------- */
#define DEF_BCD(fn, INSN, MASK, BITS)                                                          \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            word g = (word)rnd64(), ax = G(rnd32(), BITS), f = flags_in(), fl = f;             \
            __asm__ volatile(FLAGS_PRE INSN FLAGS_POST : "+a"(ax), [fl] "+r"(fl) : : "cc");    \
            fold(ax), fold(fl & (MASK));                                                       \
        }                                                                                      \
    }
/* DAA/DAS: OF undefined. AAA/AAS: only AF and CF defined. AAM/AAD: SF ZF PF defined. */
DEF_BCD(daa_, "daa", F_CF | F_AF | F_SF | F_ZF | F_PF, 8)
DEF_BCD(das_, "das", F_CF | F_AF | F_SF | F_ZF | F_PF, 8)
DEF_BCD(aaa_, "aaa", F_CF | F_AF, 16)
DEF_BCD(aas_, "aas", F_CF | F_AF, 16)
DEF_BCD(aam_, "aam\n\t.byte 0xd4, 0x07", F_SF | F_ZF | F_PF, 8)
DEF_BCD(aad_, "aad\n\t.byte 0xd5, 0x10", F_SF | F_ZF | F_PF, 16)
#endif

/* ---- prefixes and NOPs ------------------------------------------------------------------------ */
static void prefix_(void) {
    for (int i = 0; i < N_ITER; i++) {
        word g = (word)rnd64(), s = (word)rnd64(), d = g, f = flags_in(), fl = f;
        uint32_t m = rnd32();
        __asm__ volatile(FLAGS_PRE
                         "pause\n\t"
                         "nopl 0(%%" STR_SI ",%%" STR_SI ",1)\n\t"
                         "nopw 0(%%" STR_SI ",%%" STR_SI ",1)\n\t"
                         ".byte 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0\n\t"
                         ".byte 0x3e\n\taddl %k[s], %k[d]\n\t"      /* DS prefix on a register op */
                         "addl %%ss:(%[p]), %k[d]\n\t"
                         "adcl %%cs:(%[p]), %k[d]\n\t"
                         ".byte 0x66, 0x66\n\tincw %w[d]\n\t"       /* repeated 66h */
                         "lock orl %k[s], (%[p])"
                         FLAGS_POST
                         : [d] "+r"(d), [fl] "+r"(fl) : [s] "r"(s), [p] "r"(&m) : "cc", "memory");
        fold(d), fold(m), fold(fl & F_ALL);
    }
}

void run_misc_tests(void) {
    STR_LINE("movs", movs);
    STR_LINE("stos", stos);
    STR_LINE("lods", lods);
    STR_LINE("repe cmps", cmpse);
    STR_LINE("repne cmps", cmpsne);
    STR_LINE("repe scas", scase);
    STR_LINE("repne scas", scasne);
    RUN_LINE("str prefix", {"seg", movs_seg}, {"a32", IF64(movs_a32)}, {"a32c", IF64(cmps_a32)});
    RUN_LINE("mov", {"all", mov_}, {"xlat", xlat_});
    RUN_LINE("flags", {"lahf", lahf_}, {"sahf", sahf_}, {"cmc/clc/stc", cflag_});
    RUN_LINE("loop", {"loop", loop_}, {"loope", loope_}, {"loopne", loopne_},
             {"short", loop_short_}, {"shortne", loopne_short_});
    RUN_LINE("stack", {"enter", enter_}, {"push", push_},
#ifndef __x86_64__
             {"pusha", pusha_}
#else
             {"pusha", 0}
#endif
    );
#ifndef __x86_64__
    RUN_LINE("bcd", {"daa", daa_}, {"das", das_}, {"aaa", aaa_}, {"aas", aas_}, {"aam", aam_},
             {"aad", aad_});
#endif
    RUN_LINE("prefix", {"mixed", prefix_});
}
