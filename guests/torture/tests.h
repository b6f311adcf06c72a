/*
 * Shared machinery for the integer test files.
 *
 * Each test runs one instruction between POPF (random input flags) and PUSHF, so it sees
 * and reports the arithmetic flags. Register destinations are whole registers whose upper
 * bits hold garbage: folding the whole register checks the partial-register rules (8- and
 * 16-bit writes keep the rest; 32-bit writes in 64-bit mode zero bits 63:32).
 *
 * Operand-size packs, passed to the DEF_* macros:
 *   (bits, AT&T suffix, register-name modifier for gcc's asm operands, constraint, type)
 * The 8-bit pack uses "Q" (A/B/C/D registers) so %h (AH..DH) can name the high bytes.
 */
#ifndef TORTURE_TESTS_H
#define TORTURE_TESTS_H

#include "harness.h"

#define P8  8, "b", "b", "Q", uint8_t
#define P16 16, "w", "w", "r", uint16_t
#define P32 32, "l", "k", "r", uint32_t
#define P64 64, "q", "q", "r", uint64_t

#define FLAGS_PRE  "push %[fl]\n\tpopf\n\t"
#define FLAGS_POST "\n\tpushf\n\tpop %[fl]"

#define MASK_OF(bits) ((bits) == 64 ? ~0ULL : (1ULL << (bits)) - 1)

/* A whole register: `low` in the low `bits`, the garbage `g` above. */
static inline word with_garbage(word g, uint64_t low, int bits) {
    return (word)(((uint64_t)g & ~MASK_OF(bits)) | (low & MASK_OF(bits)));
}

/* Sign-extend the low `bits` of v. */
static inline int64_t sext(uint64_t v, int bits) {
    if (bits == 64) return (int64_t)v;
    uint64_t sign = 1ULL << (bits - 1);
    v &= MASK_OF(bits);
    return (int64_t)((v ^ sign) - sign);
}


#ifdef __x86_64__
#define ONLY64(...) __VA_ARGS__
#define IF64(x) x
#else
#define ONLY64(...)
#define IF64(x) 0
#endif

/* A report line: one checksum per entry (entries with fn == 0 are skipped). */
struct sized {
    const char *tag;
    void (*fn)(void);
};
void run_line(const char *name, const struct sized *t, int n);
#define RUN_LINE(name, ...)                                                   \
    do {                                                                      \
        static const struct sized t_[] = {__VA_ARGS__};                       \
        run_line(name, t_, (int)(sizeof t_ / sizeof t_[0]));                  \
    } while (0)
/* The usual four sizes of a family whose functions are named prefix8..prefix64. */
#define SIZES4(p) {"8", p##8}, {"16", p##16}, {"32", p##32}, {"64", IF64(p##64)}
#define SIZES3(p) {"16", p##16}, {"32", p##32}, {"64", IF64(p##64)}

#endif
