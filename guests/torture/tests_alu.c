/*
 * Integer arithmetic: ADD ADC SUB SBB CMP AND OR XOR TEST, INC DEC NEG NOT, the shifts
 * and rotates, SHLD/SHRD, MUL/IMUL (one, two and three operands), DIV/IDIV. Each size in
 * register, memory and immediate forms (including the short accumulator encodings and,
 * for bytes, AH..DH).
 */
#include "tests.h"

#define G(low, bits) with_garbage(g, (low), (bits))

/* ---- two-operand ALU ------------------------------------------------------------------ */
/* Forms: reg,reg  mem->reg  reg->mem  imm (sign-extended imm8, or imm8 for bytes)
   imm to the accumulator (short form)  imm->mem. */
#define DEF_ALU(fn, OP, MASK, IMMS, IMMA, PACK) DEF_ALU_(fn, OP, MASK, IMMS, IMMA, PACK)
#define DEF_ALU_(fn, OP, MASK, IMMS, IMMA, BITS, SFX, RM, C, MT)                               \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            uint64_t a = pick(BITS), b = pick(BITS);                                           \
            word g = (word)rnd64(), f = flags_in(), fl, d, s = G(b, BITS);                     \
            MT m, mb = (MT)b;                                                                  \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " %" RM "[s], %" RM "[d]" FLAGS_POST             \
                             : [d] "+" C(d), [fl] "+r"(fl) : [s] C(s) : "cc");                 \
            fold(d), fold(fl & (MASK));                                                        \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " (%[p]), %" RM "[d]" FLAGS_POST                 \
                             : [d] "+" C(d), [fl] "+r"(fl) : [p] "r"(&mb) : "cc", "memory");   \
            fold(d), fold(fl & (MASK));                                                        \
            m = (MT)a, fl = f;                                                                 \
            __asm__ volatile(FLAGS_PRE OP SFX " %" RM "[s], (%[p])" FLAGS_POST                 \
                             : [fl] "+r"(fl) : [s] C(s), [p] "r"(&m) : "cc", "memory");        \
            fold(m), fold(fl & (MASK));                                                        \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " $" IMMS ", %" RM "[d]" FLAGS_POST              \
                             : [d] "+" C(d), [fl] "+r"(fl) : : "cc");                          \
            fold(d), fold(fl & (MASK));                                                        \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " $" IMMA ", %" RM "[d]" FLAGS_POST              \
                             : [d] "+a"(d), [fl] "+r"(fl) : : "cc");                           \
            fold(d), fold(fl & (MASK));                                                        \
            m = (MT)a, fl = f;                                                                 \
            __asm__ volatile(FLAGS_PRE OP SFX " $" IMMS ", (%[p])" FLAGS_POST                  \
                             : [fl] "+r"(fl) : [p] "r"(&m) : "cc", "memory");                  \
            fold(m), fold(fl & (MASK));                                                        \
        }                                                                                      \
    }

/* Byte forms naming AH..DH (ModRM register numbers 4-7 without REX). */
#define DEF_ALU_HIGH(fn, OP, MASK)                                                             \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            word g = (word)rnd64(), f = flags_in(), fl, d, s;                                  \
            d = G(pick(16), 16), s = (word)rnd64(), fl = f;                                    \
            __asm__ volatile(FLAGS_PRE OP "b %h[s], %b[d]" FLAGS_POST                          \
                             : [d] "+Q"(d), [fl] "+r"(fl) : [s] "Q"(s) : "cc");                \
            fold(d), fold(fl & (MASK));                                                        \
            d = G(pick(16), 16), fl = f;                                                       \
            __asm__ volatile(FLAGS_PRE OP "b %b[s], %h[d]" FLAGS_POST                          \
                             : [d] "+Q"(d), [fl] "+r"(fl) : [s] "Q"(s) : "cc");                \
            fold(d), fold(fl & (MASK));                                                        \
        }                                                                                      \
    }

