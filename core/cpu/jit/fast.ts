// Specialized interpreter handlers for the hottest instruction forms, chosen once when an
// instruction enters the decode cache. They do exactly what the generic handlers in ops/
// do for those forms (same operand reads, same lazy-flag records, same fault points),
// minus the per-execution dispatch on operand kinds and sizes. Anything not listed keeps
// its generic handler.
import { Mnemonic } from '../iced';
import type { Cpu } from '../cpu';
import type { Insn, Handler } from '../insn';
import { BRANCH_SAMPLES } from '../insn';
import { K_REG, K_MEM, K_IMM } from '../regs';
import { L_ADD, L_SUB, L_LOGIC, L_INC, L_DEC, cond, lazy, lazy64, lazyKeepCF, MASK } from '../flags';
import { byCode } from '../decode';
import { JCC } from './block';

const ADD = 0, OR = 1, AND = 4, SUB = 5, XOR = 6, CMP = 7, TEST = 8;

const ALU_OPS = new Map<number, number>([
  [Mnemonic.Add, ADD], [Mnemonic.Or, OR], [Mnemonic.And, AND], [Mnemonic.Sub, SUB],
  [Mnemonic.Xor, XOR], [Mnemonic.Cmp, CMP], [Mnemonic.Test, TEST],
]);

/** Left shift that brings a 1/2/4-byte value's sign bit to bit 31 (order-preserving on the masked bits). */
const TOP = [0, 24, 16, 0, 0];

/**
 * Condition cc (SDM vol. 1, appendix B) with fast paths for the lazy records CMP/SUB and
 * the logic/INC/DEC results leave behind; anything else goes to flags.cond.
 */
export function fastCond(c: Cpu, cc: number): boolean {
  const op = c.lop, sz = c.lsz;
  if (sz <= 4) {
    const sh = TOP[sz];
    if (op === L_SUB) {
      // For a - b: B is unsigned a < b, L is signed a < b (SF != OF), E is a == b.
      const a = c.la << sh, b = c.lb << sh;
      switch (cc) {
        case 2: return (a >>> 0) < (b >>> 0);
        case 3: return (a >>> 0) >= (b >>> 0);
        case 4: return a === b;
        case 5: return a !== b;
        case 6: return (a >>> 0) <= (b >>> 0);
        case 7: return (a >>> 0) > (b >>> 0);
        case 12: return a < b;
        case 13: return a >= b;
        case 14: return a <= b;
        case 15: return a > b;
      }
    } else if (op === L_LOGIC || op === L_INC || op === L_DEC) {
      const r = c.lres << sh;
      switch (cc) {
        case 4: return r === 0;
        case 5: return r !== 0;
        case 8: return r < 0;
        case 9: return r >= 0;
      }
    }
  }
  return cond(c, cc);
}

// ---- ALU ------------------------------------------------------------------------------------

/** 1, 2 and 4-byte ALU result with its lazy record (the generic handler's exact values). */
function alu(c: Cpu, op: number, size: number, a: number, b: number): number {
  let r: number;
  switch (op) {
    case ADD: r = a + b; lazy(c, L_ADD, size, a, b, r); break;
    case SUB: case CMP: r = a - b; lazy(c, L_SUB, size, a, b, r); break;
    case AND: case TEST: r = a & b; lazy(c, L_LOGIC, size, a, b, r); break;
    case OR: r = a | b; lazy(c, L_LOGIC, size, a, b, r); break;
    default: r = a ^ b; lazy(c, L_LOGIC, size, a, b, r); break;
  }
  return r & MASK[size];
}

let hi64 = 0;
/** 64-bit ALU: returns the low half, the high half in hi64. */
function alu64(c: Cpu, op: number, aH: number, a: number, bH: number, b: number): number {
  let lo: number, hi: number;
  switch (op) {
    case ADD: {
      const s = (a >>> 0) + (b >>> 0);
      lo = s | 0; hi = (aH + bH + (s > 0xffffffff ? 1 : 0)) | 0;
      lazy64(c, L_ADD, aH, a, bH, b, hi, lo);
      break;
    }
    case SUB: case CMP: {
      const s = (a >>> 0) - (b >>> 0);
      lo = s | 0; hi = (aH - bH - (s < 0 ? 1 : 0)) | 0;
      lazy64(c, L_SUB, aH, a, bH, b, hi, lo);
      break;
    }
    case AND: case TEST: lo = a & b; hi = aH & bH; lazy64(c, L_LOGIC, aH, a, bH, b, hi, lo); break;
    case OR: lo = a | b; hi = aH | bH; lazy64(c, L_LOGIC, aH, a, bH, b, hi, lo); break;
    default: lo = a ^ b; hi = aH ^ bH; lazy64(c, L_LOGIC, aH, a, bH, b, hi, lo); break;
  }
  hi64 = hi;
  return lo;
}

