// Shifts and rotates: SHL/SAL SHR SAR ROL ROR RCL RCR SHLD SHRD (SDM vol. 2, "SAL/SAR/SHL/SHR",
// "RCL/RCR/ROL/ROR", "SHLD", "SHRD"). Counts are masked to 5 bits (6 with 64-bit operands);
// a masked count of 0 changes no flags. Flags the SDM leaves undefined (OF for counts above 1,
// AF) follow this host's Intel CPU, as test/core/cpu/native/ checks case by case.
import { Mnemonic } from '../iced';
import { onMnemonic } from '../decode';
import type { Cpu } from '../cpu';
import type { Insn } from '../insn';
import { K_REG, K_IMM, CF, OF, ARITH_FLAGS, RCX } from '../regs';
import { getCF, materialize, szp, MASK } from '../flags';

let lin = 0;
function readDst(c: Cpu, i: Insn, size: number): number {
  if (i.k0 === K_REG) return c.getReg(i.r0, size);
  lin = c.memLin(i, size, true);
  return c.readLin(lin, size);
}
function writeDst(c: Cpu, i: Insn, size: number, v: number, hi: number): void {
  if (i.k0 === K_REG) c.setReg(i.r0, size, v, hi);
  else c.writeLin(lin, size, v, hi);
}

/** The count operand: an immediate, CL, or the implicit 1 of the D0/D1 forms. */
function count(c: Cpu, i: Insn, n: number): number {
  const k = n === 1 ? i.k1 : i.k2;
  if (k === K_IMM) return (n === 2 && i.k1 === K_IMM ? i.imm2 : i.immLo) & 0xff;
  if (k === K_REG) return c.gpr[RCX] & 0xff;
  return 1;
}

// 64-bit helpers on (hi, lo); results in rHi/rLo.
let rHi = 0, rLo = 0;
function shl64(hi: number, lo: number, n: number): void {
  if (n === 0) { rHi = hi; rLo = lo; } else if (n < 32) { rHi = (hi << n) | (lo >>> (32 - n)); rLo = lo << n; } else { rHi = n < 64 ? lo << (n - 32) : 0; rLo = 0; }
}
function shr64(hi: number, lo: number, n: number): void {
  if (n === 0) { rHi = hi; rLo = lo; } else if (n < 32) { rLo = (lo >>> n) | (hi << (32 - n)); rHi = hi >>> n; } else { rLo = n < 64 ? hi >>> (n - 32) : 0; rHi = 0; }
  rHi |= 0; rLo |= 0;
}
function sar64(hi: number, lo: number, n: number): void {
  if (n === 0) { rHi = hi; rLo = lo; } else if (n < 32) { rLo = (lo >>> n) | (hi << (32 - n)); rHi = hi >> n; } else { rLo = hi >> (n - 32); rHi = hi >> 31; }
  rLo |= 0;
}
function bit64(hi: number, lo: number, b: number): number {
  return b >= 32 ? (hi >>> (b - 32)) & 1 : (lo >>> b) & 1;
}

/** Bit (width - 2) of a value, the bit a 1-bit left shift moves into the sign. */
function top2(a: number, aH: number, size: number): number {
  return size === 8 ? (aH >>> 30) & 1 : (a >>> (size * 8 - 2)) & 1;
}

function setFlags(c: Cpu, keep: number, f: number): void {
  materialize(c);
  c.flags = (c.flags & ~(ARITH_FLAGS & ~keep)) | (f & ARITH_FLAGS & ~keep);
}

const SHL = 0, SHR = 1, SAR = 2;

