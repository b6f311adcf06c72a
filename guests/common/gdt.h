/*
 * Segment selectors of the GDT that common/multiboot.S loads. Shared by assembly (.S)
 * and C, so only #defines here. Every guest sees the same layout; guests that need a TSS
 * fill the TSS slot at run time (its base is split across the descriptor, SDM vol. 3
 * 3.4.5, which the linker cannot compute).
 */
#ifndef HYPERSTEP_GUEST_GDT_H
#define HYPERSTEP_GUEST_GDT_H

#define SEL_NULL     0x00
#define SEL_CODE32   0x08 /* flat 4 GiB code, DPL0, D=1 */
#define SEL_DATA32   0x10 /* flat 4 GiB data, DPL0, B=1 */
#define SEL_CODE64   0x18 /* long-mode code, DPL0, L=1 D=0 */
#define SEL_UCODE32  0x20 /* flat code, DPL3 */
#define SEL_UDATA32  0x28 /* flat data, DPL3 */
#define SEL_UCODE64  0x30 /* long-mode code, DPL3 */
#define SEL_CODE16   0x38 /* 16-bit code, base 0, limit 0xFFFF (for the way down to real mode) */
#define SEL_DATA16   0x40 /* 16-bit data, base 0, limit 0xFFFF */
#define SEL_TSS      0x48 /* TSS slot: 8 bytes in legacy mode, 16 bytes (0x48 + 0x50) in long mode */
#define SEL_SPARE0   0x58 /* 0x58..0x70: free for guests' own descriptors */
#define SEL_SPARE1   0x60
#define SEL_SPARE2   0x68
#define SEL_SPARE3   0x70
#define GDT_ENTRIES  15

/* Multiboot v1 (header magic, the value in EAX at entry, information flags). */
#define MB_HEADER_MAGIC   0x1BADB002
#define MB_BOOT_MAGIC     0x2BADB002
#define MB_INFO_MEMORY    0x001
#define MB_INFO_CMDLINE   0x004

/* Legacy ports every guest uses. */
#define COM1          0x3F8
#define DEBUG_EXIT    0xF4

#endif