#define DEF_ALU_ALL(p, OP, MASK)                                                               \
    DEF_ALU(p##8l, OP, MASK, "0x5a", "0xa5", P8)                                               \
    DEF_ALU_HIGH(p##8h, OP, MASK)                                                              \
    static void p##8(void) { p##8l(), p##8h(); }                                               \
    DEF_ALU(p##16, OP, MASK, "-3", "0x1234", P16)                                              \
    DEF_ALU(p##32, OP, MASK, "-3", "0x12345678", P32)                                          \
    ONLY64(DEF_ALU(p##64, OP, MASK, "-3", "-0x12345678", P64))

DEF_ALU_ALL(add_, "add", F_ALL)
DEF_ALU_ALL(adc_, "adc", F_ALL)
DEF_ALU_ALL(sub_, "sub", F_ALL)
DEF_ALU_ALL(sbb_, "sbb", F_ALL)
DEF_ALU_ALL(cmp_, "cmp", F_ALL)
DEF_ALU_ALL(and_, "and", F_LOGIC)
DEF_ALU_ALL(or_, "or", F_LOGIC)
DEF_ALU_ALL(xor_, "xor", F_LOGIC)
DEF_ALU_ALL(test_, "test", F_LOGIC)

/* ---- one-operand ALU ------------------------------------------------------------------- */
/* INC/DEC leave CF alone and NOT touches no flag: F_ALL checks that too. */
#define DEF_UNARY(fn, OP, PACK) DEF_UNARY_(fn, OP, PACK)
#define DEF_UNARY_(fn, OP, BITS, SFX, RM, C, MT)                                               \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            uint64_t a = pick(BITS);                                                           \
            word g = (word)rnd64(), f = flags_in(), fl, d;                                     \
            MT m;                                                                              \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " %" RM "[d]" FLAGS_POST                         \
                             : [d] "+" C(d), [fl] "+r"(fl) : : "cc");                          \
            fold(d), fold(fl & F_ALL);                                                         \
            m = (MT)a, fl = f;                                                                 \
            __asm__ volatile(FLAGS_PRE OP SFX " (%[p])" FLAGS_POST                             \
                             : [fl] "+r"(fl) : [p] "r"(&m) : "cc", "memory");                  \
            fold(m), fold(fl & F_ALL);                                                         \
        }                                                                                      \
    }
#define DEF_UNARY_ALL(p, OP)                                                                   \
    DEF_UNARY(p##8, OP, P8) DEF_UNARY(p##16, OP, P16) DEF_UNARY(p##32, OP, P32)                \
    ONLY64(DEF_UNARY(p##64, OP, P64))

DEF_UNARY_ALL(inc_, "inc")
DEF_UNARY_ALL(dec_, "dec")
DEF_UNARY_ALL(neg_, "neg")
DEF_UNARY_ALL(not_, "not")

/* ---- shifts and rotates ---------------------------------------------------------------- */
enum { K_SH, K_SAR, K_ROT, K_RC };

/* Counts: edge values and random bytes (the CPU masks to 5 bits, 6 for 64-bit operands).
   RCL/RCR of bytes and words avoid masked counts that are multiples of 9 and 17 (rotate
   by the full width + CF): QEMU 10 zeroes the destination there, hardware does not. */
static uint8_t shift_count(int kind, int bits) {
    static const uint8_t edge[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65};
    uint32_t r = rnd32();
    uint8_t c = (r & 3) ? (uint8_t)(r >> 8) : edge[(r >> 2) % sizeof edge];
    if (kind == K_RC && bits < 32) {
        unsigned mc = c & 31;
        if (mc && mc % (unsigned)(bits + 1) == 0) c++;
    }
    return c;
}

/* The flags the SDM defines after a shift/rotate by `c` (vol. 2B, SAL/SAR/SHL/SHR and
   RCL/RCR/ROL/ROR): a masked count of 0 changes nothing; OF only for 1-bit shifts;
   shifts leave AF undefined, and CF undefined for SHL/SHR counts of at least the width;
   rotates touch only CF and OF. */
static word shift_mask(int kind, int bits, unsigned c) {
    unsigned mc = c & (bits == 64 ? 63 : 31);
    word m;
    if (mc == 0) return F_ALL;
    switch (kind) {
    case K_SH: m = F_SF | F_ZF | F_PF | (mc < (unsigned)bits ? F_CF : 0); break;
    case K_SAR: m = F_SF | F_ZF | F_PF | F_CF; break;
    default: m = F_SF | F_ZF | F_AF | F_PF | F_CF; break;
    }
    if (mc == 1) m |= F_OF;
    return m;
}

#define DEF_SHIFT(fn, OP, KIND, PACK) DEF_SHIFT_(fn, OP, KIND, PACK)
#define DEF_SHIFT_(fn, OP, KIND, BITS, SFX, RM, C, MT)                                         \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            uint64_t a = pick(BITS);                                                           \
            word g = (word)rnd64(), f = flags_in(), fl, d;                                     \
            uint8_t c = shift_count(KIND, BITS);                                               \
            MT m;                                                                              \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " %%cl, %" RM "[d]" FLAGS_POST                   \
                             : [d] "+" C(d), [fl] "+r"(fl) : "c"(c) : "cc");                   \
            fold(d), fold(fl & shift_mask(KIND, BITS, c));                                     \
            m = (MT)a, fl = f;                                                                 \
            __asm__ volatile(FLAGS_PRE OP SFX " %%cl, (%[p])" FLAGS_POST                       \
                             : [fl] "+r"(fl) : "c"(c), [p] "r"(&m) : "cc", "memory");          \
            fold(m), fold(fl & shift_mask(KIND, BITS, c));                                     \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " $1, %" RM "[d]" FLAGS_POST                     \
                             : [d] "+" C(d), [fl] "+r"(fl) : : "cc");                          \
            fold(d), fold(fl & shift_mask(KIND, BITS, 1));                                     \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " $3, %" RM "[d]" FLAGS_POST                     \
                             : [d] "+" C(d), [fl] "+r"(fl) : : "cc");                          \
            fold(d), fold(fl & shift_mask(KIND, BITS, 3));                                     \
            m = (MT)a, fl = f;                                                                 \
            __asm__ volatile(FLAGS_PRE OP SFX " $13, (%[p])" FLAGS_POST                        \
                             : [fl] "+r"(fl) : [p] "r"(&m) : "cc", "memory");                  \
            fold(m), fold(fl & shift_mask(KIND, BITS, 13));                                    \
        }                                                                                      \
    }
#define DEF_SHIFT_ALL(p, OP, KIND)                                                             \
    DEF_SHIFT(p##8, OP, KIND, P8) DEF_SHIFT(p##16, OP, KIND, P16)                              \
    DEF_SHIFT(p##32, OP, KIND, P32) ONLY64(DEF_SHIFT(p##64, OP, KIND, P64))

DEF_SHIFT_ALL(shl_, "shl", K_SH)
DEF_SHIFT_ALL(shr_, "shr", K_SH)
DEF_SHIFT_ALL(sar_, "sar", K_SAR)
DEF_SHIFT_ALL(rol_, "rol", K_ROT)
DEF_SHIFT_ALL(ror_, "ror", K_ROT)
DEF_SHIFT_ALL(rcl_, "rcl", K_RC)
DEF_SHIFT_ALL(rcr_, "rcr", K_RC)

/* SHLD/SHRD: word counts stay below 16 (a masked count above the width leaves result and
   flags undefined, SDM vol. 2B SHLD). AF is undefined, OF only defined for count 1. */
static word shxd_mask(int bits, unsigned c) {
    unsigned mc = c & (bits == 64 ? 63 : 31);
    if (mc == 0) return F_ALL;
    return F_SF | F_ZF | F_PF | F_CF | (mc == 1 ? F_OF : 0);
}

#define DEF_SHXD(fn, OP, IMM, PACK) DEF_SHXD_(fn, OP, IMM, PACK)
#define DEF_SHXD_(fn, OP, IMM, BITS, SFX, RM, C, MT)                                           \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            uint64_t a = pick(BITS), b = pick(BITS);                                           \
            word g = (word)rnd64(), f = flags_in(), fl, d, s = G(b, BITS);                     \
            uint8_t c = shift_count(K_SH, BITS);                                               \
            MT m;                                                                              \
            if (BITS == 16) c &= 0xEF;                                                         \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " %%cl, %" RM "[s], %" RM "[d]" FLAGS_POST       \
                             : [d] "+r"(d), [fl] "+r"(fl) : [s] "r"(s), "c"(c) : "cc");        \
            fold(d), fold(fl & shxd_mask(BITS, c));                                            \
            m = (MT)a, fl = f;                                                                 \
            __asm__ volatile(FLAGS_PRE OP SFX " %%cl, %" RM "[s], (%[p])" FLAGS_POST           \
                             : [fl] "+r"(fl) : [s] "r"(s), "c"(c), [p] "r"(&m) : "cc", "memory"); \
            fold(m), fold(fl & shxd_mask(BITS, c));                                            \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " $1, %" RM "[s], %" RM "[d]" FLAGS_POST         \
                             : [d] "+r"(d), [fl] "+r"(fl) : [s] "r"(s) : "cc");                \
            fold(d), fold(fl & shxd_mask(BITS, 1));                                            \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " $" #IMM ", %" RM "[s], %" RM "[d]" FLAGS_POST  \
                             : [d] "+r"(d), [fl] "+r"(fl) : [s] "r"(s) : "cc");                \
            fold(d), fold(fl & shxd_mask(BITS, IMM));                                          \
        }                                                                                      \
    }
