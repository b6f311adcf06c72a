/*
 * Bit and data-movement instructions: BT/BTS/BTR/BTC (register, immediate and bit-string
 * memory forms), BSF/BSR, BSWAP, XADD, CMPXCHG, CMPXCHG8B/16B, MOVSX/MOVZX/MOVSXD,
 * CBW..CQO, SETcc, CMOVcc, Jcc, LEA (every scale, 16-bit and 32-bit address sizes), XCHG.
 */
#include "tests.h"

#define G(low, bits) with_garbage(g, (low), (bits))

/* ---- BT family --------------------------------------------------------------------------- */
/* CF = the selected bit, ZF unchanged, OF/SF/AF/PF undefined (SDM vol. 2A, BT). The memory
   form with a register offset addresses a bit string: the offset is signed and may reach
   outside the operand (here up to +-400 bits around the middle of bitbuf). */
#define F_BT (F_CF | F_ZF)
static uint8_t bitbuf[176] __attribute__((aligned(16)));

static void fill_bitbuf(void) {
    for (unsigned i = 0; i < sizeof bitbuf; i += 4) {
        uint32_t v = rnd32();
        memcpy(bitbuf + i, &v, 4);
    }
}

#define DEF_BT(fn, OP, IMM, PACK) DEF_BT_(fn, OP, IMM, PACK)
#define DEF_BT_(fn, OP, IMM, BITS, SFX, RM, C, MT)                                             \
    static void fn(void) {                                                                     \
        fill_bitbuf();                                                                         \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            uint64_t a = pick(BITS);                                                           \
            word g = (word)rnd64(), f = flags_in(), fl, d;                                     \
            word off = G((uint64_t)(int64_t)((int)(rnd32() % 801) - 400), BITS);              \
            word roff = G(rnd32() & 0xFF, BITS);                                               \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " %" RM "[o], %" RM "[d]" FLAGS_POST             \
                             : [d] "+r"(d), [fl] "+r"(fl) : [o] "r"(roff) : "cc");             \
            fold(d), fold(fl & F_BT);                                                          \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " $" #IMM ", %" RM "[d]" FLAGS_POST              \
                             : [d] "+r"(d), [fl] "+r"(fl) : : "cc");                           \
            fold(d), fold(fl & F_BT);                                                          \
            fl = f;                                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " %" RM "[o], (%[p])" FLAGS_POST                 \
                             : [fl] "+r"(fl) : [o] "r"(off), [p] "r"(bitbuf + 88) : "cc", "memory"); \
            fold(fl & F_BT);                                                                   \
            fl = f;                                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " $" #IMM ", (%[p])" FLAGS_POST                  \
                             : [fl] "+r"(fl) : [p] "r"(bitbuf + 8 * (i & 15)) : "cc", "memory"); \
            fold(fl & F_BT);                                                                   \
        }                                                                                      \
        fold_bytes(bitbuf, sizeof bitbuf);                                                     \
    }
#define DEF_BT_ALL(p, OP)                                                                      \
    DEF_BT(p##16, OP, 37, P16) DEF_BT(p##32, OP, 37, P32) ONLY64(DEF_BT(p##64, OP, 37, P64))
DEF_BT_ALL(bt_, "bt")
DEF_BT_ALL(bts_, "bts")
DEF_BT_ALL(btr_, "btr")
DEF_BT_ALL(btc_, "btc")

/* ---- BSF/BSR, BSWAP ---------------------------------------------------------------------- */
/* A zero source sets ZF and leaves the destination undefined (only ZF is defined at all). */
#define DEF_BSX(fn, OP, PACK) DEF_BSX_(fn, OP, PACK)
#define DEF_BSX_(fn, OP, BITS, SFX, RM, C, MT)                                                 \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            uint64_t a = (rnd32() & 7) ? pick(BITS) : 0;                                       \
            word g = (word)rnd64(), f = flags_in(), fl, d, s = G(a, BITS);                     \
            MT m = (MT)a;                                                                      \
            d = g, fl = f;                                                                     \
            __asm__ volatile(FLAGS_PRE OP SFX " %" RM "[s], %" RM "[d]" FLAGS_POST             \
                             : [d] "+r"(d), [fl] "+r"(fl) : [s] "r"(s) : "cc");                \
            if (a) fold(d);                                                                    \
            fold(fl & F_ZF);                                                                   \
            d = g, fl = f;                                                                     \
            __asm__ volatile(FLAGS_PRE OP SFX " (%[p]), %" RM "[d]" FLAGS_POST                 \
                             : [d] "+r"(d), [fl] "+r"(fl) : [p] "r"(&m) : "cc", "memory");     \
            if (a) fold(d);                                                                    \
            fold(fl & F_ZF);                                                                   \
        }                                                                                      \
    }
