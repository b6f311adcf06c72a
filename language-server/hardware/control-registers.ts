// CR0, CR4 and EFER bits by name. Bit positions come from the core (core/cpu/regs.ts,
// the constants the emulated CPU tests); the meanings are ours after the SDM vol. 3, 2.5
// "Control Registers" and 2.2.1 "Extended Feature Enable Register".
import * as regs from '../../core/cpu/regs';

export type BitRegister = 'CR0' | 'CR4' | 'EFER';

const MEANING: Record<string, string> = {
  CR0_PE: 'protection enable', CR0_MP: 'monitor coprocessor', CR0_EM: 'x87 emulation (FPU instructions raise #NM)', CR0_TS: 'task switched (lazy FPU)',
  CR0_ET: 'extension type (always 1)', CR0_NE: 'native x87 error reporting', CR0_WP: 'write protect: supervisor writes honour read-only pages',
  CR0_AM: 'alignment mask', CR0_NW: 'not write-through', CR0_CD: 'cache disable', CR0_PG: 'paging',
  CR4_VME: 'virtual-8086 mode extensions', CR4_PVI: 'protected-mode virtual interrupts', CR4_TSD: 'time stamp disable (RDTSC privileged)',
  CR4_DE: 'debugging extensions', CR4_PSE: 'page size extensions (4 MiB pages)', CR4_PAE: 'physical address extension (required for long mode)',
  CR4_MCE: 'machine-check enable', CR4_PGE: 'global pages', CR4_PCE: 'performance counters readable at any CPL',
  CR4_OSFXSR: 'OS supports FXSAVE/FXRSTOR (enables SSE)', CR4_OSXMMEXCPT: 'OS handles SIMD floating-point exceptions (#XM)',
  CR4_UMIP: 'user-mode instruction prevention', CR4_FSGSBASE: 'RDFSBASE/WRFSBASE family enabled', CR4_PCIDE: 'process-context identifiers',
  CR4_OSXSAVE: 'XSAVE and XGETBV/XSETBV enabled', CR4_SMEP: 'supervisor-mode execution prevention', CR4_SMAP: 'supervisor-mode access prevention',
  EFER_SCE: 'SYSCALL enable', EFER_LME: 'long mode enable (IA-32e mode becomes active when paging is turned on)',
  EFER_LMA: 'long mode active (read-only)', EFER_NXE: 'no-execute enable',
};

/** Extra bits the core does not name (it does not implement them), by register. */
const OTHER: Record<BitRegister, [number, string, string][]> = {
  CR0: [],
  CR4: [[13, 'VMXE', 'VMX enable'], [14, 'SMXE', 'SMX enable'], [22, 'PKE', 'protection keys'], [23, 'CET', 'control-flow enforcement'], [12, 'LA57', '5-level paging']],
  EFER: [[12, 'SVME', 'SVM enable (AMD)'], [13, 'LMSLE', 'long mode segment limit enable (AMD)'], [14, 'FFXSR', 'fast FXSAVE/FXRSTOR (AMD)']],
};

export interface BitName {
  bit: number;
  name: string;
  meaning: string;
}

function bitsOf(reg: BitRegister): BitName[] {
  const prefix = reg + '_';
  const out: BitName[] = [];
  for (const [name, value] of Object.entries(regs)) {
    if (!name.startsWith(prefix) || typeof value !== 'number' || value === 0) continue;
    const bit = 31 - Math.clz32(value >>> 0);
    if ((value >>> 0) !== (1 << bit) >>> 0) continue;
    out.push({ bit, name: name.slice(prefix.length), meaning: MEANING[name] ?? '' });
  }
  for (const [bit, name, meaning] of OTHER[reg]) out.push({ bit, name, meaning });
  return out.sort((a, b) => a.bit - b.bit);
}

const CACHE = new Map<BitRegister, BitName[]>();

export function bitNames(reg: BitRegister): BitName[] {
  let v = CACHE.get(reg);
  if (!v) { v = bitsOf(reg); CACHE.set(reg, v); }
  return v;
}

/**
 * Markdown: the bits of `mask` named. `op` says how the mask is applied: OR sets them,
 * AND with a mask clears the bits the mask has 0 (`and $~0x4` clears EM), MOV writes all.
 */
export function describeBits(reg: BitRegister, mask: bigint, op: 'or' | 'and' | 'mov' | 'xor' | 'bts' | 'btr'): string {
  const m = Number(BigInt.asUintN(32, mask));
  const shown = op === 'and' ? ~m >>> 0 : m;
  const known = bitNames(reg);
  const named = known.filter((b) => (shown >>> b.bit) & 1);
  const unnamed = [];
  for (let b = 0; b < 32; b++) if ((shown >>> b) & 1 && !known.some((k) => k.bit === b)) unnamed.push(b);
  const verb = op === 'and' || op === 'btr' ? 'clears' : op === 'xor' ? 'toggles' : op === 'mov' ? 'sets (all others 0)' : 'sets';
  const list = named.map((b) => `- **${b.name}** (bit ${b.bit})${b.meaning ? `: ${b.meaning}` : ''}`);
  if (unnamed.length) list.push(`- bit${unnamed.length > 1 ? 's' : ''} ${unnamed.join(', ')} (reserved or not named)`);
  if (op === 'and' && named.length + unnamed.length > 8) return `**${reg} mask**: keeps bits ${hexBits(m)}`;
  return `**${reg}**: ${verb}\n\n${list.join('\n') || '- no bits'}\n\nSDM vol. 3, ${reg === 'EFER' ? '2.2.1' : '2.5'}.`;
}

function hexBits(m: number): string {
  const bits = [];
  for (let b = 0; b < 32; b++) if ((m >>> b) & 1) bits.push(b);
  return bits.join(', ');
}
