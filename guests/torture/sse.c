/*
 * SSE2 integer instructions and moves, and an FXSAVE/FXRSTOR round trip. The guest enables
 * SSE first (CR0.EM=0, CR0.MP=1, CR4.OSFXSR, CR4.OSXMMEXCPT: SDM vol. 3, 13.1.3).
 *
 * Each binary operation runs register-register on xmm0/xmm1 and register-memory on
 * xmm2 (in 64-bit mode on xmm8/xmm13, which need REX). Results are stored and folded.
 */
#include "tests.h"

#define N_SSE (N_ITER / 2)

static uint32_t va[4] __attribute__((aligned(16)));
static uint32_t vb[4] __attribute__((aligned(16)));
static uint32_t vo[8] __attribute__((aligned(16)));
static uint8_t unaligned[64] __attribute__((aligned(16)));

/* Words biased to 0, -1, the sign bit, 0x7fffffff..., so bytes and words hit the
   saturation and comparison edges. */
static void fill(uint32_t *v) {
    for (int i = 0; i < 4; i++) v[i] = (uint32_t)pick(32);
}

#ifdef __x86_64__
#define XR "%%xmm8"  /* register-memory forms use registers that need REX */
#define XS "%%xmm13"
#else
#define XR "%%xmm2"
#define XS "%%xmm3"
#endif
#define XMM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3"
#ifdef __x86_64__
#define XMM_CLOBBERS64 , "xmm8", "xmm13"
#else
#define XMM_CLOBBERS64
#endif

#define SSE_BIN(fn, INSN)                                                                      \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_SSE; i++) {                                                      \
            fill(va), fill(vb);                                                                \
            __asm__ volatile("movdqa (%[a]), %%xmm0\n\tmovdqa (%[b]), %%xmm1\n\t"              \
                             INSN " %%xmm1, %%xmm0\n\tmovdqa %%xmm0, (%[o])\n\t"              \
                             "movdqa (%[a]), " XR "\n\t"                                       \
                             INSN " (%[b]), " XR "\n\tmovdqa " XR ", 16(%[o])"                \
                             : : [a] "r"(va), [b] "r"(vb), [o] "r"(vo)                          \
                             : "memory", XMM_CLOBBERS XMM_CLOBBERS64);                          \
            fold_bytes(vo, 32);                                                                \
        }                                                                                      \
    }

#define SSE_IMM(fn, INSN)                                                                      \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_SSE; i++) {                                                      \
            fill(va);                                                                          \
            __asm__ volatile("movdqa (%[a]), " XS "\n\t" INSN ", " XS "\n\t"                  \
                             "movdqa " XS ", (%[o])"                                           \
                             : : [a] "r"(va), [o] "r"(vo) : "memory", XMM_CLOBBERS XMM_CLOBBERS64); \
            fold_bytes(vo, 16);                                                                \
        }                                                                                      \
    }