DEF_SHXD(shld_16, "shld", 11, P16)
DEF_SHXD(shld_32, "shld", 27, P32)
ONLY64(DEF_SHXD(shld_64, "shld", 45, P64))
DEF_SHXD(shrd_16, "shrd", 11, P16)
DEF_SHXD(shrd_32, "shrd", 27, P32)
ONLY64(DEF_SHXD(shrd_64, "shrd", 45, P64))

/* ---- multiplication -------------------------------------------------------------------- */
/* One-operand MUL/IMUL: AL*r8 -> AX, else rDX:rAX. Only CF and OF are defined. */
#define F_MUL (F_CF | F_OF)
#define DEF_MUL1(fn, OP, PACK) DEF_MUL1_(fn, OP, PACK)
#define DEF_MUL1_(fn, OP, BITS, SFX, RM, C, MT)                                                \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            uint64_t a = pick(BITS), b = pick(BITS);                                           \
            word g = (word)rnd64(), f = flags_in(), fl, ax, dx = (word)~g, s = G(b, BITS);     \
            MT m = (MT)b;                                                                      \
            ax = G(a, BITS), fl = f;                                                           \
            __asm__ volatile(FLAGS_PRE OP SFX " %" RM "[s]" FLAGS_POST                         \
                             : "+a"(ax), "+d"(dx), [fl] "+r"(fl) : [s] C(s) : "cc");           \
            fold(ax), fold(dx), fold(fl & F_MUL);                                              \
            ax = G(a, BITS), dx = (word)~g, fl = f;                                            \
            __asm__ volatile(FLAGS_PRE OP SFX " (%[p])" FLAGS_POST                             \
                             : "+a"(ax), "+d"(dx), [fl] "+r"(fl) : [p] "r"(&m) : "cc", "memory"); \
            fold(ax), fold(dx), fold(fl & F_MUL);                                              \
        }                                                                                      \
    }
