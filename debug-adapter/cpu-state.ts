// Registers of a stopped vCPU by name, for the Variables view, expressions and setVariable:
// general registers in every width (rax/eax/ax/al), RIP/EIP, RFLAGS, segment selectors,
// control and descriptor-table registers, and the MSRs the core keeps.
import type { Cpu } from '../core/cpu/cpu';
import type { Machine } from '../core/machine';
import { CS, SEG_NAMES, GPR_NAMES64 } from '../core/cpu/regs';
import { TLB_SIZE } from '../core/cpu/mmu';

/**
 * The vCPU's TLB entries for the debugger's views (the Variables scope and the `tlb`
 * command): linear page, physical page, and rights as R W X, U or S, G(lobal), D(irty).
 */
export function tlbEntries(c: Cpu): { lin: string; pa: string; rights: string; largeKiB: number }[] {
  const out: { lin: string; pa: string; rights: string; largeKiB: number }[] = [];
  for (let k = 0; k < TLB_SIZE; k++) {
    const tag = c.tlbTag[k];
    if (Number.isNaN(tag)) continue; // empty
    const p = c.tlbPerm[k];
    const rights = `${p & 5 ? 'R' : '-'}${p & 12 ? 'W' : '-'}${p & 48 ? 'X' : '-'}${p & 2 ? 'U' : 'S'}${p & 128 ? 'G' : ''}${p & 64 ? 'D' : ''}`;
    out.push({ lin: hex(tag * 4096, 12), pa: hex(c.tlbPa[k], 10), rights, largeKiB: c.tlbLarge[k] * 4 });
  }
  return out;
}

/** The rendezvous in progress for the debugger's views (the Variables scope and the `rendezvous` command), or null. */
export function rendezvousState(m: Machine): { name: string; initiator: string; requested: number[]; done: number[]; blocking: number[] } | null {
  const r = m.vmm.rendezvous;
  if (r === null) return null;
  const set = (a: Uint8Array): number[] => [...a].flatMap((x, k) => (x ? [k] : []));
  const requested = set(r.requested);
  return {
    name: r.name,
    initiator: r.initiator >= 0 ? `vCPU ${r.initiator}${r.initiatorWaits ? ' (waiting)' : ''}` : 'host',
    requested,
    done: set(r.done),
    blocking: requested.filter((k) => !r.done[k]),
  };
}

/** A 64-bit value from the core's (lo, hi) halves. */
export function u64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** A linear address or RIP as an unsigned 64-bit number (the core keeps canonical signed numbers). */
export function addr64(v: number): bigint {
  return v < 0 ? (1n << 64n) + BigInt(v) : BigInt(v);
}

export function hex(v: bigint | number, digits = 0): string {
  const b = typeof v === 'bigint' ? v : addr64(v);
  return '0x' + b.toString(16).padStart(digits, '0');
}

const GPR32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const GPR16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const GPR8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'];
const GPR8H = ['ah', 'ch', 'dh', 'bh'];

/** index, size in bytes (8 = 64-bit), high-byte register. */
const GPR_BY_NAME = new Map<string, [number, number, boolean]>();
GPR_NAMES64.forEach((n, k) => GPR_BY_NAME.set(n, [k, 8, false]));
GPR32.forEach((n, k) => GPR_BY_NAME.set(n, [k, 4, false]));
GPR16.forEach((n, k) => GPR_BY_NAME.set(n, [k, 2, false]));
GPR8.forEach((n, k) => GPR_BY_NAME.set(n, [k, 1, false]));
GPR8H.forEach((n, k) => GPR_BY_NAME.set(n, [k, 1, true]));
for (let k = 8; k < 16; k++) {
  GPR_BY_NAME.set(`r${k}d`, [k, 4, false]);
  GPR_BY_NAME.set(`r${k}w`, [k, 2, false]);
  GPR_BY_NAME.set(`r${k}b`, [k, 1, false]);
}

export const FLAG_BITS: [string, number][] = [
  ['CF', 0], ['PF', 2], ['AF', 4], ['ZF', 6], ['SF', 7], ['TF', 8], ['IF', 9], ['DF', 10], ['OF', 11],
  ['NT', 14], ['RF', 16], ['VM', 17], ['AC', 18], ['VIF', 19], ['VIP', 20], ['ID', 21],
];

export function decodeFlags(f: number): string {
  const set = FLAG_BITS.filter(([, b]) => f & (1 << b)).map(([n]) => n);
  return `${set.join(' ') || '-'} IOPL=${(f >>> 12) & 3}`;
}

/** The register names shown for a vCPU's mode (64-bit registers in long mode). */
export function generalRegisterNames(c: Cpu): string[] {
  return c.mode64 ? [...GPR_NAMES64, 'rip', 'rflags'] : [...GPR32, 'eip', 'eflags'];
}