SSE_BIN(paddb_, "paddb") SSE_BIN(paddw_, "paddw") SSE_BIN(paddd_, "paddd") SSE_BIN(paddq_, "paddq")
SSE_BIN(psubb_, "psubb") SSE_BIN(psubw_, "psubw") SSE_BIN(psubd_, "psubd") SSE_BIN(psubq_, "psubq")
SSE_BIN(paddsb_, "paddsb") SSE_BIN(paddsw_, "paddsw") SSE_BIN(paddusb_, "paddusb") SSE_BIN(paddusw_, "paddusw")
SSE_BIN(psubsb_, "psubsb") SSE_BIN(psubsw_, "psubsw") SSE_BIN(psubusb_, "psubusb") SSE_BIN(psubusw_, "psubusw")
SSE_BIN(pand_, "pand") SSE_BIN(pandn_, "pandn") SSE_BIN(por_, "por") SSE_BIN(pxor_, "pxor")
SSE_BIN(pcmpeqb_, "pcmpeqb") SSE_BIN(pcmpeqw_, "pcmpeqw") SSE_BIN(pcmpeqd_, "pcmpeqd")
SSE_BIN(pcmpgtb_, "pcmpgtb") SSE_BIN(pcmpgtw_, "pcmpgtw") SSE_BIN(pcmpgtd_, "pcmpgtd")
SSE_BIN(pmullw_, "pmullw") SSE_BIN(pmulhw_, "pmulhw") SSE_BIN(pmulhuw_, "pmulhuw")
SSE_BIN(pmuludq_, "pmuludq") SSE_BIN(pmaddwd_, "pmaddwd")
SSE_BIN(pmaxub_, "pmaxub") SSE_BIN(pminub_, "pminub") SSE_BIN(pmaxsw_, "pmaxsw") SSE_BIN(pminsw_, "pminsw")
SSE_BIN(pavgb_, "pavgb") SSE_BIN(pavgw_, "pavgw") SSE_BIN(psadbw_, "psadbw")
SSE_BIN(packsswb_, "packsswb") SSE_BIN(packssdw_, "packssdw") SSE_BIN(packuswb_, "packuswb")
SSE_BIN(punpcklbw_, "punpcklbw") SSE_BIN(punpcklwd_, "punpcklwd") SSE_BIN(punpckldq_, "punpckldq")
SSE_BIN(punpcklqdq_, "punpcklqdq") SSE_BIN(punpckhbw_, "punpckhbw") SSE_BIN(punpckhwd_, "punpckhwd")
SSE_BIN(punpckhdq_, "punpckhdq") SSE_BIN(punpckhqdq_, "punpckhqdq")

/* Shifts by an XMM count: the count is the whole low quadword, so keep it small most of
   the time (a count at or above the element width zeroes, or sign-fills for PSRA). */
#define SSE_SHIFT(fn, INSN)                                                                    \
    static void fn(void) {                                                                     \
        for (int i = 0; i < N_SSE; i++) {                                                      \
            uint32_t r = rnd32();                                                              \
            fill(va), fill(vb);                                                                \
            if (r & 3) vb[0] = (r >> 8) % 70, vb[1] = 0;                                       \
            __asm__ volatile("movdqa (%[a]), %%xmm0\n\tmovdqa (%[b]), %%xmm1\n\t"              \
                             INSN " %%xmm1, %%xmm0\n\tmovdqa %%xmm0, (%[o])\n\t"              \
                             "movdqa (%[a]), " XR "\n\t"                                       \
                             INSN " (%[b]), " XR "\n\tmovdqa " XR ", 16(%[o])"                \
                             : : [a] "r"(va), [b] "r"(vb), [o] "r"(vo)                          \
                             : "memory", XMM_CLOBBERS XMM_CLOBBERS64);                          \
            fold_bytes(vo, 32);                                                                \
        }                                                                                      \
    }
SSE_SHIFT(psllw_, "psllw") SSE_SHIFT(pslld_, "pslld") SSE_SHIFT(psllq_, "psllq")
SSE_SHIFT(psrlw_, "psrlw") SSE_SHIFT(psrld_, "psrld") SSE_SHIFT(psrlq_, "psrlq")
SSE_SHIFT(psraw_, "psraw") SSE_SHIFT(psrad_, "psrad")

static void shift_imm_(void) {
    for (int i = 0; i < N_SSE; i++) {
        fill(va);
#define SI1(INSN)                                                                              \
        __asm__ volatile("movdqa (%[a]), " XS "\n\t" INSN ", " XS "\n\tmovdqa " XS ", (%[o])"  \
                         : : [a] "r"(va), [o] "r"(vo) : "memory", XMM_CLOBBERS XMM_CLOBBERS64); \
        fold_bytes(vo, 16);
        SI1("psllw $3") SI1("psllw $17") SI1("pslld $5") SI1("pslld $33") SI1("psllq $7")
        SI1("psllq $64") SI1("psrlw $9") SI1("psrld $31") SI1("psrlq $40") SI1("psraw $4")
        SI1("psraw $16") SI1("psrad $31") SI1("psrad $200") SI1("pslldq $3") SI1("pslldq $17")
        SI1("psrldq $5") SI1("psrldq $15")
#undef SI1
    }
}

