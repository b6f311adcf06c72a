// Lazy arithmetic flags (as v86 and Bochs do): ALU instructions record their operands
// and result; CF/PF/AF/ZF/SF/OF are computed only when something reads them.
// Definitions: SDM vol. 1, 3.4.3.1 and each instruction's "Flags Affected".
import type { Cpu } from './cpu';
import { CF, PF, AF, ZF, SF, OF, ARITH_FLAGS } from './regs';

export const L_NONE = 0, L_ADD = 1, L_ADC = 2, L_SUB = 3, L_SBB = 4, L_LOGIC = 5, L_INC = 6, L_DEC = 7;

export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, p = 1;
  while (b) { p ^= b & 1; b >>>= 1; }
  PARITY[i] = p ? PF : 0;
}

export const MASK = [0, 0xff, 0xffff, 0, 0xffffffff, 0, 0, 0, 0xffffffff];
const SIGN = [0, 0x80, 0x8000, 0, 0x80000000, 0, 0, 0, 0x80000000];

/** Unsigned a < b for 64-bit values given as (hi, lo) int32 halves. */
function ult64(aHi: number, aLo: number, bHi: number, bLo: number): boolean {
  return (aHi >>> 0) < (bHi >>> 0) || (aHi === bHi && (aLo >>> 0) < (bLo >>> 0));
}

export function getCF(c: Cpu): number {
  const sz = c.lsz;
  switch (c.lop) {
    case L_NONE: case L_INC: case L_DEC: return c.flags & CF;
    case L_LOGIC: return 0;
    case L_ADD:
      if (sz === 8) return ult64(c.lresH, c.lres, c.laH, c.la) ? CF : 0;
      return (c.lres & MASK[sz]) >>> 0 < (c.la & MASK[sz]) >>> 0 ? CF : 0;
    case L_ADC:
      if (sz === 8) return ult64(c.lresH, c.lres, c.laH, c.la) || (c.lresH === c.laH && c.lres === c.la) ? CF : 0;
      return (c.lres & MASK[sz]) >>> 0 <= (c.la & MASK[sz]) >>> 0 ? CF : 0;
    case L_SUB:
      if (sz === 8) return ult64(c.laH, c.la, c.lbH, c.lb) ? CF : 0;
      return (c.la & MASK[sz]) >>> 0 < (c.lb & MASK[sz]) >>> 0 ? CF : 0;
    case L_SBB:
      if (sz === 8) return ult64(c.laH, c.la, c.lbH, c.lb) || (c.laH === c.lbH && c.la === c.lb) ? CF : 0;
      return (c.la & MASK[sz]) >>> 0 <= (c.lb & MASK[sz]) >>> 0 ? CF : 0;
  }
  return 0;
}

export function getZF(c: Cpu): number {
  if (c.lop === L_NONE) return c.flags & ZF;
  if (c.lsz === 8) return (c.lres | c.lresH) === 0 ? ZF : 0;
  return (c.lres & MASK[c.lsz]) === 0 ? ZF : 0;
}

export function getSF(c: Cpu): number {
  if (c.lop === L_NONE) return c.flags & SF;
  if (c.lsz === 8) return c.lresH < 0 ? SF : 0;
  return (c.lres & SIGN[c.lsz]) !== 0 ? SF : 0;
}

export function getPF(c: Cpu): number {
  if (c.lop === L_NONE) return c.flags & PF;
  return PARITY[c.lres & 0xff];
}

export function getAF(c: Cpu): number {
  switch (c.lop) {
    case L_NONE: return c.flags & AF;
    case L_LOGIC: return 0;
    default: return (c.la ^ c.lb ^ c.lres) & AF;
  }
}

export function getOF(c: Cpu): number {
  const sz = c.lsz;
  let a: number, b: number, r: number, sign: number;
  if (sz === 8) { a = c.laH; b = c.lbH; r = c.lresH; sign = 0x80000000; }
  else { a = c.la; b = c.lb; r = c.lres; sign = SIGN[sz]; }
  switch (c.lop) {
    case L_NONE: return c.flags & OF;
    case L_LOGIC: return 0;
    case L_ADD: case L_ADC: case L_INC: return ((a ^ r) & (b ^ r) & sign) !== 0 ? OF : 0;
    case L_SUB: case L_SBB: case L_DEC: return ((a ^ b) & (a ^ r) & sign) !== 0 ? OF : 0;
  }
  return 0;
}

/** Folds lazy flags into cpu.flags; afterwards lop is L_NONE. */
export function materialize(c: Cpu): void {
  if (c.lop === L_NONE) return;
  const f = getCF(c) | getPF(c) | getAF(c) | getZF(c) | getSF(c) | getOF(c);
  c.flags = (c.flags & ~ARITH_FLAGS) | f;
  c.lop = L_NONE;
}

/** Records an ALU result for lazy evaluation (32-bit and narrower: hi halves unused). */
export function lazy(c: Cpu, op: number, size: number, a: number, b: number, res: number): void {
  c.lop = op; c.lsz = size; c.la = a; c.lb = b; c.lres = res;
}

export function lazy64(c: Cpu, op: number, aHi: number, a: number, bHi: number, b: number, resHi: number, res: number): void {
  c.lop = op; c.lsz = 8; c.la = a; c.lb = b; c.lres = res; c.laH = aHi; c.lbH = bHi; c.lresH = resHi;
}

/** INC/DEC keep CF: capture it before recording the new operation. */
export function lazyKeepCF(c: Cpu, op: number, size: number, a: number, res: number, aHi = 0, resHi = 0): void {
  const cf = getCF(c);
  c.flags = (c.flags & ~CF) | cf;
  c.lop = op; c.lsz = size; c.la = a; c.lb = 1; c.lres = res; c.laH = aHi; c.lbH = 0; c.lresH = resHi;
}

/** Sets the six arithmetic flags eagerly. */
export function setArith(c: Cpu, f: number): void {
  c.flags = (c.flags & ~ARITH_FLAGS) | (f & ARITH_FLAGS);
  c.lop = L_NONE;
}

/** SF, ZF and PF of a result of `size` bytes (for 8 bytes pass the high half too). */
export function szp(res: number, size: number, resHi = 0): number {
  let f = PARITY[res & 0xff];
  if (size === 8) {
    if ((res | resHi) === 0) f |= ZF;
    if (resHi < 0) f |= SF;
  } else {
    if ((res & MASK[size]) === 0) f |= ZF;
    if (res & SIGN[size]) f |= SF;
  }
  return f;
}

/** Evaluates condition code cc (0..15, SDM vol. 1, appendix B). */
export function cond(c: Cpu, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(c) !== 0; break;
    case 1: r = getCF(c) !== 0; break;
    case 2: r = getZF(c) !== 0; break;
    case 3: r = getCF(c) !== 0 || getZF(c) !== 0; break;
    case 4: r = getSF(c) !== 0; break;
    case 5: r = getPF(c) !== 0; break;
    case 6: r = (getSF(c) !== 0) !== (getOF(c) !== 0); break;
    default: r = getZF(c) !== 0 || (getSF(c) !== 0) !== (getOF(c) !== 0); break;
  }
  return (cc & 1) !== 0 ? !r : r;
}
