// Model-specific registers (SDM vol. 4): the ones a kernel touches; any other MSR raises
// #GP(0), as hardware does (QEMU TCG returns 0 for unknown reads: it is not the reference here).
import type { Cpu } from './cpu';
import { fault } from './fault';
import { flushTlb } from './mmu';
import { CR0_PG, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, FS, GS, GP } from './regs';

export const IA32_TSC = 0x10, IA32_APIC_BASE = 0x1b, IA32_FEATURE_CONTROL = 0x3a, IA32_TSC_ADJUST = 0x3b,
  IA32_BIOS_SIGN_ID = 0x8b, IA32_MTRRCAP = 0xfe, IA32_SYSENTER_CS = 0x174, IA32_SYSENTER_ESP = 0x175, IA32_SYSENTER_EIP = 0x176,
  IA32_MCG_CAP = 0x179, IA32_MCG_STATUS = 0x17a, IA32_MISC_ENABLE = 0x1a0, IA32_PAT = 0x277, IA32_MTRR_DEF_TYPE = 0x2ff,
  IA32_TSC_DEADLINE = 0x6e0, IA32_EFER = 0xc0000080, IA32_STAR = 0xc0000081, IA32_LSTAR = 0xc0000082, IA32_CSTAR = 0xc0000083,
  IA32_FMASK = 0xc0000084, IA32_FS_BASE = 0xc0000100, IA32_GS_BASE = 0xc0000101, IA32_KERNEL_GS_BASE = 0xc0000102,
  IA32_TSC_AUX = 0xc0000103;

const TWO32 = 4294967296;

/** MSRs kept in Cpu.msrs as plain storage, with their reset values. */
const STORED: Record<number, [number, number]> = {
  [IA32_FEATURE_CONTROL]: [1, 0], // locked, VMX off (as QEMU's firmware leaves it)
  [IA32_BIOS_SIGN_ID]: [0, 0],
  [IA32_SYSENTER_CS]: [0, 0], [IA32_SYSENTER_ESP]: [0, 0], [IA32_SYSENTER_EIP]: [0, 0],
  [IA32_MCG_STATUS]: [0, 0],
  [IA32_MISC_ENABLE]: [1, 0], // fast strings
  [IA32_PAT]: [0x00070406, 0x00070406], // power-on PAT (SDM vol. 3, 13.12.4)
  [IA32_MTRR_DEF_TYPE]: [0, 0],
  [IA32_TSC_DEADLINE]: [0, 0],
  [IA32_STAR]: [0, 0], [IA32_LSTAR]: [0, 0], [IA32_CSTAR]: [0, 0], [IA32_FMASK]: [0, 0],
  [IA32_TSC_AUX]: [0, 0],
};

function isMtrr(msr: number): boolean {
  return (msr >= 0x200 && msr <= 0x20f) || msr === 0x250 || msr === 0x258 || msr === 0x259 || (msr >= 0x268 && msr <= 0x26f);
}

/**
 * A host (the VM) that owns MSRs of its own: the local APIC's (IA32_APIC_BASE, x2APIC
 * 0x800-0x8FF, IA32_TSC_DEADLINE). null = not one of its MSRs; '#GP' = it faults.
 */
export interface MsrHost {
  msrRead?(c: Cpu, msr: number): [number, number] | '#GP' | null;
  msrWrite?(c: Cpu, msr: number, lo: number, hi: number): 'ok' | '#GP' | null;
}

