// Local APIC register map and bit fields, named as the Intel SDM vol. 3 names them
// (chapter "Advanced Programmable Interrupt Controller (APIC)": table "Local APIC
// Register Address Map" for the xAPIC MMIO offsets, table "Local APIC Register Address
// Map Supported by x2APIC" for the MSRs). The x2APIC MSR of a register is
// 0x800 + (MMIO offset >> 4), except ICR (one 64-bit MSR 0x830) and SELF_IPI (0x83F).

// --- xAPIC MMIO offsets (relative to the 4 KiB page at IA32_APIC_BASE) ---
export const APIC_ID = 0x020;
export const APIC_VER = 0x030;
export const APIC_TPR = 0x080;
export const APIC_APR = 0x090;
export const APIC_PPR = 0x0a0;
export const APIC_EOI = 0x0b0;
export const APIC_RRD = 0x0c0;
export const APIC_LDR = 0x0d0;
export const APIC_DFR = 0x0e0;
export const APIC_SVR = 0x0f0;
/** ISR bits 31:0 at 0x100, ..., bits 255:224 at 0x170. */
export const APIC_ISR = 0x100;
export const APIC_TMR = 0x180;
export const APIC_IRR = 0x200;
export const APIC_ESR = 0x280;
export const APIC_LVT_CMCI = 0x2f0;
export const APIC_ICR_LOW = 0x300;
export const APIC_ICR_HIGH = 0x310;
export const APIC_LVT_TIMER = 0x320;
export const APIC_LVT_THERMAL = 0x330;
export const APIC_LVT_PERF = 0x340;
export const APIC_LVT_LINT0 = 0x350;
export const APIC_LVT_LINT1 = 0x360;
export const APIC_LVT_ERROR = 0x370;
export const APIC_TIMER_ICR = 0x380;
export const APIC_TIMER_CCR = 0x390;
export const APIC_TIMER_DCR = 0x3e0;
/** x2APIC only (MSR 0x83F); reserved in the xAPIC page. */
export const APIC_SELF_IPI = 0x3f0;

// --- MSRs ---
export const MSR_IA32_APIC_BASE = 0x1b;
export const MSR_IA32_TSC_DEADLINE = 0x6e0;
/** MSRs 0x800-0xBFF are the x2APIC range; any not in the table raises #GP (SDM "x2APIC Register Address Space"). */
export const X2APIC_MSR_FIRST = 0x800;
export const X2APIC_MSR_LAST = 0xbff;
export const X2APIC_MSR_ICR = 0x830;
export const X2APIC_MSR_SELF_IPI = 0x83f;
export const x2apicMsrOf = (mmioOffset: number): number => X2APIC_MSR_FIRST + (mmioOffset >> 4);
export const isX2apicMsr = (msr: number): boolean => msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST;

// --- IA32_APIC_BASE (SDM "Enabling or Disabling the Local APIC", figure "IA32_APIC_BASE MSR Supporting x2APIC") ---
export const APIC_BASE_BSP = 1 << 8;
export const APIC_BASE_EXTD = 1 << 10;
export const APIC_BASE_EN = 1 << 11;
export const APIC_BASE_DEFAULT = 0xfee00000;

// --- Version register: version 0x14 (integrated xAPIC, what QEMU 7.2 reports), max LVT entry in 23:16 ---
export const APIC_VERSION = 0x14;
/** VER without CMCI: 6 LVT entries (timer, thermal, perf, LINT0, LINT1, error), as QEMU 7.2 reports. */
export const APIC_VER_VALUE = 0x00050014;
/** VER with the LVT CMCI register: 7 LVT entries. */
export const APIC_VER_VALUE_CMCI = 0x00060014;

// --- Spurious-interrupt vector register ---
export const SVR_VECTOR = 0xff;
export const SVR_ENABLE = 1 << 8;
/** Focus processor checking: not supported on Pentium 4 and later (reads 0); tolerated in x2APIC writes. */
export const SVR_FOCUS_DISABLE = 1 << 9;
/** Bits a write stores (vector, software enable), as QEMU 7.2 and version-0x14 parts. */
export const SVR_WRITABLE = 0x1ff;

// --- LVT fields (SDM figure "Local Vector Table (LVT)") ---
export const LVT_VECTOR = 0xff;
export const LVT_DELIVERY_MODE_SHIFT = 8;
export const LVT_DELIVERY_STATUS = 1 << 12;
export const LVT_POLARITY_LOW = 1 << 13;
export const LVT_REMOTE_IRR = 1 << 14;
export const LVT_TRIGGER_LEVEL = 1 << 15;
export const LVT_MASKED = 1 << 16;
export const LVT_TIMER_MODE_SHIFT = 17;
export const LVT_TIMER_MODE_MASK = 3 << 17;

/** LVT delivery modes (bits 10:8). */
export const DM_FIXED = 0;
export const DM_LOWEST = 1;
export const DM_SMI = 2;
export const DM_NMI = 4;
export const DM_INIT = 5;
export const DM_STARTUP = 6;
export const DM_EXTINT = 7;