SSE_IMM(pshufd1_, "pshufd $0x1b, (%[a])")
SSE_IMM(pshufd2_, "pshufd $0xd8, " XS)
SSE_IMM(pshuflw_, "pshuflw $0x72, " XS)
SSE_IMM(pshufhw_, "pshufhw $0x9c, (%[a])")

/* Moves between XMM, GPRs and memory, including the zeroing of the upper lanes by
   MOVD/MOVQ loads, unaligned MOVDQU, PMOVMSKB, PEXTRW/PINSRW. */
static void moves_(void) {
    for (int i = 0; i < N_SSE; i++) {
        uint32_t r = rnd32();
        word g = (word)rnd64(), gp = g, gm = g, ge = g;
        unsigned off = 1 + r % 15;
        fill(va), fill(vb);
        for (int k = 0; k < 64; k += 4) {
            uint32_t v = rnd32();
            memcpy(unaligned + k, &v, 4);
        }
        __asm__ volatile("movdqa (%[b]), %%xmm0\n\t"
                         "movd %k[g], %%xmm0\n\t"                 /* zeroes bits 127:32 */
                         "movdqa %%xmm0, (%[o])\n\t"
                         "movdqa (%[b]), %%xmm1\n\t"
                         "movq (%[a]), %%xmm1\n\t"                 /* zeroes bits 127:64 */
                         "movdqa %%xmm1, 16(%[o])\n\t"
                         "movdqu (%[u]), %%xmm2\n\t"
                         "movdqu %%xmm2, 32(%[u])\n\t"
                         "movq (%[b]), %%xmm3\n\t"
                         "movq %%xmm2, %%xmm3\n\t"                 /* F3 0F 7E: zeroes 127:64 */
                         "movq %%xmm3, 8(%[u])\n\t"
                         "movd %%xmm2, %k[gp]\n\t"
                         "pmovmskb %%xmm2, %k[gm]\n\t"
                         "pextrw $5, %%xmm2, %k[ge]\n\t"
                         "pinsrw $3, %k[g], %%xmm2\n\t"
                         "movntdq %%xmm2, 32(%[o])"
                         : [gp] "+r"(gp), [gm] "+r"(gm), [ge] "+r"(ge)
                         : [g] "r"(g), [a] "r"(va), [b] "r"(vb), [o] "r"(vo), [u] "r"(unaligned + off)
                         : "memory", XMM_CLOBBERS);
        fold_bytes(vo, 32), fold_bytes(unaligned, 64), fold(gp), fold(gm), fold(ge);
#ifdef __x86_64__
        word q = g;
        __asm__ volatile("movq %[q], %%xmm9\n\tpaddq %%xmm9, %%xmm9\n\tmovq %%xmm9, %[q]"
                         : [q] "+r"(q) : : "xmm9");
        fold(q);
#endif
    }
}

/* FXSAVE/FXRSTOR: the XMM registers and MXCSR survive a save, clobber, restore. Only those
   fields are compared: the x87 parts of the image differ between implementations. */
static uint8_t fx1[512] __attribute__((aligned(16)));
static uint8_t fx2[512] __attribute__((aligned(16)));
static uint32_t pattern[16 * 4] __attribute__((aligned(16)));
#ifdef __x86_64__
#define N_XMM 16
#else
#define N_XMM 8
#endif