function aluHandler(op: number, i: Insn): Handler | null {
  const size = i.opSize, k0 = i.k0, k1 = i.k1;
  const writes = op !== CMP && op !== TEST;
  if (size === 4) {
    if (k0 === K_REG && k1 === K_REG) {
      return (c, i) => {
        const g = c.gpr;
        const r = alu(c, op, 4, g[i.r0], g[i.r1]);
        if (writes) { g[i.r0] = r; g[i.r0 + 16] = 0; }
      };
    }
    if (k0 === K_REG && k1 === K_IMM) {
      return (c, i) => {
        const g = c.gpr;
        const r = alu(c, op, 4, g[i.r0], i.immLo);
        if (writes) { g[i.r0] = r; g[i.r0 + 16] = 0; }
      };
    }
    if (k0 === K_REG && k1 === K_MEM) {
      return (c, i) => {
        const b = c.readLin32(c.memLin(i, 4, false));
        const g = c.gpr;
        const r = alu(c, op, 4, g[i.r0], b);
        if (writes) { g[i.r0] = r; g[i.r0 + 16] = 0; }
      };
    }
    if (k0 === K_MEM && (k1 === K_REG || k1 === K_IMM)) {
      const reg = k1 === K_REG;
      return (c, i) => {
        const b = reg ? c.gpr[i.r1] : i.immLo;
        const lin = c.memLin(i, 4, writes);
        const r = alu(c, op, 4, c.readLin32(lin), b);
        if (writes) c.writeLin32(lin, r);
      };
    }
    return null;
  }
  if (size === 8) {
    if (k0 !== K_REG || (k1 !== K_REG && k1 !== K_IMM && k1 !== K_MEM)) return null;
    return (c, i) => {
      let b: number, bH: number;
      if (i.k1 === K_REG) { b = c.gpr[i.r1]; bH = c.gpr[i.r1 + 16]; }
      else if (i.k1 === K_IMM) { b = i.immLo; bH = i.immHi; }
      else { b = c.readLin64(c.memLin(i, 8, false)); bH = c.hi; }
      const g = c.gpr;
      const lo = alu64(c, op, g[i.r0 + 16], g[i.r0], bH, b);
      if (writes) { g[i.r0] = lo; g[i.r0 + 16] = hi64; }
    };
  }
  if (size === 1) {
    // Low-byte registers only (ids 16..19 are AH..BH, left to the generic handler).
    if (k0 === K_REG && k1 === K_IMM && i.r0 < 16) {
      return (c, i) => {
        const g = c.gpr;
        const r = alu(c, op, 1, g[i.r0] & 0xff, i.immLo);
        if (writes) g[i.r0] = (g[i.r0] & ~0xff) | r;
      };
    }
    if (k0 === K_MEM && k1 === K_IMM) {
      return (c, i) => {
        const lin = c.memLin(i, 1, writes);
        const r = alu(c, op, 1, c.readLin8(lin), i.immLo);
        if (writes) c.writeLin8(lin, r);
      };
    }
  }
  return null;
}

// ---- MOV, MOVZX, INC/DEC ----------------------------------------------------------------------