DEF_BSX(bsf_16, "bsf", P16)
DEF_BSX(bsf_32, "bsf", P32)
ONLY64(DEF_BSX(bsf_64, "bsf", P64))
DEF_BSX(bsr_16, "bsr", P16)
DEF_BSX(bsr_32, "bsr", P32)
ONLY64(DEF_BSX(bsr_64, "bsr", P64))

static void bswap_32(void) {
    for (int i = 0; i < N_ITER; i++) {
        word g = (word)rnd64(), d = G(pick(32), 32), f = flags_in(), fl = f;
        __asm__ volatile(FLAGS_PRE "bswap %k[d]" FLAGS_POST : [d] "+r"(d), [fl] "+r"(fl) : : "cc");
        fold(d), fold(fl & F_ALL);
    }
}
#ifdef __x86_64__
static void bswap_64(void) {
    for (int i = 0; i < N_ITER; i++) {
        word d = pick(64), f = flags_in(), fl = f;
        __asm__ volatile(FLAGS_PRE "bswap %q[d]" FLAGS_POST : [d] "+r"(d), [fl] "+r"(fl) : : "cc");
        fold(d), fold(fl & F_ALL);
    }
}
#endif

/* ---- XADD, CMPXCHG ------------------------------------------------------------------------ */
#define DEF_XADD(fn, PACK) DEF_XADD_(fn, PACK)
#define DEF_XADD_(fn, BITS, SFX, RM, C, MT)                                                    \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            uint64_t a = pick(BITS), b = pick(BITS);                                           \
            word g = (word)rnd64(), f = flags_in(), fl, d = G(a, BITS), s = G(b, BITS);        \
            MT m = (MT)a;                                                                      \
            fl = f;                                                                            \
            __asm__ volatile(FLAGS_PRE "xadd" SFX " %" RM "[s], %" RM "[d]" FLAGS_POST         \
                             : [d] "+" C(d), [s] "+" C(s), [fl] "+r"(fl) : : "cc");            \
            fold(d), fold(s), fold(fl & F_ALL);                                                \
            s = G(b, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE "lock xadd" SFX " %" RM "[s], (%[p])" FLAGS_POST        \
                             : [s] "+" C(s), [fl] "+r"(fl) : [p] "r"(&m) : "cc", "memory");    \
            fold(m), fold(s), fold(fl & F_ALL);                                                \
        }                                                                                      \
    }
DEF_XADD(xadd_8, P8)
DEF_XADD(xadd_16, P16)
DEF_XADD(xadd_32, P32)
ONLY64(DEF_XADD(xadd_64, P64))

