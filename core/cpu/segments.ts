// Descriptor tables and segment register loads (SDM vol. 3, ch. 3 and 5): descriptor
// fetch from the GDT/LDT with limit checks, the privilege and type checks of each
// kind of load, and the accessed bit.
import type { Cpu } from './cpu';
import { fault } from './fault';
import { A_DB, A_L, A_P, A_S, A_UNUSABLE, A_G, CS, SS, GP, NP, SS_VEC, TS } from './regs';

export interface Descriptor {
  lo: number;
  hi: number;
  base: number;
  limit: number;
  /** Access rights packed as in Cpu.segAttr: type, S, DPL, P, AVL, L, D/B, G. */
  attr: number;
  /** Linear address of the descriptor (to set the accessed bit). */
  addr: number;
}

export function parseDescriptor(lo: number, hi: number, addr: number): Descriptor {
  const attr = ((hi >>> 8) & 0xff) | ((hi >>> 8) & 0xf000);
  return { lo, hi, base: descriptorBase(lo, hi), limit: descriptorLimit(lo, hi, attr), attr, addr };
}

/** A code/data descriptor's base address. */
export function descriptorBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}

/** A code/data descriptor's limit in bytes (scaled by 4 KiB when G is set); `attr` as parseDescriptor packs it. */
export function descriptorLimit(lo: number, hi: number, attr: number): number {
  const limit = (lo & 0xffff) | (hi & 0xf0000);
  return attr & A_G ? ((limit << 12) | 0xfff) >>> 0 : limit;
}

export function dpl(attr: number): number {
  return (attr >> 5) & 3;
}

/** Reads the descriptor for `sel` (not null); #GP(sel) (or `vec`) if beyond the table limit. */
export function readDescriptor(c: Cpu, sel: number, vec = GP): Descriptor {
  const ti = sel & 4;
  const index = sel & 0xfff8;
  let base: number, limit: number;
  if (ti) {
    if (c.ldtAttr & A_UNUSABLE || (c.ldtSel & 0xfffc) === 0) fault(vec, sel & 0xfffc);
    base = c.ldtBase; limit = c.ldtLimit;
  } else {
    base = c.gdtBase; limit = c.gdtLimit;
  }
  if (index + 7 > limit) fault(vec, sel & 0xfffc);
  const addr = base + index;
  // Implicit supervisor accesses differ from the CPL's own only at CPL 3 (Cpu.translate, tlbFill).
  if (c.cpl !== 3) return readDescriptorAt(c, addr);
  const saved = c.sysAccess;
  c.sysAccess = true;
  try {
    return readDescriptorAt(c, addr);
  } finally {
    c.sysAccess = saved;
  }
}

function readDescriptorAt(c: Cpu, addr: number): Descriptor {
  // Both dwords in one page of RAM (the usual case): one translation, as the first read makes it.
  const pa = c.spanPa(addr, 8, 0);
  if (pa >= 0) {
    const view = c.host.phys.view;
    return parseDescriptor(view.getInt32(pa, true), view.getInt32(pa + 4, true), addr);
  }
  return parseDescriptor(c.readLin32(addr), c.readLin32(addr + 4), addr);
}

/** Reads the upper 8 bytes of a 16-byte system descriptor in long mode (base bits 63:32). */
export function readDescriptorHigh(c: Cpu, d: Descriptor): number {
  const saved = c.sysAccess;
  c.sysAccess = true;
  try { return c.readLin32(d.addr + 8); } finally { c.sysAccess = saved; }
}

/** Sets the accessed bit of a code/data descriptor (type bit 0) if clear. */
export function setAccessed(c: Cpu, d: Descriptor): void {
  if (d.attr & 1) return;
  const saved = c.sysAccess;
  c.sysAccess = true;
  try { c.writeLin8(d.addr + 5, ((d.hi >>> 8) & 0xff) | 1); } finally { c.sysAccess = saved; }
  d.attr |= 1;
}