function movHandler(i: Insn): Handler | null {
  const size = i.opSize, k0 = i.k0, k1 = i.k1;
  if (k0 === K_REG && size === 4) {
    if (k1 === K_REG) return (c, i) => { const g = c.gpr; g[i.r0] = g[i.r1]; g[i.r0 + 16] = 0; };
    if (k1 === K_IMM) return (c, i) => { const g = c.gpr; g[i.r0] = i.immLo; g[i.r0 + 16] = 0; };
    if (k1 === K_MEM) return (c, i) => { const v = c.readLin32(c.memLin(i, 4, false)); const g = c.gpr; g[i.r0] = v; g[i.r0 + 16] = 0; };
  }
  if (k0 === K_REG && size === 8) {
    if (k1 === K_REG) return (c, i) => { const g = c.gpr; g[i.r0] = g[i.r1]; g[i.r0 + 16] = g[i.r1 + 16]; };
    if (k1 === K_IMM) return (c, i) => { const g = c.gpr; g[i.r0] = i.immLo; g[i.r0 + 16] = i.immHi; };
    if (k1 === K_MEM) return (c, i) => { const v = c.readLin64(c.memLin(i, 8, false)); const g = c.gpr; g[i.r0] = v; g[i.r0 + 16] = c.hi; };
  }
  if (k0 === K_MEM) {
    if (size === 4 && k1 === K_REG) return (c, i) => c.writeLin32(c.memLin(i, 4, true), c.gpr[i.r1]);
    if (size === 4 && k1 === K_IMM) return (c, i) => c.writeLin32(c.memLin(i, 4, true), i.immLo);
    if (size === 8 && k1 === K_REG) return (c, i) => c.writeLin64(c.memLin(i, 8, true), c.gpr[i.r1], c.gpr[i.r1 + 16]);
    if (size === 8 && k1 === K_IMM) return (c, i) => c.writeLin64(c.memLin(i, 8, true), i.immLo, i.immHi);
    if (size === 1 && k1 === K_IMM) return (c, i) => c.writeLin8(c.memLin(i, 1, true), i.immLo);
    if (size === 1 && k1 === K_REG && i.r1 < 16) return (c, i) => c.writeLin8(c.memLin(i, 1, true), c.gpr[i.r1] & 0xff);
  }
  return null;
}

function movzxHandler(i: Insn): Handler | null {
  if (i.k0 !== K_REG || (i.s0 !== 4 && i.s0 !== 8)) return null;
  if (i.k1 === K_MEM && i.s1 === 1) return (c, i) => { const v = c.readLin8(c.memLin(i, 1, false)); c.gpr[i.r0] = v; c.gpr[i.r0 + 16] = 0; };
  if (i.k1 === K_MEM && i.s1 === 2) return (c, i) => { const v = c.readLin16(c.memLin(i, 2, false)); c.gpr[i.r0] = v; c.gpr[i.r0 + 16] = 0; };
  if (i.k1 === K_REG && i.s1 === 1 && i.r1 < 16) return (c, i) => { const g = c.gpr; g[i.r0] = g[i.r1] & 0xff; g[i.r0 + 16] = 0; };
  if (i.k1 === K_REG && i.s1 === 2) return (c, i) => { const g = c.gpr; g[i.r0] = g[i.r1] & 0xffff; g[i.r0 + 16] = 0; };
  return null;
}

function incDecHandler(i: Insn): Handler | null {
  if (i.k0 !== K_REG || i.opSize !== 4) return null;
  const inc = i.mnem === Mnemonic.Inc;
  return (c, i) => {
    const g = c.gpr;
    const a = g[i.r0];
    const r = inc ? a + 1 : a - 1;
    lazyKeepCF(c, inc ? L_INC : L_DEC, 4, a, r);
    g[i.r0] = r | 0; g[i.r0 + 16] = 0;
  };
}

function jccHandler(cc: number): Handler {
  return (c, i) => {
    const taken = fastCond(c, cc);
    // Direction statistics for the JIT's traces (cache.ts): deterministic, like the rest.
    if (i.branchSeen < BRANCH_SAMPLES) { i.branchSeen++; if (taken) i.branchTaken++; }
    if (taken) c.branch(c.rip + i.len + i.rel, i.opSize);
  };
}
const JCC_HANDLERS = Array.from({ length: 16 }, (_, cc) => jccHandler(cc));

/**
 * A specialized handler for this decoded instruction, or null to keep the generic one.
 * LOCK-prefixed forms keep the generic handler (it owns the #UD rules).
 */
export function specialize(i: Insn): Handler | null {
  if (i.lock || byCode[i.code] !== undefined) return null;
  const m = i.mnem;
  const op = ALU_OPS.get(m);
  if (op !== undefined) return aluHandler(op, i);
  if (m === Mnemonic.Mov) return movHandler(i);
  if (m === Mnemonic.Movzx) return movzxHandler(i);
  if (m === Mnemonic.Inc || m === Mnemonic.Dec) return incDecHandler(i);
  if (JCC.has(m)) return JCC_HANDLERS[i.cc];
  return null;
}