/* CMPXCHG compares the accumulator with the destination; half the time they are equal. */
#define DEF_CMPXCHG(fn, PACK) DEF_CMPXCHG_(fn, PACK)
#define DEF_CMPXCHG_(fn, BITS, SFX, RM, C, MT)                                                 \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            uint64_t a = pick(BITS), b = pick(BITS), acc = (rnd32() & 1) ? a : pick(BITS);     \
            word g = (word)rnd64(), f = flags_in(), fl, d = G(a, BITS), s = G(b, BITS);        \
            word ax = G(acc, BITS);                                                            \
            MT m = (MT)a;                                                                      \
            fl = f;                                                                            \
            __asm__ volatile(FLAGS_PRE "cmpxchg" SFX " %" RM "[s], %" RM "[d]" FLAGS_POST      \
                             : [d] "+" C(d), "+a"(ax), [fl] "+r"(fl) : [s] C(s) : "cc");       \
            fold(d), fold(ax), fold(fl & F_ALL);                                               \
            ax = G(acc, BITS), fl = f;                                                         \
            __asm__ volatile(FLAGS_PRE "lock cmpxchg" SFX " %" RM "[s], (%[p])" FLAGS_POST     \
                             : "+a"(ax), [fl] "+r"(fl) : [s] C(s), [p] "r"(&m) : "cc", "memory"); \
            fold(m), fold(ax), fold(fl & F_ALL);                                               \
        }                                                                                      \
    }
DEF_CMPXCHG(cmpxchg_8, P8)
DEF_CMPXCHG(cmpxchg_16, P16)
DEF_CMPXCHG(cmpxchg_32, P32)
ONLY64(DEF_CMPXCHG(cmpxchg_64, P64))

/* CMPXCHG8B/16B: ZF reports the comparison, the other flags are unaffected. */
static void cmpxchg8b_(void) {
    static uint64_t m __attribute__((aligned(8)));
    for (int i = 0; i < N_ITER; i++) {
        uint64_t old = rnd64(), cmp = (rnd32() & 1) ? old : rnd64(), nv = rnd64();
        word g = (word)rnd64(), f = flags_in(), fl = f;
        word lo = G(cmp, 32), hi = G(cmp >> 32, 32);
        m = old;
        __asm__ volatile(FLAGS_PRE "lock cmpxchg8b (%[p])" FLAGS_POST
                         : "+a"(lo), "+d"(hi), [fl] "+r"(fl)
                         : "b"(G(nv, 32)), "c"(G(nv >> 32, 32)), [p] "S"(&m) : "cc", "memory");
        fold(m), fold(lo), fold(hi), fold(fl & F_ALL);
    }
}
#ifdef __x86_64__
static void cmpxchg16b_(void) {
    static uint64_t m[2] __attribute__((aligned(16)));
    for (int i = 0; i < N_ITER; i++) {
        uint64_t o0 = rnd64(), o1 = rnd64();
        int same = rnd32() & 1;
        word lo = same ? o0 : rnd64(), hi = same ? o1 : rnd64(), f = flags_in(), fl = f;
        m[0] = o0, m[1] = o1;
        __asm__ volatile(FLAGS_PRE "lock cmpxchg16b (%[p])" FLAGS_POST
                         : "+a"(lo), "+d"(hi), [fl] "+r"(fl)
                         : "b"(rnd64()), "c"(rnd64()), [p] "S"(m) : "cc", "memory");
        fold(m[0]), fold(m[1]), fold(lo), fold(hi), fold(fl & F_ALL);
    }
}
#endif

/* ---- sign and zero extension ------------------------------------------------------------- */
/* MOVSX/MOVZX into a register whose upper part holds garbage: a 16-bit destination keeps
   bits 63:16, a 32-bit one clears bits 63:32 in 64-bit mode. Flags must not change. */
#define EXT1(OP, SRC_MOD, SRC_C, SRC_T, DST_MOD)                                               \
    do {                                                                                       \
        SRC_T sv = (SRC_T)pick(8 * sizeof(SRC_T));                                             \
        word g = (word)rnd64(), f = flags_in(), fl = f, d = g, s = G(sv, 8 * sizeof(SRC_T));   \
        __asm__ volatile(FLAGS_PRE OP " %" SRC_MOD "[s], %" DST_MOD "[d]" FLAGS_POST           \
                         : [d] "+r"(d), [fl] "+r"(fl) : [s] SRC_C(s) : "cc");                  \
        fold(d), fold(fl & F_ALL);                                                             \
        d = g, fl = f;                                                                         \
        __asm__ volatile(FLAGS_PRE OP " (%[p]), %" DST_MOD "[d]" FLAGS_POST                    \
                         : [d] "+r"(d), [fl] "+r"(fl) : [p] "r"(&sv) : "cc", "memory");        \
        fold(d), fold(fl & F_ALL);                                                             \
    } while (0)

