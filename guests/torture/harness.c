/*
 * The torture harness (see harness.h): generator, checksums, report lines, and the
 * comparison with the hardware reference.
 */
#include "tests.h"

struct ref_entry {
    const char *name;
    const char *tag;
    uint32_t sum;
};

#ifndef TORTURE_HOST
#include "reference.h" /* reference[] for MODE_BITS, from host/ on a real CPU */
#define REF_COUNT (sizeof(reference) / sizeof(reference[0]))
#endif

/* Knuth's MMIX LCG; the high half is the output (the low bits of an LCG cycle fast). */
static uint64_t rng_state;

uint32_t rnd32(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 32);
}

uint64_t rnd64(void) {
    uint64_t hi = rnd32();
    return (hi << 32) | rnd32();
}

uint64_t pick(int bits) {
    uint64_t mask = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
    uint64_t sign = 1ULL << (bits - 1);
    uint32_t r = rnd32();
    uint64_t v;
    switch (r & 7) {
    case 0:
        switch ((r >> 3) % 10) {
        case 0: v = 0; break;
        case 1: v = 1; break;
        case 2: v = mask; break;
        case 3: v = sign; break;
        case 4: v = sign - 1; break;
        case 5: v = sign + 1; break;
        case 6: v = 0x5555555555555555ULL; break;
        case 7: v = 0xAAAAAAAAAAAAAAAAULL; break;
        case 8: v = mask - 1; break;
        default: v = 2; break;
        }
        break;
    case 1: v = (r >> 3) & 0x1F; break;
    case 2: v = 0 - (uint64_t)((r >> 3) & 0x1F); break;
    default: v = rnd64(); break;
    }
    return v & mask;
}

word flags_in(void) {
    return 0x2 | (rnd32() & F_ALL);
}

/* Checksum: FNV-1a over 32-bit words. Each step is a bijection of the state, so a change
   in any single folded word always changes the final value. */
static uint32_t ck;
static const char *ck_name, *ck_tag;
static unsigned n_checked, n_bad, ref_pos;

static uint32_t hash_str(uint32_t h, const char *s) {
    while (*s) h = (h ^ (uint8_t)*s++) * 0x01000193u;
    return h;
}

void ck_begin(const char *name, const char *tag) {
    ck_name = name;
    ck_tag = tag;
    uint32_t h = hash_str(hash_str(0x811C9DC5u, name), tag);
    rng_state = ((uint64_t)h << 32) | (h ^ 0x9E3779B9u);
    ck = 0x811C9DC5u;
}

void fold(uint64_t v) {
    ck = (ck ^ (uint32_t)v) * 0x01000193u;
    ck = (ck ^ (uint32_t)(v >> 32)) * 0x01000193u;
}

void fold_bytes(const void *p, unsigned n) {
    const uint32_t *w = p;
    for (unsigned i = 0; i < n / 4; i++) ck = (ck ^ w[i]) * 0x01000193u;
}

#ifdef TORTURE_HOST
/* Host build: emit the values for reference.h, nothing else. */
void line_begin(const char *name) { (void)name; }
void line_end(void) {}
void ck_end(void) {
    con_printf("REF|%s|%s|%08x\n", ck_name, ck_tag, (unsigned)ck);
    n_checked++;
}
#else
static char bad_tags[64];
static unsigned bad_len;

void line_begin(const char *name) {
    con_printf("  %-11s", name);
    bad_len = 0;
    bad_tags[0] = 0;
}

void ck_end(void) {
    con_printf(" %s:%08x", ck_tag, (unsigned)ck);
    n_checked++;
    int ok = 0;
    if (ref_pos < REF_COUNT) {
        const struct ref_entry *r = &reference[ref_pos];
        ok = !strcmp(r->name, ck_name) && !strcmp(r->tag, ck_tag) && r->sum == ck;
    }
    ref_pos++;
    if (!ok) {
        n_bad++;
        bad_len += str_printf(bad_tags + bad_len, sizeof bad_tags - bad_len, " %s", ck_tag);
        if (bad_len >= sizeof bad_tags) bad_len = sizeof bad_tags - 1;
    }
}

void line_end(void) {
    if (bad_len) con_printf("  MISMATCH:%s\n", bad_tags);
    else con_printf("  ok\n");
}
#endif

void run_line(const char *name, const struct sized *t, int n) {
    line_begin(name);
    for (int i = 0; i < n; i++) {
        if (!t[i].fn) continue;
        ck_begin(name, t[i].tag);
        t[i].fn();
        ck_end();
    }
    line_end();
}

unsigned torture_run(void) {
    n_checked = n_bad = ref_pos = 0;
    run_alu_tests();
    run_bits_tests();
    run_misc_tests();
    run_sse_tests();
#ifndef TORTURE_HOST
    if (ref_pos != REF_COUNT) {
        con_printf("  the reference has %u checksums for this mode, the run made %u\n",
                   (unsigned)REF_COUNT, ref_pos);
        if (!n_bad) n_bad = 1;
    }
    if (n_bad) con_printf("torture: %u of %u checksums differ from the hardware reference\n", n_bad, n_checked);
    else con_printf("torture: all %u checksums match the hardware reference\n", n_checked);
#endif
    return n_bad;
}