/** Any register or MSR the core keeps, by (lower-case) name; undefined if there is no such register. */
export function readRegister(c: Cpu, name: string): bigint | undefined {
  const n = name.toLowerCase();
  const g = GPR_BY_NAME.get(n);
  if (g !== undefined) {
    const [k, size, high] = g;
    if (size === 8) return u64(c.gpr[k], c.gpr[k + 16]);
    if (size === 4) return BigInt(c.gpr[k] >>> 0);
    if (size === 2) return BigInt(c.gpr[k] & 0xffff);
    return BigInt(high ? (c.gpr[k] >>> 8) & 0xff : c.gpr[k] & 0xff);
  }
  switch (n) {
    case 'rip': return addr64(c.rip);
    case 'eip': return BigInt(c.rip >>> 0);
    case 'ip': return BigInt(c.rip & 0xffff);
    case 'pc': return addr64(c.mode64 ? c.rip : (c.segBase[CS] + c.rip) >>> 0);
    case 'rflags': case 'eflags': case 'flags': return BigInt(c.getFlags() >>> 0);
    case 'cr0': return BigInt(c.cr0 >>> 0);
    case 'cr2': return addr64(c.cr2);
    case 'cr3': return addr64(c.cr3);
    case 'cr4': return BigInt(c.cr4 >>> 0);
    case 'cr8': return BigInt((c.host.readCr8 ? c.host.readCr8(c) : c.cr8) >>> 0);
    case 'efer': return BigInt(c.efer >>> 0);
    case 'gdtr': case 'gdtr.base': return addr64(c.gdtBase);
    case 'idtr': case 'idtr.base': return addr64(c.idtBase);
    case 'gdtr.limit': return BigInt(c.gdtLimit);
    case 'idtr.limit': return BigInt(c.idtLimit);
    case 'tr': return BigInt(c.trSel);
    case 'ldtr': return BigInt(c.ldtSel);
  }
  const seg = SEG_NAMES.indexOf(n);
  if (seg >= 0) return BigInt(c.segSel[seg]);
  const m = /^(es|cs|ss|ds|fs|gs)\.(base|limit|attr)$/.exec(n);
  if (m) {
    const s = SEG_NAMES.indexOf(m[1]);
    return m[2] === 'base' ? addr64(c.segBase[s]) : m[2] === 'limit' ? BigInt(c.segLimit[s]) : BigInt(c.segAttr[s] >>> 0);
  }
  const dr = /^dr([0-7])$/.exec(n);
  if (dr) return addr64(c.dr[Number(dr[1])]);
  return undefined;
}

export class RegisterWriteError extends Error {}

/**
 * Writes a register of a stopped vCPU: general registers through Machine.writeRegister (which
 * refuses a running vCPU), RIP and RFLAGS directly. Segment and control registers are not
 * writable here: their hidden parts and mode changes need the instructions that load them.
 */
export function writeRegister(m: Machine, vcpu: number, name: string, value: bigint): void {
  const c = m.cpus[vcpu];
  const n = name.toLowerCase();
  const v = BigInt.asUintN(64, value);
  const lo = Number(v & 0xffffffffn) | 0, hi = Number(v >> 32n) | 0;
  const g = GPR_BY_NAME.get(n);
  if (g !== undefined) {
    const [k, size, high] = g;
    const old = u64(c.gpr[k], c.gpr[k + 16]);
    let nv: bigint;
    if (size === 8) nv = v;
    // Writing a 32-bit register zero-extends, as the instructions do in 64-bit mode.
    else if (size === 4) nv = v & 0xffffffffn;
    else if (size === 2) nv = (old & ~0xffffn) | (v & 0xffffn);
    else if (high) nv = (old & ~0xff00n) | ((v & 0xffn) << 8n);
    else nv = (old & ~0xffn) | (v & 0xffn);
    if (!m.writeRegister(vcpu, k, Number(nv & 0xffffffffn) | 0, Number(nv >> 32n) | 0)) {
      throw new RegisterWriteError(`vCPU ${vcpu} is running: stop it before writing ${name}`);
    }
    return;
  }
  if (n === 'rip' || n === 'eip' || n === 'ip') {
    c.rip = c.mode64 ? Number(BigInt.asIntN(64, v)) : n === 'ip' ? lo & 0xffff : lo >>> 0;
    c.attention = true;
    return;
  }
  if (n === 'rflags' || n === 'eflags' || n === 'flags') {
    c.setFlags(lo, 0x3f7fd5);
    return;
  }
  if (readRegister(c, n) !== undefined) throw new RegisterWriteError(`${name} is read-only here (segment, control and descriptor-table registers change through guest instructions)`);
  throw new RegisterWriteError(`unknown register '${name}'`);
}

export function isRegisterName(name: string): boolean {
  return GPR_BY_NAME.has(name.toLowerCase()) || ['rip', 'eip', 'ip', 'pc', 'rflags', 'eflags', 'flags'].includes(name.toLowerCase());
}

