// Integer arithmetic and logic: ADD ADC SUB SBB CMP AND OR XOR TEST INC DEC NEG NOT,
// MUL IMUL DIV IDIV, sign extensions, XADD, CMPXCHG(8B/16B), BCD adjusts.
// Flags per each instruction's "Flags Affected" in SDM vol. 2.
import { Code, Mnemonic } from '../iced';
import { onCode, onMnemonic } from '../decode';
import type { Cpu } from '../cpu';
import type { Insn } from '../insn';
import { fault } from '../fault';
import { K_REG, K_IMM, CF, AF, ZF, OF, DE, RAX, RDX, RCX, RBX, GP } from '../regs';
import { L_ADD, L_ADC, L_SUB, L_SBB, L_LOGIC, L_INC, L_DEC, lazy, lazy64, lazyKeepCF, getCF, getAF, setArith, szp, MASK, materialize } from '../flags';
import { W, umul32, smul32, umul64, smul64, udiv128, neg128 } from './wide';

const ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7, TEST = 8;

/** Reads operand 0 for a read-modify-write; returns its value (64-bit: high in c.hi) and leaves the linear address in c.rmwLin. */
let rmwLin = 0;
function readDst(c: Cpu, i: Insn, size: number, write: boolean): number {
  if (i.k0 === K_REG) return c.getReg(i.r0, size);
  rmwLin = c.memLin(i, size, write);
  return c.readLin(rmwLin, size);
}
function writeDst(c: Cpu, i: Insn, size: number, v: number, hi: number): void {
  if (i.k0 === K_REG) c.setReg(i.r0, size, v, hi);
  else c.writeLin(rmwLin, size, v, hi);
}

function alu(op: number) {
  return (c: Cpu, i: Insn): void => {
    const size = i.opSize;
    const b = c.readOp(i, 1);
    const bH = size === 8 ? (i.k1 === K_IMM ? i.immHi : c.hi) : 0;
    const writes = op !== CMP && op !== TEST;
    const a = readDst(c, i, size, writes);
    const aH = c.hi;
    if (size === 8) return alu64(c, i, op, aH, a, bH, b, writes);
    let r: number;
    switch (op) {
      case ADD: r = a + b; lazy(c, L_ADD, size, a, b, r); break;
      case ADC: { const cin = getCF(c); r = a + b + cin; lazy(c, cin ? L_ADC : L_ADD, size, a, b, r); break; }
      case SUB: case CMP: r = a - b; lazy(c, L_SUB, size, a, b, r); break;
      case SBB: { const cin = getCF(c); r = a - b - cin; lazy(c, cin ? L_SBB : L_SUB, size, a, b, r); break; }
      case AND: case TEST: r = a & b; lazy(c, L_LOGIC, size, a, b, r); break;
      case OR: r = a | b; lazy(c, L_LOGIC, size, a, b, r); break;
      default: r = a ^ b; lazy(c, L_LOGIC, size, a, b, r); break;
    }
    if (writes) writeDst(c, i, size, r & MASK[size], 0);
  };
}

function alu64(c: Cpu, i: Insn, op: number, aH: number, a: number, bH: number, b: number, writes: boolean): void {
  let lo: number, hi: number;
  switch (op) {
    case ADD: case ADC: {
      const cin = op === ADC ? getCF(c) : 0;
      const s = (a >>> 0) + (b >>> 0) + cin;
      lo = s | 0; hi = (aH + bH + (s > 0xffffffff ? 1 : 0)) | 0;
      lazy64(c, cin ? L_ADC : L_ADD, aH, a, bH, b, hi, lo);
      break;
    }
    case SUB: case SBB: case CMP: {
      const cin = op === SBB ? getCF(c) : 0;
      const s = (a >>> 0) - (b >>> 0) - cin;
      lo = s | 0; hi = (aH - bH - (s < 0 ? 1 : 0)) | 0;
      lazy64(c, cin ? L_SBB : L_SUB, aH, a, bH, b, hi, lo);
      break;
    }
    case AND: case TEST: lo = a & b; hi = aH & bH; lazy64(c, L_LOGIC, aH, a, bH, b, hi, lo); break;
    case OR: lo = a | b; hi = aH | bH; lazy64(c, L_LOGIC, aH, a, bH, b, hi, lo); break;
    default: lo = a ^ b; hi = aH ^ bH; lazy64(c, L_LOGIC, aH, a, bH, b, hi, lo); break;
  }
  if (writes) writeDst(c, i, 8, lo, hi);
}