function shift(kind: number) {
  return (c: Cpu, i: Insn): void => {
    const size = i.opSize;
    const bitsN = size * 8;
    const n = count(c, i, 1) & (size === 8 ? 63 : 31);
    const a = readDst(c, i, size);
    const aH = c.hi;
    if (n === 0) { writeDst(c, i, size, a, aH); return; }
    let lo: number, hi = 0, cf: number;
    if (size === 8) {
      if (kind === SHL) { shl64(aH, a, n); cf = bit64(aH, a, 64 - n); }
      else if (kind === SHR) { shr64(aH, a, n); cf = bit64(aH, a, n - 1); }
      else { sar64(aH, a, n); cf = bit64(aH, a, n - 1); }
      lo = rLo; hi = rHi;
    } else {
      const u = a & MASK[size];
      if (kind === SHL) {
        lo = n < 32 ? (u << n) & MASK[size] : 0;
        cf = n <= bitsN ? (u >>> (bitsN - n)) & 1 : 0;
      } else if (kind === SHR) {
        lo = n < 32 ? u >>> n : 0;
        cf = n <= bitsN ? (u >>> (n - 1)) & 1 : 0;
      } else {
        const sgn = (u << (32 - bitsN)) >> (32 - bitsN);
        lo = (sgn >> Math.min(n, 31)) & MASK[size];
        cf = (sgn >> Math.min(n - 1, 31)) & 1;
      }
      lo |= 0;
    }
    const origMsb = size === 8 ? aH >>> 31 : (a >>> (bitsN - 1)) & 1;
    // OF is defined for 1-bit shifts only; for larger counts Intel CPUs still give the 1-bit
    // answer from the original operand (SHL: its top two bits differ; SHR: its top bit).
    const of = kind === SHL ? origMsb ^ top2(a, aH, size) : kind === SHR ? origMsb : 0;
    writeDst(c, i, size, lo, hi);
    // AF is undefined for a nonzero count: this host's Intel CPU clears it.
    setFlags(c, 0, szp(lo, size, hi) | (cf ? CF : 0) | (of ? OF : 0));
  };
}

onMnemonic([Mnemonic.Shl, Mnemonic.Sal], shift(SHL));
onMnemonic(Mnemonic.Shr, shift(SHR));
onMnemonic(Mnemonic.Sar, shift(SAR));

function rotate(left: boolean) {
  return (c: Cpu, i: Insn): void => {
    const size = i.opSize;
    const bitsN = size * 8;
    const masked = count(c, i, 1) & (size === 8 ? 63 : 31);
    const a = readDst(c, i, size);
    const aH = c.hi;
    if (masked === 0) { writeDst(c, i, size, a, aH); return; }
    const n = masked % bitsN;
    let lo: number, hi = 0;
    if (size === 8) {
      if (left) { shl64(aH, a, n); const l = rLo, h = rHi; shr64(aH, a, (64 - n) % 64); lo = n ? l | rLo : a; hi = n ? h | rHi : aH; }
      else { shr64(aH, a, n); const l = rLo, h = rHi; shl64(aH, a, (64 - n) % 64); lo = n ? l | rLo : a; hi = n ? h | rHi : aH; }
    } else {
      const u = a & MASK[size];
      lo = n === 0 ? u : left ? ((u << n) | (u >>> (bitsN - n))) & MASK[size] : ((u >>> n) | (u << (bitsN - n))) & MASK[size];
      lo |= 0;
    }
    const msb = size === 8 ? hi >>> 31 : (lo >>> (bitsN - 1)) & 1;
    const cf = left ? lo & 1 : msb;
    // OF is defined for 1-bit rotates; for any count Intel CPUs give the 1-bit answer from the
    // original operand: ROL, its top two bits differ; ROR, its top and bottom bits differ.
    const origMsb = size === 8 ? aH >>> 31 : (a >>> (bitsN - 1)) & 1;
    const of = left ? origMsb ^ top2(a, aH, size) : origMsb ^ (a & 1);
    writeDst(c, i, size, lo, hi);
    // ROL/ROR change only CF and OF; with an immediate count other than 1 this host's Intel
    // CPU leaves OF alone (the CL form computes it as above).
    const keepOf = i.k1 === K_IMM && masked !== 1;
    setFlags(c, keepOf ? ~CF : ~(CF | OF), (cf ? CF : 0) | (of ? OF : 0));
  };
}

onMnemonic(Mnemonic.Rol, rotate(true));
onMnemonic(Mnemonic.Ror, rotate(false));