DEF_MUL1(mul_8, "mul", P8)
DEF_MUL1(mul_16, "mul", P16)
DEF_MUL1(mul_32, "mul", P32)
ONLY64(DEF_MUL1(mul_64, "mul", P64))
DEF_MUL1(imul1_8, "imul", P8)
DEF_MUL1(imul1_16, "imul", P16)
DEF_MUL1(imul1_32, "imul", P32)
ONLY64(DEF_MUL1(imul1_64, "imul", P64))

/* Two- and three-operand IMUL (0F AF, 6B ib, 69 iw/id). */
#define DEF_IMULN(fn, IMM, PACK) DEF_IMULN_(fn, IMM, PACK)
#define DEF_IMULN_(fn, IMM, BITS, SFX, RM, C, MT)                                              \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            uint64_t a = pick(BITS), b = pick(BITS);                                           \
            word g = (word)rnd64(), f = flags_in(), fl, d, s = G(b, BITS);                     \
            MT m = (MT)b;                                                                      \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE "imul" SFX " %" RM "[s], %" RM "[d]" FLAGS_POST         \
                             : [d] "+r"(d), [fl] "+r"(fl) : [s] "r"(s) : "cc");                \
            fold(d), fold(fl & F_MUL);                                                         \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE "imul" SFX " (%[p]), %" RM "[d]" FLAGS_POST             \
                             : [d] "+r"(d), [fl] "+r"(fl) : [p] "r"(&m) : "cc", "memory");     \
            fold(d), fold(fl & F_MUL);                                                         \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE "imul" SFX " $-7, %" RM "[s], %" RM "[d]" FLAGS_POST    \
                             : [d] "+r"(d), [fl] "+r"(fl) : [s] "r"(s) : "cc");                \
            fold(d), fold(fl & F_MUL);                                                         \
            d = G(a, BITS), fl = f;                                                            \
            __asm__ volatile(FLAGS_PRE "imul" SFX " $" IMM ", (%[p]), %" RM "[d]" FLAGS_POST   \
                             : [d] "+r"(d), [fl] "+r"(fl) : [p] "r"(&m) : "cc", "memory");     \
            fold(d), fold(fl & F_MUL);                                                         \
        }                                                                                      \
    }