/** Index of each LVT entry in LocalApic.lvt. */
export const LVT_CMCI = 0, LVT_TIMER = 1, LVT_THERMAL = 2, LVT_PERF = 3, LVT_LINT0 = 4, LVT_LINT1 = 5, LVT_ERROR = 6;
export const LVT_COUNT = 7;
export const LVT_NAMES = ['LVT_CMCI', 'LVT_TIMER', 'LVT_THERMAL', 'LVT_PERF', 'LVT_LINT0', 'LVT_LINT1', 'LVT_ERROR'] as const;
/** MMIO offset of each LVT entry, by index. */
export const LVT_OFFSETS = [APIC_LVT_CMCI, APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PERF, APIC_LVT_LINT0, APIC_LVT_LINT1, APIC_LVT_ERROR];
/**
 * Bits software can change in each LVT entry. Delivery status and remote IRR are
 * read-only; the timer has no delivery mode; bit 18 (TSC-deadline) exists because
 * our CPUID advertises TSC-deadline.
 */
export const LVT_WRITABLE = [
  0x000107ff, // CMCI: vector, delivery mode, mask
  0x000700ff, // timer: vector, mask, timer mode 18:17
  0x000107ff, // thermal
  0x000107ff, // performance counters
  0x0001a7ff, // LINT0: vector, delivery mode, polarity, trigger, mask
  0x0001a7ff, // LINT1
  0x000100ff, // error: vector, mask
];
/** Bits that are not reserved (writable or read-only): in x2APIC mode a 1 anywhere else raises #GP. */
export const LVT_DEFINED = LVT_WRITABLE.map((w, i) => w | LVT_DELIVERY_STATUS | (i === LVT_LINT0 || i === LVT_LINT1 ? LVT_REMOTE_IRR : 0));

export const TIMER_ONE_SHOT = 0;
export const TIMER_PERIODIC = 1;
export const TIMER_TSC_DEADLINE = 2;

/** Divide configuration: bits 0, 1 and 3 (SDM figure "Divide Configuration Register"). */
export const DCR_WRITABLE = 0xb;
/** Divisor for a DCR value: 000 -> 2, 001 -> 4, ..., 110 -> 128, 111 -> 1. */
export function timerDivisor(dcr: number): number {
  const v = (dcr & 3) | ((dcr >> 1) & 4);
  return v === 7 ? 1 : 2 << v;
}

// --- Error status register bits (SDM figure "Error Status Register (ESR)") ---
export const ESR_SEND_CHECKSUM = 1 << 0;
export const ESR_RECEIVE_CHECKSUM = 1 << 1;
export const ESR_SEND_ACCEPT = 1 << 2;
export const ESR_RECEIVE_ACCEPT = 1 << 3;
export const ESR_REDIRECTABLE_IPI = 1 << 4;
export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
export const ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
export const ESR_ILLEGAL_REGISTER = 1 << 7;

// --- Interrupt command register (SDM figure "Interrupt Command Register (ICR)") ---
export const ICR_VECTOR = 0xff;
export const ICR_DELIVERY_MODE_SHIFT = 8;
export const ICR_DEST_LOGICAL = 1 << 11;
export const ICR_DELIVERY_STATUS = 1 << 12;
export const ICR_LEVEL_ASSERT = 1 << 14;
export const ICR_TRIGGER_LEVEL = 1 << 15;
export const ICR_SHORTHAND_SHIFT = 18;
/** Bits of the low half software writes: vector, delivery mode, destination mode, level, trigger, shorthand. */
export const ICR_LOW_WRITABLE = 0x000ccfff;
/** xAPIC: destination in bits 63:56. */
export const ICR_HIGH_WRITABLE = 0xff000000;

// --- Other masks ---
export const TPR_WRITABLE = 0xff;
export const LDR_WRITABLE = 0xff000000;
/** DFR: model in bits 31:28, bits 27:0 read as ones. */
export const DFR_MODEL_MASK = 0xf0000000;
export const DFR_RESERVED_ONES = 0x0fffffff;
export const DFR_FLAT = 0xffffffff;

/** Register name by MMIO offset >> 4, for events and the debugger; undefined = reserved. */
export const REGISTER_NAMES: (string | undefined)[] = (() => {
  const n: (string | undefined)[] = new Array(256).fill(undefined);
  const put = (off: number, name: string) => { n[off >> 4] = name; };
  put(APIC_ID, 'ID'); put(APIC_VER, 'VER'); put(APIC_TPR, 'TPR'); put(APIC_APR, 'APR'); put(APIC_PPR, 'PPR');
  put(APIC_EOI, 'EOI'); put(APIC_RRD, 'RRD'); put(APIC_LDR, 'LDR'); put(APIC_DFR, 'DFR'); put(APIC_SVR, 'SVR');
  for (let i = 0; i < 8; i++) {
    put(APIC_ISR + i * 16, `ISR${i}`); put(APIC_TMR + i * 16, `TMR${i}`); put(APIC_IRR + i * 16, `IRR${i}`);
  }
  put(APIC_ESR, 'ESR'); put(APIC_ICR_LOW, 'ICR_LOW'); put(APIC_ICR_HIGH, 'ICR_HIGH');
  LVT_OFFSETS.forEach((off, i) => put(off, LVT_NAMES[i]));
  put(APIC_TIMER_ICR, 'TIMER_ICR'); put(APIC_TIMER_CCR, 'TIMER_CCR'); put(APIC_TIMER_DCR, 'TIMER_DCR');
  put(APIC_SELF_IPI, 'SELF_IPI');
  return n;
})();