function rotateCarry(left: boolean) {
  return (c: Cpu, i: Insn): void => {
    const size = i.opSize;
    const bitsN = size * 8;
    const masked = count(c, i, 1) & (size === 8 ? 63 : 31);
    const n = size <= 2 ? masked % (bitsN + 1) : masked;
    const a = readDst(c, i, size);
    const aH = c.hi;
    let cf = getCF(c) ? 1 : 0;
    if (n === 0) { writeDst(c, i, size, a, aH); return; }
    let lo = size === 8 ? a : a & MASK[size], hi = size === 8 ? aH : 0;
    const oldMsb = size === 8 ? aH >>> 31 : (lo >>> (bitsN - 1)) & 1;
    const oldCf = cf;
    for (let k = 0; k < n; k++) {
      if (left) {
        const out = size === 8 ? hi >>> 31 : (lo >>> (bitsN - 1)) & 1;
        if (size === 8) { hi = (hi << 1) | (lo >>> 31); lo = (lo << 1) | cf; }
        else lo = ((lo << 1) | cf) & MASK[size];
        cf = out;
      } else {
        const out = lo & 1;
        if (size === 8) { lo = (lo >>> 1) | (hi << 31); hi = (hi >>> 1) | (cf << 31); }
        else lo = (lo >>> 1) | (cf << (bitsN - 1));
        cf = out;
      }
    }
    lo |= 0; hi |= 0;
    // OF as for a 1-bit rotate of the original operand, whatever the count (Intel behaviour):
    // RCL, its top two bits differ; RCR, its top bit differs from the old CF.
    const of = left ? oldMsb ^ top2(a, aH, size) : oldMsb ^ oldCf;
    writeDst(c, i, size, lo, hi);
    setFlags(c, ~(CF | OF), (cf ? CF : 0) | (of ? OF : 0));
  };
}

onMnemonic(Mnemonic.Rcl, rotateCarry(true));
onMnemonic(Mnemonic.Rcr, rotateCarry(false));

/** SHLD/SHRD: shift dst, filling from src. */
function doubleShift(left: boolean) {
  return (c: Cpu, i: Insn): void => {
    const size = i.opSize;
    const bitsN = size * 8;
    const n = count(c, i, 2) & (size === 8 ? 63 : 31);
    const src = c.getReg(i.r1, size), srcH = c.hi;
    const a = readDst(c, i, size);
    const aH = c.hi;
    if (n === 0) { writeDst(c, i, size, a, aH); return; }
    let lo: number, hi = 0, cf: number;
    if (size === 8) {
      if (left) {
        shl64(aH, a, n); const l = rLo, h = rHi; shr64(srcH, src, 64 - n);
        lo = l | rLo; hi = h | rHi; cf = bit64(aH, a, 64 - n);
      } else {
        shr64(aH, a, n); const l = rLo, h = rHi; shl64(srcH, src, 64 - n);
        lo = l | rLo; hi = h | rHi; cf = bit64(aH, a, n - 1);
      }
    } else if (size === 4) {
      const u = a >>> 0, s = src >>> 0;
      if (left) { lo = (u << n) | (s >>> (32 - n)); cf = (u >>> (32 - n)) & 1; }
      else { lo = (u >>> n) | (s << (32 - n)); cf = (u >>> (n - 1)) & 1; }
    } else {
      // 16-bit: shift the 32-bit concatenation (counts above 16 give what this host gives: the
      // pattern repeats through the source, then the destination again).
      const u = a & 0xffff, s = src & 0xffff;
      if (left) {
        const cat = [u, s, u];
        let v = 0, out = 0;
        for (let k = 0; k < 16; k++) {
          const bitIndex = 47 - k - n; // bit position in the 48-bit u:s:u string, from the top
          const word = cat[2 - Math.floor(bitIndex / 16)] ?? 0;
          v = (v << 1) | ((word >>> (bitIndex % 16)) & 1);
        }
        const outIndex = 48 - n;
        out = (cat[2 - Math.floor(outIndex / 16)] >>> (outIndex % 16)) & 1;
        lo = v; cf = out;
      } else {
        const cat = [u, s, u]; // little end first: bits 0-15 u, 16-31 s, 32-47 u
        let v = 0;
        for (let k = 0; k < 16; k++) {
          const bitIndex = k + n;
          v |= ((cat[Math.floor(bitIndex / 16) % 3] >>> (bitIndex % 16)) & 1) << k;
        }
        const outIndex = n - 1;
        cf = (cat[Math.floor(outIndex / 16) % 3] >>> (outIndex % 16)) & 1;
        lo = v;
      }
    }
    lo |= 0;
    // OF as for a 1-bit shift, whatever the count (Intel behaviour): the sign changes when the
    // bit shifted into it (SHLD: the destination's next bit; SHRD: the source's bit 0) differs.
    const origMsb = size === 8 ? aH >>> 31 : (a >>> (bitsN - 1)) & 1;
    const of = origMsb ^ (left ? top2(a, aH, size) : src & 1);
    writeDst(c, i, size, size === 2 ? lo & 0xffff : lo, hi);
    setFlags(c, 0, szp(lo, size, hi) | (cf ? CF : 0) | (of ? OF : 0));
  };
}

onMnemonic(Mnemonic.Shld, doubleShift(true));
onMnemonic(Mnemonic.Shrd, doubleShift(false));