#define DEF_EXT(fn, OP, SRC_MOD, SRC_C, SRC_T, DST_MOD)                                        \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) EXT1(OP, SRC_MOD, SRC_C, SRC_T, DST_MOD);             \
    }
DEF_EXT(movsbw_, "movsbw", "b", "Q", uint8_t, "w")
DEF_EXT(movsbl_, "movsbl", "b", "Q", uint8_t, "k")
DEF_EXT(movswl_, "movswl", "w", "r", uint16_t, "k")
DEF_EXT(movzbw_, "movzbw", "b", "Q", uint8_t, "w")
DEF_EXT(movzbl_, "movzbl", "b", "Q", uint8_t, "k")
DEF_EXT(movzwl_, "movzwl", "w", "r", uint16_t, "k")
#ifdef __x86_64__
DEF_EXT(movsbq_, "movsbq", "b", "Q", uint8_t, "q")
DEF_EXT(movswq_, "movswq", "w", "r", uint16_t, "q")
DEF_EXT(movslq_, "movslq", "k", "r", uint32_t, "q")
DEF_EXT(movzbq_, "movzbq", "b", "Q", uint8_t, "q")
DEF_EXT(movzwq_, "movzwq", "w", "r", uint16_t, "q")
#endif

/* CBW/CWDE/CDQE and CWD/CDQ/CQO act on the accumulator (and rDX). */
#define DEF_ACC(fn, OP, BITS)                                                                  \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            word g = (word)rnd64(), ax = G(pick(BITS), BITS), dx = ~g, f = flags_in(), fl = f; \
            __asm__ volatile(FLAGS_PRE OP FLAGS_POST : "+a"(ax), "+d"(dx), [fl] "+r"(fl) : : "cc"); \
            fold(ax), fold(dx), fold(fl & F_ALL);                                              \
        }                                                                                      \
    }
DEF_ACC(cbw_, "cbtw", 8)
DEF_ACC(cwde_, "cwtl", 16)
DEF_ACC(cwd_, "cwtd", 16)
DEF_ACC(cdq_, "cltd", 32)
#ifdef __x86_64__
DEF_ACC(cdqe_, "cltq", 32)
DEF_ACC(cqo_, "cqto", 64)
#endif

/* ---- conditions: SETcc, CMOVcc, Jcc -------------------------------------------------------- */
/* All 16 conditions (SDM vol. 1, B.1) over random flags: one checksum per family. */
#define FOR_EACH_CC(X) X(o) X(no) X(b) X(ae) X(e) X(ne) X(be) X(a) \
                       X(s) X(ns) X(p) X(np) X(l) X(ge) X(le) X(g)

static void setcc_(void) {
    for (int i = 0; i < N_ITER; i++) {
        word f = flags_in(), g = (word)rnd64(), d;
#define SET1(cc)                                                                               \
        d = g;                                                                                 \
        __asm__ volatile("push %[fl]\n\tpopf\n\tset" #cc " %b[d]" : [d] "+Q"(d) : [fl] "r"(f) : "cc"); \
        fold(d);
        FOR_EACH_CC(SET1)
#undef SET1
    }
}

#define DEF_CMOV(fn, MOD, BITS)                                                                \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            word f = flags_in(), g = (word)rnd64(), s = (word)rnd64(), d;                      \
            static uint64_t m;                                                                 \
            m = rnd64();                                                                       \
            (void)BITS;                                                                        \
            FOR_EACH_CC(CMOV1_##MOD)                                                           \
        }                                                                                      \
    }
/* A 32-bit CMOV in 64-bit mode writes (zero-extends) its destination even when the
   condition is false: the garbage in bits 63:32 shows whether that happened. */
