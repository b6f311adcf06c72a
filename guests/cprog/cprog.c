/*
 * cprog: an ordinary freestanding C program, compiled with gcc -O2 so the image holds
 * what compilers emit in practice (cmov, setcc, imul and lea arithmetic, jump tables,
 * inlined string operations, 64-bit arithmetic split across 32-bit registers). It sorts,
 * hashes, sieves, multiplies big numbers, recurses, interprets a little bytecode and
 * formats text, and checks every answer against a known value.
 *
 * The same file builds the 32-bit guest (cprog) and the 64-bit one (cprog64, entered
 * through common/entry64.S).
 */
#include "rt.h"

static unsigned failures;

static void result(const char *what, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void result(const char *what, int ok, const char *fmt, ...) {
    va_list ap;
    con_printf("  %-10s ", what);
    va_start(ap, fmt);
    con_vprintf(fmt, ap);
    va_end(ap);
    con_printf(ok ? "  ok\n" : "  FAIL\n");
    failures += !ok;
}

/* ---- a deterministic generator ----------------------------------------------------------- */
static uint32_t lcg_state = 2024;
static uint32_t lcg(void) {
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

/* ---- sorting ------------------------------------------------------------------------------ */
#define N_SORT 1000
static int32_t values[N_SORT];

static void insertion_sort(int32_t *a, int n) {
    for (int i = 1; i < n; i++) {
        int32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void quicksort(int32_t *a, int n) {
    while (n > 16) {
        int32_t x = a[0], y = a[n / 2], z = a[n - 1];
        int32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i >= j) break;
            int32_t t = a[i];
            a[i++] = a[j];
            a[j--] = t;
        }
        /* recurse into the smaller half, loop on the larger */
        if (j + 1 < n - j - 1) {
            quicksort(a, j + 1);
            a += j + 1, n -= j + 1;
        } else {
            quicksort(a + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    insertion_sort(a, n);
}

static void test_sort(void) {
    uint32_t sum = 0;
    for (int i = 0; i < N_SORT; i++) {
        values[i] = (int32_t)(lcg() % 200001) - 100000;
        sum += (uint32_t)values[i];
    }
    quicksort(values, N_SORT);
    int sorted = 1;
    uint32_t after = 0;
    for (int i = 0; i < N_SORT; i++) {
        after += (uint32_t)values[i];
        if (i && values[i - 1] > values[i]) sorted = 0;
    }
    result("quicksort", sorted && sum == after, "%d values: min %d, median %d, max %d", N_SORT,
           values[0], values[N_SORT / 2], values[N_SORT - 1]);
}

/* ---- hashing ------------------------------------------------------------------------------- */
static uint32_t crc_table[256];

static uint32_t crc32(const void *data, size_t n) {
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    while (n--) c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

static uint32_t fnv1a32(const char *s) {
    uint32_t h = 0x811C9DC5u;
    while (*s) h = (h ^ (uint8_t)*s++) * 0x01000193u;
    return h;
}

static uint64_t fnv1a64(const char *s) {
    uint64_t h = 0xCBF29CE484222325ull;
    while (*s) h = (h ^ (uint8_t)*s++) * 0x100000001B3ull;
    return h;
}

static void test_hash(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    static const char fox[] = "The quick brown fox jumps over the lazy dog";
    uint32_t c = crc32(fox, strlen(fox));
    result("crc32", c == 0x414FA339u, "\"%s\" = %08x", fox, c);
    uint32_t h32 = fnv1a32("Hyperstep");
    uint64_t h64 = fnv1a64("Hyperstep");
    result("fnv-1a", h32 == 0x796CECA3u && h64 == 0x67F972134878C4A3ull,
           "\"Hyperstep\" = %08x (32-bit), %016llx (64-bit)", h32, (unsigned long long)h64);
}

/* ---- primes -------------------------------------------------------------------------------- */
#define N_SIEVE 30000
static uint8_t composite[N_SIEVE];

static void test_sieve(void) {
    memset(composite, 0, sizeof composite);
    unsigned count = 0, largest = 0;
    uint32_t sum = 0;
    for (unsigned i = 2; i < N_SIEVE; i++) {
        if (composite[i]) continue;
        count++, largest = i, sum += i;
        for (unsigned j = i * i; j < N_SIEVE; j += i) composite[j] = 1;
    }
    result("sieve", count == 3245 && largest == 29989 && sum == 45675864,
           "%u primes below %u, the largest %u, their sum %u", count, N_SIEVE, largest, sum);
}

/* ---- big numbers ----------------------------------------------------------------------------- */
/* 100! in base 10^9 limbs, least significant first. */
#define LIMB 1000000000u
static uint32_t big[20];

static void test_bignum(void) {
    int n = 1;
    big[0] = 1;
    for (uint32_t k = 2; k <= 100; k++) {
        uint64_t carry = 0;
        for (int i = 0; i < n; i++) {
            uint64_t v = (uint64_t)big[i] * k + carry;
            big[i] = (uint32_t)(v % LIMB);
            carry = v / LIMB;
        }
        while (carry) big[n++] = (uint32_t)(carry % LIMB), carry /= LIMB;
    }
    char digits[200];
    int len = str_printf(digits, sizeof digits, "%u", big[n - 1]);
    for (int i = n - 2; i >= 0; i--) len += str_printf(digits + len, sizeof digits - len, "%09u", big[i]);
    unsigned digit_sum = 0;
    for (int i = 0; i < len; i++) digit_sum += (unsigned)(digits[i] - '0');
    result("bignum", len == 158 && digit_sum == 648, "100! has %d digits (digit sum %u):", len, digit_sum);
    for (int i = 0; i < len; i += 79) con_printf("             %.79s\n", digits + i);
}

/* ---- 64-bit arithmetic ------------------------------------------------------------------------ */
static void test_int64(void) {
    volatile uint64_t big_u = 12345678901234567890ull, max = ~0ull;
    volatile int64_t neg = -9223372036854775807ll;
    uint64_t q = big_u / 97, r = big_u % 97, d = max / 10;
    int64_t sq = neg / 10, sr = neg % 10;
    result("int64", q == 127275040218913071ull && r == 3 && d == 1844674407370955161ull &&
                        sq == -922337203685477580ll && sr == -7,
           "%llu / 97 = %llu r %llu, %lld / 10 = %lld r %lld", (unsigned long long)big_u,
           (unsigned long long)q, (unsigned long long)r, (long long)neg, (long long)sq, (long long)sr);
}

/* ---- recursion ---------------------------------------------------------------------------------- */
static unsigned fib(unsigned n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static unsigned hanoi_moves;
static void hanoi(int n, int from, int to, int via) {
    if (!n) return;
    hanoi(n - 1, from, via, to);
    hanoi_moves++;
    hanoi(n - 1, via, to, from);
}

static unsigned ackermann(unsigned m, unsigned n) {
    if (!m) return n + 1;
    if (!n) return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

static void test_recursion(void) {
    unsigned f = fib(20);
    hanoi(12, 1, 3, 2);
    unsigned a = ackermann(2, 3);
    result("recursion", f == 6765 && hanoi_moves == 4095 && a == 9,
           "fib(20) = %u, hanoi(12) = %u moves, ackermann(2, 3) = %u", f, hanoi_moves, a);
}

/* ---- a bytecode interpreter (a dense switch: a jump table) ---------------------------------- */
enum { OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_MOD, OP_JZ, OP_JMP, OP_DUP, OP_SWAP, OP_HALT };

static int32_t run_vm(const int32_t *code, int32_t *vars) {
    int32_t stack[16];
    int sp = 0, pc = 0;
    for (;;) {
        int32_t op = code[pc++], t;
        switch (op) {
        case OP_PUSH: stack[sp++] = code[pc++]; break;
        case OP_LOAD: stack[sp++] = vars[code[pc++]]; break;
        case OP_STORE: vars[code[pc++]] = stack[--sp]; break;
        case OP_ADD: sp--, stack[sp - 1] += stack[sp]; break;
        case OP_SUB: sp--, stack[sp - 1] -= stack[sp]; break;
        case OP_MUL: sp--, stack[sp - 1] *= stack[sp]; break;
        case OP_MOD: sp--, stack[sp - 1] %= stack[sp]; break;
        case OP_JZ: t = code[pc++]; if (!stack[--sp]) pc = t; break;
        case OP_JMP: pc = code[pc]; break;
        case OP_DUP: stack[sp] = stack[sp - 1], sp++; break;
        case OP_SWAP: t = stack[sp - 1], stack[sp - 1] = stack[sp - 2], stack[sp - 2] = t; break;
        case OP_HALT: return sp ? stack[sp - 1] : 0;
        default: return -1;
        }
    }
}

static void test_vm(void) {
    /* gcd(a, b): while (b) { t = a % b; a = b; b = t; } return a */
    static const int32_t gcd[] = {
        OP_LOAD, 1, OP_JZ, 16, OP_LOAD, 0, OP_LOAD, 1, OP_MOD,
        OP_LOAD, 1, OP_STORE, 0, OP_STORE, 1, OP_JMP, 0, OP_LOAD, 0, OP_HALT,
    };
    /* the jump target 16 above is OP_JMP's operand slot: fix it to the LOAD at 17 */
    int32_t code[sizeof gcd / sizeof gcd[0]];
    memcpy(code, gcd, sizeof gcd);
    code[3] = 17;
    int32_t v1[2] = {1071, 462}, v2[2] = {1234567, 7654321};
    int32_t g1 = run_vm(code, v1), g2 = run_vm(code, v2);
    /* factorial(10): r = 1; while (n) { r *= n; n -= 1 } */
    static const int32_t fact[] = {
        OP_PUSH, 1, OP_STORE, 1, OP_LOAD, 0, OP_JZ, 22, OP_LOAD, 1, OP_LOAD, 0, OP_MUL,
        OP_STORE, 1, OP_LOAD, 0, OP_PUSH, 1, OP_SUB, OP_STORE, 0, OP_JMP, 4, OP_LOAD, 1, OP_HALT,
    };
    int32_t fcode[sizeof fact / sizeof fact[0]];
    memcpy(fcode, fact, sizeof fact);
    fcode[7] = 24;
    int32_t v3[2] = {10, 0};
    int32_t f = run_vm(fcode, v3);
    result("bytecode", g1 == 21 && g2 == 1 && f == 3628800,
           "gcd(1071, 462) = %d, gcd(1234567, 7654321) = %d, 10! = %d", g1, g2, f);
}

/* ---- structs ------------------------------------------------------------------------------------- */
struct body {
    int32_t x, y, vx, vy;
    uint8_t name[8];
    uint32_t mass;
};

static struct body bodies[8];

static void test_structs(void) {
    struct body tmpl = {0, 0, 3, -2, "probe", 10};
    for (int i = 0; i < 8; i++) {
        bodies[i] = tmpl;                   /* struct copy */
        bodies[i].x = i * 100, bodies[i].y = 1000 - i * 50;
        bodies[i].name[5] = (uint8_t)('0' + i);
        bodies[i].mass += (uint32_t)i;
    }
    for (int step = 0; step < 100; step++) {
        for (int i = 0; i < 8; i++) {
            struct body b = bodies[i];
            b.vy -= (b.y > 0) ? 1 : -1;     /* a pull towards y = 0 */
            b.x += b.vx, b.y += b.vy;
            bodies[i] = b;
        }
    }
    struct body swap = bodies[0];
    bodies[0] = bodies[7], bodies[7] = swap;
    int32_t sx = 0, sy = 0;
    for (int i = 0; i < 8; i++) sx += bodies[i].x, sy += bodies[i].y;
    result("structs", sx == 5200 && sy == -4580 && bodies[0].name[5] == '7',
           "8 bodies x 100 steps: sum x %d, sum y %d, first is %s", (int)sx, (int)sy, (const char *)bodies[0].name);
}

/* ---- formatting ------------------------------------------------------------------------------------ */
static void test_format(void) {
    char line[96];
    str_printf(line, sizeof line, "[%-6s|%6s|%06d|%-5d|%x|%X|%c]", "left", "right", -42, 7, 0xbeefu, 0xcafeu, '!');
    result("format", !strcmp(line, "[left  | right|-00042|7    |beef|CAFE|!]"), "%s", line);
}

static int cprog_main(void) {
#ifdef __x86_64__
    con_printf("cprog64: freestanding C, gcc -O2, running in 64-bit long mode\n");
#else
    con_printf("cprog: freestanding C, gcc -O2, running in 32-bit protected mode\n");
#endif
    test_sort();
    test_hash();
    test_sieve();
    test_bignum();
    test_int64();
    test_recursion();
    test_vm();
    test_structs();
    test_format();
    con_printf(failures ? "FAIL\n" : "PASS\n");
    return failures ? 1 : 0;
}

#ifdef __x86_64__
int main64(void);
int main64(void) {
    return cprog_main();
}
#else
int guest_main(uint32_t magic, uint32_t info);
int guest_main(uint32_t magic, uint32_t info) {
    (void)magic, (void)info;
    return cprog_main();
}
#endif