/** MOV/POP to DS, ES, FS, GS (and SS), in any mode. */
export function loadSegment(c: Cpu, seg: number, sel: number): void {
  if (c.mode === 'real' || c.mode === 'vm86') {
    // Real mode changes only the selector and base; the hidden limit and attributes stay ("unreal mode").
    c.setSegment(seg, sel, sel * 16, c.segLimit[seg], c.mode === 'vm86' ? 0xf3 : c.segAttr[seg] & ~A_UNUSABLE | A_P);
    return;
  }
  if (seg === SS) return loadStackSegment(c, sel);
  if ((sel & 0xfffc) === 0) {
    // A null selector makes DS/ES/FS/GS unusable; the fault comes at the first use.
    c.setSegment(seg, sel, seg >= 4 && c.mode64 ? c.segBase[seg] : 0, 0, A_UNUSABLE);
    return;
  }
  const d = readDescriptor(c, sel);
  const rpl = sel & 3;
  const code = (d.attr & 8) !== 0;
  if (!(d.attr & A_S) || (code && !(d.attr & 2))) fault(GP, sel & 0xfffc);
  const conforming = code && (d.attr & 4) !== 0;
  if (!conforming && (rpl > dpl(d.attr) || c.cpl > dpl(d.attr))) fault(GP, sel & 0xfffc);
  if (!(d.attr & A_P)) fault(NP, sel & 0xfffc);
  setAccessed(c, d);
  c.setSegment(seg, sel, d.base, d.limit, d.attr);
}

export function loadStackSegment(c: Cpu, sel: number, cplForCheck = c.cpl): void {
  if ((sel & 0xfffc) === 0) {
    // 64-bit mode allows a null SS at CPL < 3 (SDM vol. 3, 5.4.1.1).
    if (c.mode64 && cplForCheck < 3 && (sel & 3) === cplForCheck) {
      c.setSegment(SS, sel, 0, 0, A_UNUSABLE | (cplForCheck << 5) | A_DB);
      return;
    }
    fault(GP, 0);
  }
  const d = readDescriptor(c, sel);
  if ((sel & 3) !== cplForCheck || dpl(d.attr) !== cplForCheck) fault(GP, sel & 0xfffc);
  if (!(d.attr & A_S) || (d.attr & 8) || !(d.attr & 2)) fault(GP, sel & 0xfffc);
  if (!(d.attr & A_P)) fault(SS_VEC, sel & 0xfffc);
  setAccessed(c, d);
  c.setSegment(SS, sel, d.base, d.limit, d.attr);
}

/**
 * Checks a code segment descriptor for a far JMP/CALL/RET or interrupt return and loads CS.
 * `newCpl` is the privilege level the CPU runs at afterwards.
 */
export function loadCodeSegment(c: Cpu, sel: number, d: Descriptor, newCpl: number): void {
  if (!(d.attr & A_S) || !(d.attr & 8)) fault(GP, sel & 0xfffc);
  if (!(d.attr & A_P)) fault(NP, sel & 0xfffc);
  if (c.mode64 || (c.efer & (1 << 10))) {
    // In IA-32e mode a code segment with both L and D set is invalid.
    if ((d.attr & A_L) && (d.attr & A_DB)) fault(GP, sel & 0xfffc);
  }
  setAccessed(c, d);
  c.setSegment(CS, (sel & 0xfffc) | newCpl, d.base, d.limit, d.attr);
}

/** Far JMP to a code segment (no gates): SDM vol. 3, 5.8.4. */
export function farJump(c: Cpu, sel: number, off: number, size: number): void {
  if (c.mode === 'real' || c.mode === 'vm86') {
    c.setSegment(CS, sel, sel * 16, c.segLimit[CS], c.segAttr[CS]);
    c.nextRip = size === 2 ? off & 0xffff : off >>> 0;
    c.updateMode();
    return;
  }
  if ((sel & 0xfffc) === 0) fault(GP, 0);
  const d = readDescriptor(c, sel);
  if (!(d.attr & A_S)) c.stopUnsupported(`far transfer through a system descriptor (type ${d.attr & 0xf}: call gate or task switch)`);
  checkCodePrivilege(c, sel, d);
  const target = size === 2 ? off & 0xffff : size === 4 ? off >>> 0 : off;
  if (!(d.attr & A_L) || !(c.efer & (1 << 10))) {
    if (target > d.limit) fault(GP, 0);
  }
  loadCodeSegment(c, sel, d, c.cpl);
  c.nextRip = target;
}