#define CMOV1_w(cc)                                                                            \
    d = g;                                                                                     \
    __asm__ volatile("push %[fl]\n\tpopf\n\tcmov" #cc "w %w[s], %w[d]\n\t"                     \
                     "cmov" #cc "w (%[p]), %w[d]" : [d] "+r"(d) : [fl] "r"(f), [s] "r"(s), [p] "r"(&m) : "cc", "memory"); \
    fold(d);
#define CMOV1_k(cc)                                                                            \
    d = g;                                                                                     \
    __asm__ volatile("push %[fl]\n\tpopf\n\tcmov" #cc "l %k[s], %k[d]" : [d] "+r"(d) : [fl] "r"(f), [s] "r"(s) : "cc"); \
    fold(d);                                                                                   \
    d = g;                                                                                     \
    __asm__ volatile("push %[fl]\n\tpopf\n\tcmov" #cc "l (%[p]), %k[d]" : [d] "+r"(d) : [fl] "r"(f), [p] "r"(&m) : "cc", "memory"); \
    fold(d);
#define CMOV1_q(cc)                                                                            \
    d = g;                                                                                     \
    __asm__ volatile("push %[fl]\n\tpopf\n\tcmov" #cc "q %q[s], %q[d]\n\t"                     \
                     "cmov" #cc "q (%[p]), %q[d]" : [d] "+r"(d) : [fl] "r"(f), [s] "r"(s), [p] "r"(&m) : "cc", "memory"); \
    fold(d);
DEF_CMOV(cmov_16, w, 16)
DEF_CMOV(cmov_32, k, 32)
#ifdef __x86_64__
DEF_CMOV(cmov_64, q, 64)
#endif

/* Jcc, short (7x rel8) and near (0F 8x rel32) encodings: bit i of `taken` = condition i. */
static void jcc_(void) {
    for (int i = 0; i < N_ITER; i++) {
        word f = flags_in();
        uint32_t taken = 0, bit = 1;
#define J1(cc)                                                                                 \
        __asm__ volatile("push %[fl]\n\tpopf\n\t"                                              \
                         "j" #cc " 1f\n\t"                                                     \
                         "jmp 2f\n"                                                            \
                         "1:\tor %[b], %[t]\n"                                                 \
                         "2:\tpush %[fl]\n\tpopf\n\t"                                          \
                         "%{disp32%} j" #cc " 3f\n\t"                                            \
                         "jmp 4f\n"                                                            \
                         "3:\tor %[b2], %[t]\n"                                                \
                         "4:"                                                                  \
                         : [t] "+r"(taken) : [fl] "r"(f), [b] "r"(bit), [b2] "r"(bit << 16) : "cc"); \
        bit <<= 1;
        FOR_EACH_CC(J1)
#undef J1
        fold(taken);
    }
}

/* ---- LEA ------------------------------------------------------------------------------------ */
static void lea_(void) {
    for (int i = 0; i < N_ITER; i++) {
        word b = (word)rnd64(), x = (word)rnd64(), g = (word)rnd64(), d, f = flags_in(), fl;
#define LEA1(form, MOD)                                                                        \
        d = g, fl = f;                                                                         \
        __asm__ volatile(FLAGS_PRE "lea " form ", %" MOD "[d]" FLAGS_POST                      \
                         : [d] "+r"(d), [fl] "+r"(fl) : [b] "r"(b), [x] "r"(x) : "cc");        \
        fold(d), fold(fl & F_ALL);
        LEA1("(%[b])", "k")
        LEA1("0x7f(%[b],%[x],1)", "k")
        LEA1("-0x80(%[b],%[x],2)", "k")
        LEA1("0x12345678(%[b],%[x],4)", "k")
        LEA1("-0x2468ace(,%[x],8)", "k")
        LEA1("0x1234(%[b],%[x],8)", "w")
#ifdef __x86_64__
        LEA1("0x7f(%[b],%[x],4)", "q")
        LEA1("-0x12345678(%[b],%[x],8)", "q")
        LEA1("0x10(%k[b],%k[x],2)", "q")   /* 67h: 32-bit address, zero-extended */
        LEA1("0x10(%k[b],%k[x],2)", "k")
#endif
#undef LEA1
#ifndef __x86_64__
        /* 16-bit addressing (67h in 32-bit code): [BX+SI], [BP+DI+disp8], [BX+disp16]; the
           results are 16-bit offsets, zero-extended into the 32-bit destinations. */
        static word bp_val;
        bp_val = g;
        __asm__ volatile("push %%ebp\n\tmov %[bp], %%ebp\n\t"
                         "addr16 lea (%%bx,%%si), %%eax\n\t"
                         "addr16 lea -0x12(%%bp,%%di), %%ecx\n\t"
                         "addr16 lea 0x7abc(%%bx), %%edx\n\t"
                         "pop %%ebp\n\t"
                         "xor %%ecx, %%eax\n\trol $7, %%eax\n\txor %%edx, %%eax"
                         : "=&a"(d)
                         : "b"(b), "S"(x), "D"(~x), [bp] "m"(bp_val) : "ecx", "edx", "cc");
        fold(d);
#endif
    }
}

/* ---- XCHG ------------------------------------------------------------------------------------ */
#define DEF_XCHG(fn, PACK) DEF_XCHG_(fn, PACK)
#define DEF_XCHG_(fn, BITS, SFX, RM, C, MT)                                                    \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            word g = (word)rnd64(), d = G(pick(BITS), BITS), s = (word)rnd64();                \
            MT m = (MT)rnd64();                                                                \
            __asm__ volatile("xchg" SFX " %" RM "[s], %" RM "[d]" : [d] "+" C(d), [s] "+" C(s)); \
            fold(d), fold(s);                                                                  \
            __asm__ volatile("xchg" SFX " %" RM "[s], (%[p])" : [s] "+" C(s) : [p] "r"(&m) : "memory"); \
            fold(m), fold(s);                                                                  \
            __asm__ volatile("xchg" SFX " %" RM "[s], %" RM "[d]" : [d] "+a"(d), [s] "+r"(s));  \
            fold(d), fold(s);                                                                  \
        }                                                                                      \
    }
DEF_XCHG(xchg_8, P8)
DEF_XCHG(xchg_16, P16)
DEF_XCHG(xchg_32, P32)
ONLY64(DEF_XCHG(xchg_64, P64))

void run_bits_tests(void) {
    RUN_LINE("bt", SIZES3(bt_));
    RUN_LINE("bts", SIZES3(bts_));
    RUN_LINE("btr", SIZES3(btr_));
    RUN_LINE("btc", SIZES3(btc_));
    RUN_LINE("bsf", SIZES3(bsf_));
    RUN_LINE("bsr", SIZES3(bsr_));
    RUN_LINE("bswap", {"32", bswap_32}, {"64", IF64(bswap_64)});
    RUN_LINE("xadd", SIZES4(xadd_));
    RUN_LINE("cmpxchg", SIZES4(cmpxchg_));
    RUN_LINE("cmpxchgNb", {"8b", cmpxchg8b_}, {"16b", IF64(cmpxchg16b_)});
    RUN_LINE("movsx", {"bw", movsbw_}, {"bl", movsbl_}, {"wl", movswl_},
             {"bq", IF64(movsbq_)}, {"wq", IF64(movswq_)}, {"lq", IF64(movslq_)});
    RUN_LINE("movzx", {"bw", movzbw_}, {"bl", movzbl_}, {"wl", movzwl_},
             {"bq", IF64(movzbq_)}, {"wq", IF64(movzwq_)});
    RUN_LINE("cbw..cqo", {"cbw", cbw_}, {"cwde", cwde_}, {"cdqe", IF64(cdqe_)},
             {"cwd", cwd_}, {"cdq", cdq_}, {"cqo", IF64(cqo_)});
    RUN_LINE("cc", {"setcc", setcc_}, {"jcc", jcc_}, {"cmov16", cmov_16}, {"cmov32", cmov_32},
             {"cmov64", IF64(cmov_64)});
    RUN_LINE("lea", {"all", lea_});
    RUN_LINE("xchg", SIZES4(xchg_));
}
