/*
 * The 64-bit division helpers gcc calls from 32-bit code (u64 / and % compile to calls to
 * __udivdi3 and friends). Debian's gcc has no 32-bit libgcc unless gcc-multilib is
 * installed, so guests bring their own. Division by zero traps (#DE) as the hardware
 * divide would.
 */
#include <stdint.h>

uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);
uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
int64_t __divmoddi4(int64_t n, int64_t d, int64_t *rem);

static uint64_t udivmod(uint64_t n, uint64_t d, uint64_t *rem) {
    uint32_t d_hi = (uint32_t)(d >> 32), d_lo = (uint32_t)d;
    if (d_hi == 0) {
        /* Long division by a 32-bit divisor in two DIV steps: the first remainder is
           below the divisor, so the second 64/32 DIV cannot overflow. */
        uint32_t n_hi = (uint32_t)(n >> 32), n_lo = (uint32_t)n;
        uint32_t q_hi = n_hi / d_lo, r = n_hi % d_lo, q_lo;
        __asm__("divl %4" : "=a"(q_lo), "=d"(r) : "a"(n_lo), "d"(r), "rm"(d_lo));
        *rem = r;
        return ((uint64_t)q_hi << 32) | q_lo;
    }
    /* Divisor of 33 bits or more: the quotient fits in 32 bits; restoring division over
       the few quotient bits there can be. */
    int shift = __builtin_clz(d_hi);
    uint64_t q = 0;
    d <<= shift;
    for (int i = 0; i <= shift; i++) {
        q <<= 1;
        if (n >= d) {
            n -= d;
            q |= 1;
        }
        d >>= 1;
    }
    *rem = n;
    return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d) {
    uint64_t r;
    return udivmod(n, d, &r);
}

uint64_t __umoddi3(uint64_t n, uint64_t d) {
    uint64_t r;
    udivmod(n, d, &r);
    return r;
}

int64_t __divdi3(int64_t n, int64_t d) {
    uint64_t r, un = n < 0 ? 0 - (uint64_t)n : (uint64_t)n, ud = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
    uint64_t q = udivmod(un, ud, &r);
    return (int64_t)((n < 0) != (d < 0) ? 0 - q : q);
}

int64_t __moddi3(int64_t n, int64_t d) {
    uint64_t r, un = n < 0 ? 0 - (uint64_t)n : (uint64_t)n, ud = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
    udivmod(un, ud, &r);
    return (int64_t)(n < 0 ? 0 - r : r);
}

/* gcc -O2 merges a / and a % of the same operands into one of these. */
uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem) {
    uint64_t r, q = udivmod(n, d, &r);
    if (rem) *rem = r;
    return q;
}

int64_t __divmoddi4(int64_t n, int64_t d, int64_t *rem) {
    int64_t q = __divdi3(n, d);
    if (rem) *rem = n - q * d;
    return q;
}
