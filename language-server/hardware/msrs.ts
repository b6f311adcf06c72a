// Model-specific registers by number. The names Hyperstep implements come from the core
// (core/cpu/msr.ts, core/apic/registers.ts: the same constants its RDMSR/WRMSR use); the
// x2APIC range maps onto the local APIC registers (apic.ts). A few architectural MSRs the
// core does not implement are named here so that hover still says what they are.
import * as coreMsrs from '../../core/cpu/msr';
import { hex } from '../documents/numbers';
import { apicRegisterOfMsr, describeApicRegister } from './apic';

const WHAT: Record<string, string> = {
  IA32_TSC: 'time-stamp counter',
  IA32_APIC_BASE: 'local APIC base: BSP flag (bit 8), x2APIC enable EXTD (bit 10), APIC global enable EN (bit 11), base address in bits 35:12 (SDM vol. 3, 11.4.4)',
  IA32_FEATURE_CONTROL: 'feature control: lock (bit 0), VMX inside/outside SMX (bits 1, 2)',
  IA32_TSC_ADJUST: 'TSC adjust',
  IA32_BIOS_SIGN_ID: 'microcode update signature',
  IA32_MTRRCAP: 'MTRR capabilities',
  IA32_SYSENTER_CS: 'SYSENTER code segment', IA32_SYSENTER_ESP: 'SYSENTER stack pointer', IA32_SYSENTER_EIP: 'SYSENTER entry point',
  IA32_MCG_CAP: 'machine-check capabilities', IA32_MCG_STATUS: 'machine-check status',
  IA32_MISC_ENABLE: 'miscellaneous feature enables (fast strings, ...)',
  IA32_PAT: 'page attribute table: eight memory types for the PAT/PCD/PWT index of a page',
  IA32_MTRR_DEF_TYPE: 'default memory type and MTRR enables',
  IA32_TSC_DEADLINE: 'TSC deadline: with LVT timer in TSC-deadline mode, the timer fires when the TSC reaches this value (SDM vol. 3, 11.5.4.1)',
  IA32_EFER: 'extended feature enables: SCE (bit 0), LME (bit 8), LMA (bit 10, read-only), NXE (bit 11) (SDM vol. 3, 2.2.1)',
  IA32_STAR: 'SYSCALL/SYSRET segment selectors', IA32_LSTAR: 'SYSCALL entry point (64-bit mode)', IA32_CSTAR: 'SYSCALL entry point (compatibility mode)',
  IA32_FMASK: 'SYSCALL RFLAGS mask', IA32_FS_BASE: 'FS base address', IA32_GS_BASE: 'GS base address', IA32_KERNEL_GS_BASE: 'GS base SWAPGS exchanges with',
  IA32_TSC_AUX: 'auxiliary TSC value (RDTSCP, RDPID)',
};

/** Architectural MSRs the core does not implement (RDMSR/WRMSR there raise #GP on Hyperstep). */
const NOT_MODELLED: Record<number, [string, string]> = {
  0x48: ['IA32_SPEC_CTRL', 'speculation control'], 0x49: ['IA32_PRED_CMD', 'prediction command'],
  0x9b: ['IA32_SMM_MONITOR_CTL', 'SMM monitor control'], 0xe7: ['IA32_MPERF', 'maximum-performance frequency clock count'],
  0xe8: ['IA32_APERF', 'actual-performance frequency clock count'], 0x480: ['IA32_VMX_BASIC', 'VMX basic capabilities'],
  0xda0: ['IA32_XSS', 'supervisor state components for XSAVES'],
};

export interface MsrInfo {
  msr: number;
  name: string;
  what: string;
  /** Hyperstep's core implements it. */
  modelled: boolean;
}

let table: Map<number, MsrInfo> | undefined;

function build(): Map<number, MsrInfo> {
  const t = new Map<number, MsrInfo>();
  for (const [name, value] of Object.entries(coreMsrs)) {
    if (!name.startsWith('IA32_') || typeof value !== 'number') continue;
    const msr = value >>> 0;
    t.set(msr, { msr, name, what: WHAT[name] ?? name, modelled: true });
  }
  for (let k = 0; k < 8; k++) {
    t.set(0x200 + 2 * k, { msr: 0x200 + 2 * k, name: `IA32_MTRR_PHYSBASE${k}`, what: `variable-range MTRR ${k} base and type`, modelled: true });
    t.set(0x201 + 2 * k, { msr: 0x201 + 2 * k, name: `IA32_MTRR_PHYSMASK${k}`, what: `variable-range MTRR ${k} mask and valid bit`, modelled: true });
  }
  for (const [msr, [name, what]] of Object.entries(NOT_MODELLED)) t.set(Number(msr), { msr: Number(msr), name, what, modelled: false });
  return t;
}

/** What an MSR number is, or undefined if we do not know it. */
export function msrInfo(msr: number): MsrInfo | undefined {
  table ??= build();
  const known = table.get(msr >>> 0);
  if (known) return known;
  const reg = apicRegisterOfMsr(msr);
  if (reg) return { msr, name: `x2APIC ${reg.name === 'ICR_LOW' ? 'ICR' : reg.name}`, what: reg.name === 'ICR_LOW' ? 'interrupt command register (64 bits: destination in 63:32); writing it sends the IPI' : reg.what, modelled: true };
  if (msr >= 0x800 && msr <= 0xbff) return { msr, name: 'x2APIC (reserved)', what: 'an MSR of the x2APIC range with no register: RDMSR/WRMSR raise #GP', modelled: true };
  return undefined;
}

/** Every named MSR, for completion. */
export function allMsrs(): MsrInfo[] {
  table ??= build();
  const out = [...table.values()];
  for (let msr = 0x800; msr <= 0x83f; msr++) {
    const i = msrInfo(msr);
    if (i && i.name !== 'x2APIC (reserved)') out.push(i);
  }
  return out;
}

export function describeMsr(msr: number): string {
  const i = msrInfo(msr);
  if (!i) return `**MSR ${hex(msr)}**: not an MSR Hyperstep knows (RDMSR/WRMSR raise #GP).`;
  const reg = apicRegisterOfMsr(msr);
  const head = `**MSR ${hex(msr)}: ${i.name}**`;
  if (reg) return `${head}\n\n${reg.name === 'ICR_LOW' ? 'x2APIC interrupt command register: 64 bits, destination in 63:32 (EDX); WRMSR sends the IPI (SDM vol. 3, 11.12.9).' : describeApicRegister(reg)}`;
  return `${head}\n\n${i.what}.${i.modelled ? '' : ' Not modelled by Hyperstep: RDMSR/WRMSR raise #GP.'}`;
}