static void fxsave_(void) {
    for (int i = 0; i < N_SSE / 8; i++) {
        for (int k = 0; k < 16 * 4; k++) pattern[k] = rnd32();
        uint32_t mxcsr = 0x1F80 ^ ((rnd32() & 3) << 13), mx_back = 0, zero_mx = 0x1F80;
        __asm__ volatile("ldmxcsr %[m]\n\t"
#define LD(n) "movdqa " #n "*16(%[p]), %%xmm" #n "\n\t"
                         LD(0) LD(1) LD(2) LD(3) LD(4) LD(5) LD(6) LD(7)
#ifdef __x86_64__
                         LD(8) LD(9) LD(10) LD(11) LD(12) LD(13) LD(14) LD(15)
#endif
#undef LD
                         "fxsave (%[f1])\n\t"
                         "pxor %%xmm0, %%xmm0\n\tpcmpeqb %%xmm5, %%xmm5\n\tpxor %%xmm7, %%xmm7\n\t"
#ifdef __x86_64__
                         "pxor %%xmm15, %%xmm15\n\t"
#endif
                         "ldmxcsr %[z]\n\t"
                         "fxrstor (%[f1])\n\t"
                         "fxsave (%[f2])\n\t"
                         "stmxcsr %[mb]"
                         : [mb] "=m"(mx_back)
                         : [m] "m"(mxcsr), [z] "m"(zero_mx), [p] "r"(pattern), [f1] "r"(fx1), [f2] "r"(fx2)
                         : "memory", XMM_CLOBBERS, "xmm4", "xmm5", "xmm6", "xmm7"
#ifdef __x86_64__
                         , "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"
#endif
        );
        /* XMM images start at byte 160, MXCSR at byte 24 (SDM vol. 1, table 10-2). */
        fold_bytes(fx2 + 160, 16 * N_XMM), fold(*(uint32_t *)(fx2 + 24)), fold(mx_back);
        fold(memcmp(fx2 + 160, pattern, 16 * N_XMM) == 0), fold(memcmp(fx1 + 160, fx2 + 160, 16 * N_XMM) == 0);
        __asm__ volatile("ldmxcsr %[z]" : : [z] "m"(zero_mx));
    }
}

void run_sse_tests(void) {
    RUN_LINE("sse add", {"b", paddb_}, {"w", paddw_}, {"d", paddd_}, {"q", paddq_});
    RUN_LINE("sse sub", {"b", psubb_}, {"w", psubw_}, {"d", psubd_}, {"q", psubq_});
    RUN_LINE("sse adds", {"sb", paddsb_}, {"sw", paddsw_}, {"usb", paddusb_}, {"usw", paddusw_});
    RUN_LINE("sse subs", {"sb", psubsb_}, {"sw", psubsw_}, {"usb", psubusb_}, {"usw", psubusw_});
    RUN_LINE("sse logic", {"and", pand_}, {"andn", pandn_}, {"or", por_}, {"xor", pxor_});
    RUN_LINE("sse cmpeq", {"b", pcmpeqb_}, {"w", pcmpeqw_}, {"d", pcmpeqd_});
    RUN_LINE("sse cmpgt", {"b", pcmpgtb_}, {"w", pcmpgtw_}, {"d", pcmpgtd_});
    RUN_LINE("sse mul", {"lw", pmullw_}, {"hw", pmulhw_}, {"huw", pmulhuw_}, {"udq", pmuludq_},
             {"addwd", pmaddwd_});
    RUN_LINE("sse minmax", {"maxub", pmaxub_}, {"minub", pminub_}, {"maxsw", pmaxsw_},
             {"minsw", pminsw_});
    RUN_LINE("sse avg", {"b", pavgb_}, {"w", pavgw_}, {"sadbw", psadbw_});
    RUN_LINE("sse pack", {"sswb", packsswb_}, {"ssdw", packssdw_}, {"uswb", packuswb_});
    RUN_LINE("sse unpckl", {"bw", punpcklbw_}, {"wd", punpcklwd_}, {"dq", punpckldq_}, {"qdq", punpcklqdq_});
    RUN_LINE("sse unpckh", {"bw", punpckhbw_}, {"wd", punpckhwd_}, {"dq", punpckhdq_}, {"qdq", punpckhqdq_});
    RUN_LINE("sse sll", {"w", psllw_}, {"d", pslld_}, {"q", psllq_});
    RUN_LINE("sse srl", {"w", psrlw_}, {"d", psrld_}, {"q", psrlq_});
    RUN_LINE("sse sra", {"w", psraw_}, {"d", psrad_}, {"imm", shift_imm_});
    RUN_LINE("sse shuf", {"d1", pshufd1_}, {"d2", pshufd2_}, {"lw", pshuflw_}, {"hw", pshufhw_});
    RUN_LINE("sse moves", {"all", moves_}, {"fxsave", fxsave_});
}