onMnemonic(Mnemonic.Add, alu(ADD));
onMnemonic(Mnemonic.Or, alu(OR));
onMnemonic(Mnemonic.Adc, alu(ADC));
onMnemonic(Mnemonic.Sbb, alu(SBB));
onMnemonic(Mnemonic.And, alu(AND));
onMnemonic(Mnemonic.Sub, alu(SUB));
onMnemonic(Mnemonic.Xor, alu(XOR));
onMnemonic(Mnemonic.Cmp, alu(CMP));
onMnemonic(Mnemonic.Test, alu(TEST));

onMnemonic([Mnemonic.Inc, Mnemonic.Dec], (c, i) => {
  const size = i.opSize;
  const a = readDst(c, i, size, true);
  const inc = i.mnem === Mnemonic.Inc;
  if (size === 8) {
    const aH = c.hi;
    const s = (a >>> 0) + (inc ? 1 : -1);
    const lo = s | 0, hi = (aH + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
    lazyKeepCF(c, inc ? L_INC : L_DEC, 8, a, lo, aH, hi);
    c.lbH = 0;
    writeDst(c, i, 8, lo, hi);
    return;
  }
  const r = inc ? a + 1 : a - 1;
  lazyKeepCF(c, inc ? L_INC : L_DEC, size, a, r);
  writeDst(c, i, size, r & MASK[size], 0);
});

onMnemonic(Mnemonic.Neg, (c, i) => {
  const size = i.opSize;
  const a = readDst(c, i, size, true);
  if (size === 8) {
    const aH = c.hi;
    const s = 0 - (a >>> 0);
    const lo = s | 0, hi = (0 - aH - (s < 0 ? 1 : 0)) | 0;
    lazy64(c, L_SUB, 0, 0, aH, a, hi, lo);
    writeDst(c, i, 8, lo, hi);
    return;
  }
  const r = -a;
  lazy(c, L_SUB, size, 0, a, r);
  writeDst(c, i, size, r & MASK[size], 0);
});

onMnemonic(Mnemonic.Not, (c, i) => {
  const size = i.opSize;
  const a = readDst(c, i, size, true);
  writeDst(c, i, size, ~a & MASK[size], ~c.hi);
});

// ---- multiply ----------------------------------------------------------------------------

/** MUL and one-operand IMUL: rDX:rAX = rAX * src. CF = OF = upper half significant. */
function mulOne(signed: boolean) {
  return (c: Cpu, i: Insn): void => {
    const size = i.opSize;
    const b = c.readOp(i, 0);
    const bH = c.hi;
    let over: boolean;
    let lowRes: number, lowHi = 0;
    switch (size) {
      case 1: {
        const a = c.gpr[RAX] & 0xff;
        const r = signed ? ((a << 24) >> 24) * ((b << 24) >> 24) : a * b;
        c.setReg(RAX, 2, r);
        over = signed ? r !== ((r << 24) >> 24) : (r & 0xff00) !== 0;
        lowRes = r & 0xff;
        break;
      }
      case 2: {
        const a = c.gpr[RAX] & 0xffff;
        const r = signed ? ((a << 16) >> 16) * ((b << 16) >> 16) : a * b;
        c.setReg(RAX, 2, r); c.setReg(RDX, 2, r >> 16);
        over = signed ? r !== ((r << 16) >> 16) : (r >>> 16) !== 0;
        lowRes = r & 0xffff;
        break;
      }
      case 4: {
        const a = c.gpr[RAX];
        if (signed) smul32(a, b); else umul32(a, b);
        const lo = W[0], hi = W[1];
        c.setReg(RAX, 4, lo); c.setReg(RDX, 4, hi);
        over = signed ? hi !== lo >> 31 : hi !== 0;
        lowRes = lo;
        break;
      }
      default: {
        const aL = c.gpr[RAX], aH = c.gpr[RAX + 16];
        if (signed) smul64(aH, aL, bH, b); else umul64(aH, aL, bH, b);
        c.setReg(RAX, 8, W[0], W[1]); c.setReg(RDX, 8, W[2], W[3]);
        over = signed ? W[2] !== W[1] >> 31 || W[3] !== W[1] >> 31 : (W[2] | W[3]) !== 0;
        lowRes = W[0]; lowHi = W[1];
        break;
      }
    }
    mulFlags(c, over, lowRes, lowHi, size);
  };
}

/** CF/OF from overflow; SF/ZF/PF from the low half as this host's Intel CPU leaves them; AF cleared. */
function mulFlags(c: Cpu, over: boolean, lowRes: number, lowHi: number, size: number): void {
  let f = szp(lowRes, size, lowHi) & ~ZF;
  if (over) f |= CF | OF;
  setArith(c, f);
}

onMnemonic(Mnemonic.Mul, mulOne(false));
onMnemonic(Mnemonic.Imul, (c, i) => {
  if (i.nops === 1) return imulOne(c, i);
  // Two- and three-operand forms: dst = src1 * src2, truncated.
  const size = i.opSize;
  let a: number, aH: number, b: number, bH: number;
  if (i.nops === 2) { a = c.readOp(i, 0); aH = c.hi; b = c.readOp(i, 1); bH = c.hi; }
  else { a = c.readOp(i, 1); aH = c.hi; b = i.immLo; bH = i.immHi; }
  let over: boolean, lo: number, hi = 0;
  if (size === 2) {
    const r = ((a << 16) >> 16) * ((b << 16) >> 16);
    lo = r & 0xffff; over = r !== ((r << 16) >> 16);
  } else if (size === 4) {
    smul32(a, b); lo = W[0]; over = W[1] !== lo >> 31;
  } else {
    smul64(aH, a, bH, b); lo = W[0]; hi = W[1];
    over = W[2] !== hi >> 31 || W[3] !== hi >> 31;
  }
  c.setReg(i.r0, size, lo, hi);
  mulFlags(c, over, lo, hi, size);
});
const imulOne = mulOne(true);

// ---- divide ------------------------------------------------------------------------------

function divide(signed: boolean) {
  return (c: Cpu, i: Insn): void => {
    const size = i.opSize;
    const d = c.readOp(i, 0);
    const dH = c.hi;
    switch (size) {
      case 1: {
        const n = c.gpr[RAX] & 0xffff;
        if ((d & 0xff) === 0) fault(DE);
        let q: number, r: number;
        if (signed) {
          const nn = (n << 16) >> 16, dd = (d << 24) >> 24;
          q = Math.trunc(nn / dd); r = nn - q * dd;
          if (q > 127 || q < -128) fault(DE);
        } else {
          q = Math.floor(n / d); r = n - q * d;
          if (q > 0xff) fault(DE);
        }
        c.setReg(RAX, 2, (q & 0xff) | ((r & 0xff) << 8));
        break;
      }
      case 2: {
        const n = ((c.gpr[RDX] & 0xffff) << 16 | (c.gpr[RAX] & 0xffff)) >>> 0;
        if ((d & 0xffff) === 0) fault(DE);
        let q: number, r: number;
        if (signed) {
          const nn = n | 0, dd = (d << 16) >> 16;
          q = Math.trunc(nn / dd); r = nn - q * dd;
          if (q > 32767 || q < -32768) fault(DE);
        } else {
          q = Math.floor(n / d); r = n - q * d;
          if (q > 0xffff) fault(DE);
        }
        c.setReg(RAX, 2, q); c.setReg(RDX, 2, r);
        break;
      }
      case 4: {
        const nL = c.gpr[RAX], nH = c.gpr[RDX];
        if (d === 0) fault(DE);
        if (!signed) {
          if (!udiv128(0, 0, nH, nL, 0, d)) fault(DE);
          if (W[1] !== 0) fault(DE);
          c.setReg(RAX, 4, W[0]); c.setReg(RDX, 4, W[2]);
        } else {
          const negN = nH < 0, negD = d < 0;
          let aH = nH, aL = nL;
          if (negN) { const s = (~nL >>> 0) + 1; aL = s | 0; aH = (~nH + (s > 0xffffffff ? 1 : 0)) | 0; }
          const ad = negD ? -d : d;
          if (!udiv128(0, 0, aH, aL, 0, ad)) fault(DE);
          if (W[1] !== 0) fault(DE);
          let q = W[0] >>> 0, r = W[2] >>> 0;
          const qNeg = negN !== negD;
          if (qNeg ? q > 0x80000000 : q > 0x7fffffff) fault(DE);
          if (qNeg) q = -q;
          if (negN) r = -r;
          c.setReg(RAX, 4, q | 0); c.setReg(RDX, 4, r | 0);
        }
        break;
      }
      default: {
        const n0 = c.gpr[RAX], n1 = c.gpr[RAX + 16], n2 = c.gpr[RDX], n3 = c.gpr[RDX + 16];
        if ((d | dH) === 0) fault(DE);
        if (!signed) {
          if (!udiv128(n3, n2, n1, n0, dH, d)) fault(DE);
          c.setReg(RAX, 8, W[0], W[1]); c.setReg(RDX, 8, W[2], W[3]);
        } else {
          const negN = n3 < 0, negD = dH < 0;
          let a3 = n3, a2 = n2, a1 = n1, a0 = n0;
          if (negN) { neg128(n3, n2, n1, n0); a0 = W[0]; a1 = W[1]; a2 = W[2]; a3 = W[3]; }
          let e1 = dH, e0 = d;
          if (negD) { neg128(-1, -1, dH, d); e0 = W[0]; e1 = W[1]; }
          if (!udiv128(a3, a2, a1, a0, e1, e0)) fault(DE);
          let q0 = W[0], q1 = W[1], r0 = W[2], r1 = W[3];
          const qNeg = negN !== negD;
          // Quotient must fit in a signed 64-bit value.
          if (qNeg ? (q1 >>> 0) > 0x80000000 || (q1 === (0x80000000 | 0) && q0 !== 0) : q1 < 0) fault(DE);
          if (qNeg) { neg128(0, 0, q1, q0); q0 = W[0]; q1 = W[1]; }
          if (negN) { neg128(0, 0, r1, r0); r0 = W[0]; r1 = W[1]; }
          c.setReg(RAX, 8, q0, q1); c.setReg(RDX, 8, r0, r1);
        }
        break;
      }
    }
    // Flags are undefined after DIV/IDIV; this host's Intel CPU leaves them unchanged.
  };
}

onMnemonic(Mnemonic.Div, divide(false));
onMnemonic(Mnemonic.Idiv, divide(true));

// ---- sign extension ----------------------------------------------------------------------

onMnemonic(Mnemonic.Cbw, (c) => c.setReg(RAX, 2, (c.gpr[RAX] << 24) >> 24));
onMnemonic(Mnemonic.Cwde, (c) => c.setReg(RAX, 4, (c.gpr[RAX] << 16) >> 16));
onMnemonic(Mnemonic.Cdqe, (c) => c.setReg(RAX, 8, c.gpr[RAX], c.gpr[RAX] >> 31));
onMnemonic(Mnemonic.Cwd, (c) => c.setReg(RDX, 2, (c.gpr[RAX] << 16) >> 31));
onMnemonic(Mnemonic.Cdq, (c) => c.setReg(RDX, 4, c.gpr[RAX] >> 31));
onMnemonic(Mnemonic.Cqo, (c) => { const s = c.gpr[RAX + 16] >> 31; c.setReg(RDX, 8, s, s); });

// ---- exchange-and-add, compare-and-exchange ----------------------------------------------

onMnemonic(Mnemonic.Xadd, (c, i) => {
  const size = i.opSize;
  const b = c.getReg(i.r1, size), bH = c.hi;
  const a = readDst(c, i, size, true), aH = c.hi;
  let lo: number, hi = 0;
  if (size === 8) {
    const s = (a >>> 0) + (b >>> 0);
    lo = s | 0; hi = (aH + bH + (s > 0xffffffff ? 1 : 0)) | 0;
    lazy64(c, L_ADD, aH, a, bH, b, hi, lo);
  } else {
    lo = (a + b) & MASK[size];
    lazy(c, L_ADD, size, a, b, lo);
  }
  // SDM: SRC := DEST, then DEST := SUM (so XADD r, r with one register leaves the sum);
  // a memory destination is written first so a fault leaves the register untouched.
  if (i.k0 === K_REG) {
    c.setReg(i.r1, size, a, aH);
    c.setReg(i.r0, size, lo, hi);
  } else {
    writeDst(c, i, size, lo, hi);
    c.setReg(i.r1, size, a, aH);
  }
});

onMnemonic(Mnemonic.Cmpxchg, (c, i) => {
  const size = i.opSize;
  const acc = c.getReg(RAX, size), accH = c.hi;
  const dst = readDst(c, i, size, true), dstH = c.hi;
  if (size === 8) {
    const s = (acc >>> 0) - (dst >>> 0);
    lazy64(c, L_SUB, accH, acc, dstH, dst, (accH - dstH - (s < 0 ? 1 : 0)) | 0, s | 0);
  } else {
    lazy(c, L_SUB, size, acc, dst, acc - dst);
  }
  const equal = size === 8 ? acc === dst && accH === dstH : ((acc ^ dst) & MASK[size]) === 0;
  if (equal) {
    const src = c.getReg(i.r1, size);
    writeDst(c, i, size, src, c.hi);
  } else {
    // On failure a memory destination is written back unchanged (the locked cycle always
    // writes, SDM vol. 2 CMPXCHG); a register destination is not written at all, so a 32-bit
    // one keeps bits 63:32 (as this host's Intel CPU does). Then the accumulator is loaded.
    if (i.k0 !== K_REG) writeDst(c, i, size, dst, dstH);
    c.setReg(RAX, size, dst, dstH);
  }
});

onMnemonic([Mnemonic.Cmpxchg8b, Mnemonic.Cmpxchg16b], (c, i) => {
  if (i.mnem === Mnemonic.Cmpxchg8b) {
    const lin = c.memLin(i, 8, true);
    const lo = c.readLin32(lin), hi = c.readLin32(lin + 4);
    materialize(c);
    if (lo === c.gpr[RAX] && hi === c.gpr[RDX]) {
      c.writeLin64(lin, c.gpr[RBX], c.gpr[RCX]);
      c.flags |= ZF;
    } else {
      c.writeLin64(lin, lo, hi);
      c.setReg(RAX, 4, lo); c.setReg(RDX, 4, hi);
      c.flags &= ~ZF;
    }
    return;
  }
  const lin = c.memLin(i, 16, true);
  if (lin % 16 !== 0) fault(GP, 0);
  const q0 = c.readLin64(lin), q0h = c.hi, q1 = c.readLin64(lin + 8), q1h = c.hi;
  materialize(c);
  if (q0 === c.gpr[RAX] && q0h === c.gpr[RAX + 16] && q1 === c.gpr[RDX] && q1h === c.gpr[RDX + 16]) {
    c.writeLin64(lin, c.gpr[RBX], c.gpr[RBX + 16]);
    c.writeLin64(lin + 8, c.gpr[RCX], c.gpr[RCX + 16]);
    c.flags |= ZF;
  } else {
    c.writeLin64(lin, q0, q0h); c.writeLin64(lin + 8, q1, q1h);
    c.setReg(RAX, 8, q0, q0h); c.setReg(RDX, 8, q1, q1h);
    c.flags &= ~ZF;
  }
});

// ---- BCD adjusts (not valid in 64-bit mode: iced decodes them as invalid there) -----------

onMnemonic(Mnemonic.Daa, (c) => {
  const al = c.gpr[RAX] & 0xff, cf = getCF(c), af = getAF(c);
  let r = al, newCf = 0, newAf = 0;
  if ((al & 0xf) > 9 || af) { r += 6; newAf = AF; newCf = cf || r > 0xff ? CF : 0; }
  if (al > 0x99 || cf) { r += 0x60; newCf = CF; }
  c.setReg(RAX, 1, r);
  setArith(c, szp(r & 0xff, 1) | newCf | newAf);
});
onMnemonic(Mnemonic.Das, (c) => {
  const al = c.gpr[RAX] & 0xff, cf = getCF(c), af = getAF(c);
  let r = al, newCf = 0, newAf = 0;
  if ((al & 0xf) > 9 || af) { r -= 6; newAf = AF; newCf = cf || al < 6 ? CF : 0; }
  if (al > 0x99 || cf) { r -= 0x60; newCf = CF; }
  c.setReg(RAX, 1, r);
  setArith(c, szp(r & 0xff, 1) | newCf | newAf);
});
// AAA: AX += 0x106, AAS: AX -= 6 and AH -= 1 (so a borrow out of AL reaches AH too), when the
// low nibble is above 9 or AF is set; AL keeps its low nibble. SF/ZF/PF/OF are undefined: this
// host's Intel CPU sets SF, ZF and PF from the final AL and clears OF.
onMnemonic([Mnemonic.Aaa, Mnemonic.Aas], (c, i) => {
  const ax = c.gpr[RAX] & 0xffff;
  const add = i.mnem === Mnemonic.Aaa;
  let r = ax, f = 0;
  if ((ax & 0xf) > 9 || getAF(c)) {
    r = add ? ax + 0x106 : ax - 6 - 0x100;
    f = AF | CF;
  }
  r &= 0xff0f;
  c.setReg(RAX, 2, r);
  setArith(c, f | szp(r & 0xff, 1));
});
onMnemonic(Mnemonic.Aam, (c, i) => {
  const base = i.immLo & 0xff;
  if (base === 0) fault(DE);
  const al = c.gpr[RAX] & 0xff;
  const r = ((Math.floor(al / base) & 0xff) << 8) | (al % base);
  c.setReg(RAX, 2, r);
  setArith(c, szp(r & 0xff, 1));
});
// AAD: AL = AL + AH * imm8, AH = 0. OF, AF and CF are undefined: this host's Intel CPU sets
// them, with SF/ZF/PF, as the 8-bit addition of AL and the low byte of AH * imm8 would.
onMnemonic(Mnemonic.Aad, (c, i) => {
  const ax = c.gpr[RAX];
  const al = ax & 0xff, prod = (((ax >> 8) & 0xff) * (i.immLo & 0xff)) & 0xff;
  const r = al + prod;
  c.setReg(RAX, 2, r & 0xff);
  lazy(c, L_ADD, 1, al, prod, r);
});

void Code; void onCode; void L_LOGIC;