DEF_IMULN(imul_16, "0x1234", P16)
DEF_IMULN(imul_32, "0x12345", P32)
ONLY64(DEF_IMULN(imul_64, "-0x12345", P64))

/* ---- division -------------------------------------------------------------------------- */
/* Operands that cannot fault: dividend = q * d + r with q representable, |r| < |d| and r of
   the dividend's sign, so the CPU's quotient and remainder are q and r exactly. Flags are
   all undefined after DIV/IDIV; only the results are folded. */
static void div_operands(int bits, int is_signed, uint64_t *lo, uint64_t *hi, uint64_t *divisor) {
    uint64_t q = pick(bits), d = pick(bits);
    if ((d & MASK_OF(bits)) == 0) d = 1;
#ifdef __x86_64__
    if (bits == 64) {
        unsigned __int128 n;
        if (is_signed) {
            int64_t sq = (int64_t)q, sd = (int64_t)d;
            uint64_t ad = sd < 0 ? 0 - (uint64_t)sd : (uint64_t)sd;
            __int128 prod = (__int128)sq * sd;
            int64_t r = (int64_t)(rnd64() % ad);
            if (prod < 0 || (prod == 0 && (rnd32() & 1))) r = -r;
            n = (unsigned __int128)(prod + r);
        } else {
            n = (unsigned __int128)q * d + rnd64() % d;
        }
        *lo = (uint64_t)n, *hi = (uint64_t)(n >> 64), *divisor = d;
        return;
    }
#endif
    uint64_t n;
    if (is_signed) {
        int64_t sq = sext(q, bits), sd = sext(d, bits);
        uint32_t ad = (uint32_t)(sd < 0 ? -sd : sd);
        int64_t prod = sq * sd;
        int64_t r = rnd32() % ad;
        if (prod < 0 || (prod == 0 && (rnd32() & 1))) r = -r;
        n = (uint64_t)(prod + r);
    } else {
        n = (q & MASK_OF(bits)) * (d & MASK_OF(bits)) + rnd32() % (uint32_t)(d & MASK_OF(bits));
    }
    *lo = n & MASK_OF(bits), *hi = (n >> bits) & MASK_OF(bits), *divisor = d & MASK_OF(bits);
}

