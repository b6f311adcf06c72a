// Bit instructions: BT BTS BTR BTC, BSF BSR, LZCNT TZCNT POPCNT, BSWAP, SETcc.
import { Mnemonic } from '../iced';
import { onMnemonic } from '../decode';
import type { Cpu } from '../cpu';
import type { Insn } from '../insn';
import { K_REG, K_IMM, CF, ZF, ARITH_FLAGS } from '../regs';
import { cond, materialize, szp, PARITY } from '../flags';

const BT = 0, BTS = 1, BTR = 2, BTC = 3;

function bitTest(kind: number) {
  return (c: Cpu, i: Insn): void => {
    const size = i.opSize;
    const bitsN = size * 8;
    let off: number, offHi = 0;
    if (i.k1 === K_IMM) off = i.immLo & (bitsN - 1);
    else { off = c.getReg(i.r1, size); offHi = size === 8 ? c.hi : 0; }
    let v: number, vH = 0, lin = 0, bit: number;
    if (i.k0 === K_REG) {
      bit = off & (bitsN - 1);
      v = c.getReg(i.r0, size); vH = c.hi;
    } else {
      // A register bit offset addresses memory beyond the operand (SDM "BT": signed offset).
      lin = c.memLin(i, size, kind !== BT);
      if (i.k1 !== K_IMM) {
        let signed: number;
        if (size === 2) signed = (off << 16) >> 16;
        else if (size === 4) signed = off | 0;
        else signed = offHi * 4294967296 + (off >>> 0);
        const units = Math.floor(signed / bitsN);
        lin = c.mode64 ? c.canonical(lin + units * size, i.mSeg) : (lin + units * size) >>> 0;
        bit = signed - units * bitsN;
      } else bit = off;
      v = c.readLin(lin, size); vH = c.hi;
    }
    const word = bit >= 32 ? vH : v;
    const b = bit & 31;
    const was = (word >>> b) & 1;
    materialize(c);
    c.flags = (c.flags & ~CF) | (was ? CF : 0);
    if (kind === BT) return;
    const m = 1 << b;
    const nw = kind === BTS ? word | m : kind === BTR ? word & ~m : word ^ m;
    if (bit >= 32) vH = nw; else v = nw;
    if (i.k0 === K_REG) c.setReg(i.r0, size, v, vH);
    else c.writeLin(lin, size, v, vH);
  };
}

onMnemonic(Mnemonic.Bt, bitTest(BT));
onMnemonic(Mnemonic.Bts, bitTest(BTS));
onMnemonic(Mnemonic.Btr, bitTest(BTR));
onMnemonic(Mnemonic.Btc, bitTest(BTC));

function clz32(v: number): number { return Math.clz32(v); }
function ctz32(v: number): number { return v === 0 ? 32 : 31 - Math.clz32(v & -v); }

/** Sets ZF (and CF) as LZCNT/TZCNT/POPCNT/BSF/BSR define, other arithmetic flags as given. */
function setZc(c: Cpu, f: number): void {
  materialize(c);
  c.flags = (c.flags & ~ARITH_FLAGS) | f;
}

// BSF/BSR define only ZF. This host's Intel CPU clears CF, AF, SF and OF and sets PF from the
// bit index found (from 0 when the source is zero), as a logic instruction on the index would.
onMnemonic([Mnemonic.Bsf, Mnemonic.Bsr], (c, i) => {
  const size = i.opSize;
  const v = c.readOp(i, 1), vH = size === 8 ? c.hi : 0;
  const val = size === 2 ? v & 0xffff : v;
  if ((val | vH) === 0) {
    // Source zero: ZF set, destination unchanged (Intel leaves it as it was, even a 32-bit one).
    setZc(c, ZF | PARITY[0]);
    return;
  }
  let r: number;
  if (i.mnem === Mnemonic.Bsf) r = val !== 0 ? ctz32(val) : 32 + ctz32(vH);
  else r = size === 8 && vH !== 0 ? 63 - clz32(vH) : 31 - clz32(val);
  c.setReg(i.r0, size, r, 0);
  setZc(c, PARITY[r]);
});

onMnemonic([Mnemonic.Lzcnt, Mnemonic.Tzcnt], (c, i) => {
  const size = i.opSize;
  const bitsN = size * 8;
  const v = c.readOp(i, 1), vH = size === 8 ? c.hi : 0;
  let r: number;
  if (i.mnem === Mnemonic.Lzcnt) {
    if (size === 8) r = vH !== 0 ? clz32(vH) : 32 + clz32(v);
    else if (size === 4) r = clz32(v);
    else r = (v & 0xffff) === 0 ? 16 : clz32(v & 0xffff) - 16;
  } else {
    if (size === 8) r = v !== 0 ? ctz32(v) : 32 + ctz32(vH);
    else r = Math.min(ctz32(size === 2 ? v & 0xffff : v), bitsN);
  }
  c.setReg(i.r0, size, r, 0);
  setZc(c, (r === bitsN ? CF : 0) | (r === 0 ? ZF : 0));
});

function popcnt32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

onMnemonic(Mnemonic.Popcnt, (c, i) => {
  const size = i.opSize;
  const v = c.readOp(i, 1), vH = size === 8 ? c.hi : 0;
  const r = popcnt32(size === 2 ? v & 0xffff : v) + popcnt32(vH);
  c.setReg(i.r0, size, r, 0);
  setZc(c, r === 0 ? ZF : 0);
});

onMnemonic(Mnemonic.Bswap, (c, i) => {
  const size = i.opSize;
  const sw = (x: number) => ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24)) | 0;
  if (size === 8) { const lo = c.gpr[i.r0], hi = c.gpr[i.r0 + 16]; c.setReg(i.r0, 8, sw(hi), sw(lo)); }
  else if (size === 4) c.setReg(i.r0, 4, sw(c.gpr[i.r0]));
  else c.setReg(i.r0, 2, 0); // BSWAP r16 is undefined; this host's Intel CPU zeroes the register
});

const SETCC = [Mnemonic.Seto, Mnemonic.Setno, Mnemonic.Setb, Mnemonic.Setae, Mnemonic.Sete, Mnemonic.Setne, Mnemonic.Setbe,
  Mnemonic.Seta, Mnemonic.Sets, Mnemonic.Setns, Mnemonic.Setp, Mnemonic.Setnp, Mnemonic.Setl, Mnemonic.Setge, Mnemonic.Setle, Mnemonic.Setg];
onMnemonic(SETCC, (c, i) => c.writeOp(i, 0, cond(c, i.cc) ? 1 : 0));

void szp;
