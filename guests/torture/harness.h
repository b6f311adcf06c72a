/*
 * The torture harness: a deterministic operand generator and the checksums the tests
 * fold their results into.
 *
 * Every checksum is started by ck_begin(name, tag), which also reseeds the generator from
 * the name and tag, so a checksum depends only on the instructions it covers (never on
 * which checksums ran before it). Tests fold results and the flags the SDM defines for the
 * instruction (the undefined ones are masked out: QEMU TCG and real CPUs differ there).
 * Addresses are never folded, only offsets, so the checksums do not depend on the link.
 *
 * The reference values (reference.h) were produced by running the same test code natively
 * on an x86-64 CPU (host/, `make torture-reference`): a guest run checks each checksum
 * against hardware.
 */
#ifndef TORTURE_HARNESS_H
#define TORTURE_HARNESS_H

#include <stdint.h>
#include "rt.h"

typedef unsigned long word; /* 32 or 64 bits: the width PUSHF/POPF move */

/* EFLAGS bits (SDM vol. 1, 3.4.3). */
#define F_CF 0x001
#define F_PF 0x004
#define F_AF 0x010
#define F_ZF 0x040
#define F_SF 0x080
#define F_DF 0x400
#define F_OF 0x800
#define F_ALL (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
#define F_LOGIC (F_CF | F_PF | F_ZF | F_SF | F_OF) /* AND/OR/XOR/TEST: AF undefined */

#ifdef __x86_64__
#define MODE_BITS 64
#else
#define MODE_BITS 32
#endif

uint32_t rnd32(void);
uint64_t rnd64(void);
/* An operand of `bits` bits, biased towards the values where flags change: 0, 1, -1,
   the sign bit and its neighbours, alternating bit patterns, small numbers. */
uint64_t pick(int bits);
/* Random input flags: arithmetic flags random, DF clear, reserved bit 1 set. */
word flags_in(void);

void ck_begin(const char *name, const char *tag);
void fold(uint64_t v);
void fold_bytes(const void *p, unsigned n); /* n multiple of 4 */
void ck_end(void);                          /* prints " tag:checksum", checks it */

void line_begin(const char *name);          /* "  name" padded to a column */
void line_end(void);                        /* " ok" or " MISMATCH", newline */

/* How many iterations each checksum runs: small enough for a slow interpreter. */
#define N_ITER 192

/* Runs every group, prints the report; returns how many checksums differ from the
   hardware reference. */
unsigned torture_run(void);

/* The test groups. */
void run_alu_tests(void);      /* tests_alu.c */
void run_bits_tests(void);     /* tests_bits.c */
void run_misc_tests(void);     /* tests_misc.c */
void run_sse_tests(void);      /* sse.c */

#endif