export function rdmsr(c: Cpu, msr: number): [number, number] {
  msr >>>= 0;
  if (c.host.vmExit) c.host.vmExit(c.index, 'RDMSR', { msr });
  const host = c.host as MsrHost;
  if (host.msrRead) {
    const r = host.msrRead(c, msr);
    if (r === '#GP') fault(GP, 0);
    if (r) return r;
  }
  switch (msr) {
    case IA32_TSC: { const t = c.tsc(); return [t % TWO32 | 0, Math.floor(t / TWO32) | 0]; }
    case IA32_EFER: return [c.efer, 0];
    case IA32_FS_BASE: return split(c.segBase[FS]);
    case IA32_GS_BASE: return split(c.segBase[GS]);
    case IA32_KERNEL_GS_BASE: return split(c.kernelGsBase);
    case IA32_MTRRCAP: return [0x508, 0]; // 8 variable ranges, fixed ranges, write-combining
    case IA32_MCG_CAP: return [0, 0];
    case IA32_APIC_BASE: return [c.apicBaseLo, 0];
  }
  if (msr in STORED || isMtrr(msr)) return c.msrs.get(msr) ?? STORED[msr] ?? [0, 0];
  fault(GP, 0);
}

export function wrmsr(c: Cpu, msr: number, lo: number, hi: number): void {
  msr >>>= 0;
  if (c.host.vmExit) c.host.vmExit(c.index, 'WRMSR', { msr, value: lo >>> 0, valueHigh: hi >>> 0 });
  const host = c.host as MsrHost;
  if (host.msrWrite) {
    const r = host.msrWrite(c, msr, lo, hi);
    if (r === '#GP') fault(GP, 0);
    if (r === 'ok') return;
  }
  switch (msr) {
    case IA32_TSC: c.tscOffset = (hi * TWO32 + (lo >>> 0)) - c.host.nowNs(); return;
    case IA32_EFER: return writeEfer(c, lo, hi);
    case IA32_FS_BASE: c.setSegmentBase(FS, canonicalOrGp(lo, hi)); return;
    case IA32_GS_BASE: c.setSegmentBase(GS, canonicalOrGp(lo, hi)); return;
    case IA32_KERNEL_GS_BASE: c.kernelGsBase = canonicalOrGp(lo, hi); return;
    case IA32_LSTAR: case IA32_CSTAR: case IA32_SYSENTER_EIP: case IA32_SYSENTER_ESP:
      canonicalOrGp(lo, hi); break;
    case IA32_PAT:
      // Each entry must be a valid memory type (0, 1, 4, 5, 6, 7).
      for (let k = 0; k < 8; k++) { const t = ((k < 4 ? lo : hi) >>> ((k & 3) * 8)) & 0xff; if (t === 2 || t === 3 || t > 7) fault(GP, 0); }
      break;
    case IA32_APIC_BASE: c.apicBaseLo = (lo & 0xfffff900) | (c.index === 0 ? 0x100 : 0); return;
    case IA32_MTRRCAP: case IA32_MCG_CAP: case IA32_BIOS_SIGN_ID: fault(GP, 0);
    case IA32_FEATURE_CONTROL: fault(GP, 0); // locked
  }
  if (msr in STORED || isMtrr(msr)) { c.msrs.set(msr, [lo | 0, hi | 0]); return; }
  fault(GP, 0);
}

function split(v: number): [number, number] {
  return [v % TWO32 | 0, Math.floor(v / TWO32) | 0];
}

function canonicalOrGp(lo: number, hi: number): number {
  if (hi >> 15 !== hi >> 31) fault(GP, 0);
  return hi * TWO32 + (lo >>> 0);
}

/** EFER: SCE, LME, NXE writable; LMA follows CR0.PG && LME (SDM vol. 3, 2.2.1 and 9.8.5). */
function writeEfer(c: Cpu, lo: number, hi: number): void {
  const writable = EFER_SCE | EFER_LME | EFER_NXE;
  if (hi !== 0 || (lo & ~(writable | EFER_LMA)) !== 0) fault(GP, 0);
  // LME cannot change while paging is enabled.
  if ((c.cr0 & CR0_PG) && ((lo ^ c.efer) & EFER_LME)) fault(GP, 0);
  const old = c.efer;
  c.efer = (lo & writable) | (c.efer & EFER_LMA);
  if ((old ^ c.efer) & EFER_NXE) flushTlb(c, true);
  c.updateMode();
}