static void div_8(void) {
    for (int i = 0; i < N_ITER; i++) {
        uint64_t lo, hi, d;
        div_operands(8, 0, &lo, &hi, &d);
        word g = (word)rnd64(), ax = G(hi << 8 | lo, 16), s = G(d, 8);
        uint8_t m = (uint8_t)d;
        __asm__ volatile("divb %b[s]" : "+a"(ax) : [s] "Q"(s) : "cc");
        fold(ax);
        ax = G(hi << 8 | lo, 16);
        __asm__ volatile("divb (%[p])" : "+a"(ax) : [p] "r"(&m) : "cc", "memory");
        fold(ax);
    }
}
static void idiv_8(void) {
    for (int i = 0; i < N_ITER; i++) {
        uint64_t lo, hi, d;
        div_operands(8, 1, &lo, &hi, &d);
        word g = (word)rnd64(), ax = G(hi << 8 | lo, 16), s = G(d, 8);
        uint8_t m = (uint8_t)d;
        __asm__ volatile("idivb %b[s]" : "+a"(ax) : [s] "Q"(s) : "cc");
        fold(ax);
        ax = G(hi << 8 | lo, 16);
        __asm__ volatile("idivb (%[p])" : "+a"(ax) : [p] "r"(&m) : "cc", "memory");
        fold(ax);
    }
}

#define DEF_DIV(fn, OP, SIGNED, PACK) DEF_DIV_(fn, OP, SIGNED, PACK)
#define DEF_DIV_(fn, OP, SIGNED, BITS, SFX, RM, C, MT)                                         \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_ITER; i++) {                                                     \
            uint64_t lo, hi, dv;                                                               \
            div_operands(BITS, SIGNED, &lo, &hi, &dv);                                         \
            word g = (word)rnd64(), ax = G(lo, BITS), dx = G(hi, BITS), s = G(dv, BITS);       \
            MT m = (MT)dv;                                                                     \
            __asm__ volatile(OP SFX " %" RM "[s]" : "+a"(ax), "+d"(dx) : [s] "r"(s) : "cc");   \
            fold(ax), fold(dx);                                                                \
            ax = G(lo, BITS), dx = G(hi, BITS);                                                \
            __asm__ volatile(OP SFX " (%[p])" : "+a"(ax), "+d"(dx) : [p] "r"(&m) : "cc", "memory"); \
            fold(ax), fold(dx);                                                                \
        }                                                                                      \
    }
DEF_DIV(div_16, "div", 0, P16)
DEF_DIV(div_32, "div", 0, P32)
ONLY64(DEF_DIV(div_64, "div", 0, P64))
DEF_DIV(idiv_16, "idiv", 1, P16)
DEF_DIV(idiv_32, "idiv", 1, P32)
ONLY64(DEF_DIV(idiv_64, "idiv", 1, P64))

void run_alu_tests(void) {
    RUN_LINE("add", SIZES4(add_));
    RUN_LINE("adc", SIZES4(adc_));
    RUN_LINE("sub", SIZES4(sub_));
    RUN_LINE("sbb", SIZES4(sbb_));
    RUN_LINE("cmp", SIZES4(cmp_));
    RUN_LINE("and", SIZES4(and_));
    RUN_LINE("or", SIZES4(or_));
    RUN_LINE("xor", SIZES4(xor_));
    RUN_LINE("test", SIZES4(test_));
    RUN_LINE("inc", SIZES4(inc_));
    RUN_LINE("dec", SIZES4(dec_));
    RUN_LINE("neg", SIZES4(neg_));
    RUN_LINE("not", SIZES4(not_));
    RUN_LINE("shl", SIZES4(shl_));
    RUN_LINE("shr", SIZES4(shr_));
    RUN_LINE("sar", SIZES4(sar_));
    RUN_LINE("rol", SIZES4(rol_));
    RUN_LINE("ror", SIZES4(ror_));
    RUN_LINE("rcl", SIZES4(rcl_));
    RUN_LINE("rcr", SIZES4(rcr_));
    RUN_LINE("shld", SIZES3(shld_));
    RUN_LINE("shrd", SIZES3(shrd_));
    RUN_LINE("mul", SIZES4(mul_));
    RUN_LINE("imul1", SIZES4(imul1_));
    RUN_LINE("imul2/3", SIZES3(imul_));
    RUN_LINE("div", SIZES4(div_));
    RUN_LINE("idiv", SIZES4(idiv_));
}