/** Same-privilege checks for a direct far JMP/CALL to a code segment. */
export function checkCodePrivilege(c: Cpu, sel: number, d: Descriptor): void {
  if (!(d.attr & 8)) fault(GP, sel & 0xfffc);
  const conforming = (d.attr & 4) !== 0;
  if (conforming ? dpl(d.attr) > c.cpl : (sel & 3) > c.cpl || dpl(d.attr) !== c.cpl) fault(GP, sel & 0xfffc);
  if (!(d.attr & A_P)) fault(NP, sel & 0xfffc);
}

/** LTR: loads the task register from an available TSS descriptor and marks it busy. */
export function loadTaskRegister(c: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0 || sel & 4) fault(GP, sel & 0xfffc);
  const d = readDescriptor(c, sel);
  const type = d.attr & 0xf;
  if (d.attr & A_S || (type !== 1 && type !== 9)) fault(GP, sel & 0xfffc);
  if (!(d.attr & A_P)) fault(NP, sel & 0xfffc);
  let base = d.base;
  if (c.efer & (1 << 10)) base += readDescriptorHigh(c, d) * 4294967296;
  const saved = c.sysAccess;
  c.sysAccess = true;
  try { c.writeLin8(d.addr + 5, ((d.hi >>> 8) & 0xff) | 2); } finally { c.sysAccess = saved; }
  c.trSel = sel; c.trBase = base; c.trLimit = d.limit; c.trAttr = d.attr | 2;
}

/** LLDT. */
export function loadLdt(c: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0) { c.ldtSel = sel; c.ldtAttr = A_UNUSABLE; return; }
  if (sel & 4) fault(GP, sel & 0xfffc);
  const d = readDescriptor(c, sel);
  if (d.attr & A_S || (d.attr & 0xf) !== 2) fault(GP, sel & 0xfffc);
  if (!(d.attr & A_P)) fault(NP, sel & 0xfffc);
  let base = d.base;
  if (c.efer & (1 << 10)) base += readDescriptorHigh(c, d) * 4294967296;
  c.ldtSel = sel; c.ldtBase = base; c.ldtLimit = d.limit; c.ldtAttr = d.attr;
}

/** Reads the stack for privilege level `level` from the current TSS (32-bit TSS; SDM 7.2.1). */
export function tssStack32(c: Cpu, level: number): { ss: number; esp: number } {
  const off = 4 + level * 8;
  if (off + 5 > c.trLimit) fault(TS, c.trSel & 0xfffc);
  const saved = c.sysAccess;
  c.sysAccess = true;
  try {
    const esp = c.readLin32(c.trBase + off) >>> 0;
    const ss = c.readLin16(c.trBase + off + 4);
    return { ss, esp };
  } finally { c.sysAccess = saved; }
}

/** Reads RSPn (ist = 0) or ISTn from the 64-bit TSS (SDM 7.7). */
export function tssStack64(c: Cpu, level: number, ist: number): number {
  const off = ist ? 0x24 + (ist - 1) * 8 : 4 + level * 8;
  if (off + 7 > c.trLimit) fault(TS, c.trSel & 0xfffc);
  const saved = c.sysAccess;
  c.sysAccess = true;
  try {
    const lo = c.readLin32(c.trBase + off) >>> 0;
    const hi = c.readLin32(c.trBase + off + 4);
    return hi * 4294967296 + lo;
  } finally { c.sysAccess = saved; }
}
