/*
 * torture: instruction-semantics torture test. Runs every test group in 32-bit protected
 * mode, then again in 64-bit long mode (with the 64-bit operand size added), and compares
 * each checksum with the value a real CPU produced (reference.h).
 *
 * This file is compiled twice: as the 32-bit guest_main and as the 64-bit main64.
 */
#include "harness.h"

#ifndef __x86_64__
int main64(void);

/* SSE needs CR0.EM=0, CR0.MP=1, CR4.OSFXSR (FXSAVE/FXRSTOR and SSE instructions) and
   CR4.OSXMMEXCPT (SDM vol. 3, 13.1.3). common/longmode.S sets the same for long mode. */
static void enable_sse(void) {
    unsigned long cr0, cr4;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    cr0 = (cr0 & ~4ul) | 2ul;
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 |= 0x600;
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
}

int guest_main(uint32_t magic, uint32_t info) {
    (void)magic, (void)info;
    enable_sse();
    con_printf("torture: integer and SSE2 instruction semantics, %u iterations per checksum\n", N_ITER);
    con_printf("torture: each checksum folds results and the flags the SDM defines\n");
    con_printf("torture: 32-bit protected mode\n");
    guest_mailbox[0] = torture_run();
    lm_enter(main64);
}
#else
int main64(void) {
    con_printf("torture: 64-bit long mode\n");
    unsigned bad = torture_run() + guest_mailbox[0];
    con_printf(bad ? "FAIL\n" : "PASS\n");
    return bad ? 1 : 0;
}
#endif
